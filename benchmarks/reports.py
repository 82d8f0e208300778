"""Workload: the reports page and each export for the LA with the largest register, over the whole
data set (at national scale 100,000 audits, 1.2M section judgements), every LA sharing its grades
so the national benchmark pools all the others' audits.

Ours is the service the page and the export views call. The floor is the least work that gives
the same numbers: for the page, bare GROUP BY queries (the LA's grades by section, its Good
criteria ticked, every other LA's grades by section and LA) with no comparison, statistics or
previous cycle; for an export, the same rows selected bare and written by the same writer
(csv or openpyxl) without labels or neutralising.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from sqlalchemy import and_, case, func, literal, select, union_all, update
from sqlmodel import Session

from audit_workflow.audits.models import Audit, SectionJudgement
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.cycles.models import Assignment
from audit_workflow.framework import SECTION_CODES, default_framework
from audit_workflow.plans.models import Plan
from audit_workflow.reports import service
from audit_workflow.reports.aggregates import good_criteria_ids
from audit_workflow.reports.benchmarking import MIN_CONTRIBUTORS
from audit_workflow.reports.exports import EXPORTS, render_export
from audit_workflow.reports.filters import ReportFilter

from .harness import Bench, Result, median_seconds, ratio_at_most

GOAL_RATIO = 1.5
AUDIT, JUDGEMENT, ASSIGNMENT, PLAN = Audit.__table__, SectionJudgement.__table__, Assignment.__table__, Plan.__table__


def _in_scope(la_condition):
    return (AUDIT.join(ASSIGNMENT, ASSIGNMENT.c.id == AUDIT.c.assignment_id),
            and_(la_condition, AUDIT.c.status == "submitted", ASSIGNMENT.c.kind == "primary"))


def _page_floor(connection, la_id) -> dict:
    """The page's numbers by bare GROUP BY: own grades, own Good criteria ticked, others' grades."""
    joined, own = _in_scope(AUDIT.c.la_id == la_id)
    grades = connection.execute(union_all(
        select(literal("overall"), AUDIT.c.overall_grade, func.count()).select_from(joined).where(own)
        .group_by(AUDIT.c.overall_grade),
        select(JUDGEMENT.c.section_code, JUDGEMENT.c.grade, func.count())
        .select_from(joined.join(JUDGEMENT, JUDGEMENT.c.audit_id == AUDIT.c.id)).where(own)
        .group_by(JUDGEMENT.c.section_code, JUDGEMENT.c.grade),
    )).all()
    criteria = [criterion for ids in good_criteria_ids(default_framework()).values() for criterion in ids]
    ticked = connection.execute(
        select(JUDGEMENT.c.section_code, func.count(),
               *(func.sum(case((JUDGEMENT.c.ticked.contains(f'"{criterion}"'), 1), else_=0)) for criterion in criteria))
        .select_from(joined.join(JUDGEMENT, JUDGEMENT.c.audit_id == AUDIT.c.id))
        .where(own, JUDGEMENT.c.grade.in_(("outstanding", "good", "requires_improvement", "inadequate")))
        .group_by(JUDGEMENT.c.section_code)
    ).all()
    joined, others = _in_scope(AUDIT.c.la_id != la_id)
    pooled = connection.execute(union_all(
        select(literal("overall"), AUDIT.c.overall_grade, AUDIT.c.la_id, func.count()).select_from(joined).where(others)
        .group_by(AUDIT.c.overall_grade, AUDIT.c.la_id),
        select(JUDGEMENT.c.section_code, JUDGEMENT.c.grade, AUDIT.c.la_id, func.count())
        .select_from(joined.join(JUDGEMENT, JUDGEMENT.c.audit_id == AUDIT.c.id)).where(others)
        .group_by(JUDGEMENT.c.section_code, JUDGEMENT.c.grade, AUDIT.c.la_id),
    )).all()
    overall = [row for row in pooled if row[0] == "overall"]
    shown = len({row[2] for row in overall}) >= MIN_CONTRIBUTORS  # small scales have too few LAs
    return {"grades": sum(row[2] for row in grades), "ticked_rows": len(ticked),
            "pooled": sum(row[3] for row in overall) if shown else None}


def _our_page(db: Session, la: LocalAuthority) -> dict:
    page = service.report_page(db, la, ReportFilter())
    national = page.benchmarks[0].distribution
    distributions = page.results.distributions
    return {"grades": sum(d.total + d.not_applicable for d in distributions.values()),
            "ticked_rows": sum(1 for code in SECTION_CODES if distributions[code].total),
            "pooled": national.total + national.not_applicable if national else None}


def _export_floor_rows(connection, la_id) -> list[tuple]:
    """Each audit's facts and its section grades and ticks, pivoted by one GROUP BY."""
    joined, own = _in_scope(AUDIT.c.la_id == la_id)
    pivot = [func.max(case((JUDGEMENT.c.section_code == code, column))) for code in SECTION_CODES
             for column in (JUDGEMENT.c.grade, JUDGEMENT.c.ticked)]
    return connection.execute(
        select(AUDIT.c.id, PLAN.c.system_id, PLAN.c.key_stage, PLAN.c.primary_need, PLAN.c.setting_type, PLAN.c.plan_type,
               AUDIT.c.submitted_at, AUDIT.c.overall_grade, *pivot)
        .select_from(joined.join(PLAN, PLAN.c.id == ASSIGNMENT.c.plan_id).join(JUDGEMENT, JUDGEMENT.c.audit_id == AUDIT.c.id))
        .where(own)
        .group_by(AUDIT.c.id, PLAN.c.system_id, PLAN.c.key_stage, PLAN.c.primary_need, PLAN.c.setting_type,
                  PLAN.c.plan_type, AUDIT.c.submitted_at, AUDIT.c.overall_grade)
        .order_by(PLAN.c.system_id)
    ).all()


def _floor_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _floor_xlsx(rows) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append([str(row[0]), *row[1:6], row[6].replace(tzinfo=None), *row[7:]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def measure(bench: Bench) -> list[Result]:
    with bench.engine.begin() as connection:  # every LA shares, so the benchmark pools them all
        connection.execute(update(LocalAuthority.__table__).values(benchmark_opt_in=True))
    la_id = bench.dataset.largest.la_id

    def ours_page():
        with Session(bench.engine) as db:
            return _our_page(db, db.get(LocalAuthority, la_id))

    def floor_page():
        with bench.engine.connect() as connection:
            return _page_floor(connection, la_id)

    ours, floor = ours_page(), floor_page()
    if ours != floor:
        raise AssertionError(f"reports page: the floor disagrees: ours {ours}, floor {floor}")
    audits = floor_page()["grades"]
    results = [ratio_at_most(Result("reports_page", median_seconds(ours_page, bench.repeat),
                                    median_seconds(floor_page, bench.repeat), extra={"audit_rows": audits}), GOAL_RATIO)]

    for file_format, write in (("csv", _floor_csv), ("xlsx", _floor_xlsx)):
        def ours_export(file_format=file_format):
            with Session(bench.engine) as db:
                return render_export(db, EXPORTS["audits"], la_id, ReportFilter(), file_format, [])

        def floor_export(write=write):
            with bench.engine.connect() as connection:
                return write(_export_floor_rows(connection, la_id))

        with bench.engine.connect() as connection:
            rows = len(_export_floor_rows(connection, la_id))
        exported = ours_export()
        if file_format == "csv" and exported.decode("utf-8-sig").count("\r\n") != rows + 2:  # title and header lines
            raise AssertionError(f"the CSV export has not one line per audit ({rows})")
        results.append(ratio_at_most(Result(f"reports_export_{file_format}", median_seconds(ours_export, bench.repeat),
                                            median_seconds(floor_export, bench.repeat), extra={"rows": rows}), GOAL_RATIO))
    return results

