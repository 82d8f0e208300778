"""The database reads behind the reports, the exports and the benchmarks.

Counting is done by the database (GROUP BY), never by loading audits into Python, because the
same code answers over the national-scale database (100,000 audits). Only submitted audits of
primary assignments count: a moderation audit is the same plan audited a second time.

Every grade is read through judgements(): the one place where moderation's agreed grade
replaces the auditor's, so pages, exports, benchmarks and the cycle report change together.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, case, distinct, func, literal, null, union_all
from sqlalchemy.sql import Select, Subquery
from sqlmodel import Session, col, select

from ..audits.models import Audit, AuditStatus, SectionJudgement
from ..auth.models import User
from ..authorities.models import LocalAuthority
from ..clock import ENGLAND
from ..cycles.models import Assignment, AssignmentKind, AuditCycle
from ..framework import SECTION_CODES
from ..framework.model import GRADES_BEST_FIRST
from ..moderation.models import AgreedGrade
from ..plans.models import Plan
from .aggregates import OVERALL, CriterionTally, GradeCount
from .filters import ReportFilter
from .models import StatisticalNeighbour

GRADED = tuple(grade.value for grade in GRADES_BEST_FIRST)


def england_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ENGLAND)


def _with_audit_details(query: Select, audit_id: ColumnElement) -> Select:
    """Join a query from an audit id column to the audit, its assignment, plan, cycle and auditor (User)."""
    return (
        query
        .join(Audit, Audit.id == audit_id)
        .join(Assignment, Assignment.id == Audit.assignment_id)
        .join(Plan, Plan.id == Assignment.plan_id)
        .join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
        .join(User, User.id == Assignment.auditor_id)
    )


def _scoped(query: Select, la_condition: ColumnElement, report_filter: ReportFilter) -> Select:
    """Limit a query over Audit to the submitted primary audits the filter selects."""
    query = (query.join(Assignment, Assignment.id == Audit.assignment_id).join(Plan, Plan.id == Assignment.plan_id)
             .where(la_condition, Audit.status == AuditStatus.SUBMITTED, Assignment.kind == AssignmentKind.PRIMARY))
    return query.where(*filter_conditions(report_filter, Audit.submitted_at))


def filter_conditions(report_filter: ReportFilter, submitted_at) -> list[ColumnElement]:
    """The filter as conditions on Assignment, Plan and `submitted_at` (the audit's or the assignment's)."""
    f = report_filter
    conditions = []
    if f.submitted_from:
        conditions.append(col(submitted_at) >= england_start(f.submitted_from))
    if f.submitted_to:
        conditions.append(col(submitted_at) < england_start(f.submitted_to + timedelta(days=1)))
    if f.cycle:
        conditions.append(Assignment.cycle_id == f.cycle)
    for name in ("key_stage", "primary_need", "setting_type", "plan_type"):
        if getattr(f, name):
            conditions.append(getattr(Plan, name) == getattr(f, name))
    if f.discipline:
        conditions.append(col(Assignment.auditor_id).in_(select(User.id).where(User.discipline == f.discipline)))
    return conditions


def own_la(la_id: uuid.UUID) -> ColumnElement:
    return Audit.la_id == la_id


def judgements(la_condition: ColumnElement, report_filter: ReportFilter) -> Subquery:
    """Every judgement in scope, the overall one (section_code OVERALL) and each section's, as
    (audit_id, la_id, cycle_id, section_code, grade, ticked, agreed).

    The one place grades are read: where moderation agreed a grade for a section (or "overall"),
    that grade stands in for the auditor's, and `agreed` says so; the original audit is unchanged.
    """
    facts = (Audit.la_id, Assignment.cycle_id)
    overall = _scoped(select(Audit.id.label("audit_id"), *facts, literal(OVERALL).label("section_code"),
                             Audit.overall_grade.label("grade"), null().label("ticked")).select_from(Audit),
                      la_condition, report_filter)
    sections = _scoped(select(SectionJudgement.audit_id, *facts, SectionJudgement.section_code, SectionJudgement.grade,
                              SectionJudgement.ticked).join(Audit, Audit.id == SectionJudgement.audit_id),
                       la_condition, report_filter)
    stored = union_all(overall, sections).subquery("stored")
    agreed = AgreedGrade.__table__
    return (
        select(stored.c.audit_id, stored.c.la_id, stored.c.cycle_id, stored.c.section_code,
               func.coalesce(agreed.c.grade, stored.c.grade).label("grade"), stored.c.ticked,
               agreed.c.id.is_not(None).label("agreed"))
        .outerjoin(agreed, (agreed.c.audit_id == stored.c.audit_id) & (agreed.c.section_code == stored.c.section_code))
        .subquery("judgement")
    )


def grade_counts(db: Session, la_id: uuid.UUID, report_filter: ReportFilter) -> list[GradeCount]:
    return [row for rows in grade_counts_by_cycle(db, la_id, report_filter).values() for row in rows]


def grade_counts_by_cycle(db: Session, la_id: uuid.UUID, report_filter: ReportFilter) -> dict[uuid.UUID, list[GradeCount]]:
    """The grade counts of each cycle with results, in one pass: the page's totals are their sum
    and its comparison with the previous cycle needs no second look at the audits."""
    judgement = judgements(own_la(la_id), report_filter)
    rows = db.exec(
        select(judgement.c.cycle_id, judgement.c.section_code, judgement.c.grade, func.count())
        .where(judgement.c.grade.is_not(None))
        .group_by(judgement.c.cycle_id, judgement.c.section_code, judgement.c.grade)
    ).all()
    by_cycle: dict[uuid.UUID, list[GradeCount]] = {}
    for cycle_id, section_code, grade, count in rows:
        by_cycle.setdefault(cycle_id, []).append(GradeCount(section_code, grade, count))
    return by_cycle


def agreed_count(db: Session, la_id: uuid.UUID, report_filter: ReportFilter) -> int:
    """How many of the audits in scope have a grade agreed in moderation (the page says so)."""
    judgement = judgements(own_la(la_id), report_filter)
    return db.exec(select(func.count(distinct(judgement.c.audit_id))).where(judgement.c.agreed)).one()


def criterion_tallies(db: Session, la_id: uuid.UUID, report_filter: ReportFilter,
                      criteria: dict[str, list[str]]) -> list[CriterionTally]:
    """For each given criterion (section code -> ids), how often it was ticked in the audits that
    graded its section (Not applicable left out). The database groups the judgements by their
    list of ticks, which repeat a great deal; each distinct list is read here once."""
    judgement = judgements(own_la(la_id), report_filter)
    rows = db.exec(
        select(judgement.c.section_code, judgement.c.ticked, func.count())
        .where(col(judgement.c.grade).in_(GRADED), judgement.c.section_code != OVERALL)
        .group_by(judgement.c.section_code, judgement.c.ticked)
    ).all()
    audits: dict[str, int] = {}
    ticked: dict[tuple[str, str], int] = {}
    for section_code, ticks, count in rows:
        audits[section_code] = audits.get(section_code, 0) + count
        for criterion_id in json.loads(ticks or "[]"):
            ticked[(section_code, criterion_id)] = ticked.get((section_code, criterion_id), 0) + count
    return [CriterionTally(code, criterion_id, ticked.get((code, criterion_id), 0), audits.get(code, 0))
            for code, criterion_ids in criteria.items() for criterion_id in criterion_ids]


def _ticks(judgement: Subquery, criterion_id: str) -> ColumnElement:
    # ticked is a JSON list of ids; a quoted id cannot be part of a longer one.
    return judgement.c.ticked.contains(f'"{criterion_id}"', autoescape=True)


@dataclass(frozen=True)
class AuditBehind:
    """One audit behind a number, for the click-through list."""

    audit_id: uuid.UUID
    system_id: str
    cycle_name: str
    key_stage: str
    primary_need: str
    setting_type: str
    auditor_name: str
    discipline: str
    submitted_at: datetime
    grade: str | None


def audits_behind(db: Session, la_id: uuid.UUID, report_filter: ReportFilter, section_code: str = OVERALL,
                  grade: str | None = None, missed: str | None = None, limit: int = 1000) -> list[AuditBehind]:
    """The audits counted in one figure: a section's (or the overall) grade, or a Good criterion
    missed in a graded section. By System ID; at most `limit`."""
    judgement = judgements(own_la(la_id), report_filter)
    query = _with_audit_details(
        select(Audit.id, Plan.system_id, AuditCycle.name, Plan.key_stage, Plan.primary_need, Plan.setting_type,
               User.display_name, User.discipline, Audit.submitted_at, judgement.c.grade)
        .select_from(judgement), judgement.c.audit_id
    ).where(judgement.c.section_code == section_code)
    if grade == "good_or_better":
        query = query.where(col(judgement.c.grade).in_(GRADED[:2]))
    elif grade:
        query = query.where(judgement.c.grade == grade)
    if missed:
        query = query.where(col(judgement.c.grade).in_(GRADED), ~_ticks(judgement, missed))
    rows = db.exec(query.order_by(Plan.system_id).limit(limit)).all()
    return [AuditBehind(*row) for row in rows]


@dataclass(frozen=True)
class CycleChoice:
    id: uuid.UUID
    name: str
    period_start: date
    period_end: date
    status: str


def cycles(db: Session, la_id: uuid.UUID) -> list[CycleChoice]:
    """The LA's cycles, latest first."""
    rows = db.exec(
        select(AuditCycle.id, AuditCycle.name, AuditCycle.period_start, AuditCycle.period_end, AuditCycle.status)
        .where(AuditCycle.la_id == la_id).order_by(col(AuditCycle.period_start).desc(), AuditCycle.name)
    ).all()
    return [CycleChoice(*row) for row in rows]


def cycles_with_results(db: Session, la_id: uuid.UUID) -> list[uuid.UUID]:
    """The LA's cycles that have a submitted primary audit, latest period first."""
    rows = db.exec(
        select(AuditCycle.id)
        .join(Assignment, Assignment.cycle_id == AuditCycle.id)
        .join(Audit, Audit.assignment_id == Assignment.id)
        .where(AuditCycle.la_id == la_id, Audit.status == AuditStatus.SUBMITTED,
               Assignment.kind == AssignmentKind.PRIMARY)
        .group_by(AuditCycle.id, AuditCycle.period_start)
        .order_by(col(AuditCycle.period_start).desc())
    ).all()
    return list(rows)


# Benchmarks --------------------------------------------------------------------------------------

NATIONAL, REGIONAL, NEIGHBOURS = "national", "regional", "neighbours"


@dataclass(frozen=True)
class PooledCounts:
    """Grade counts pooled across other LAs, with how many LAs contributed to each section's figure.
    Never which LAs: their ids do not leave this module."""

    rows: list[GradeCount]
    contributors: dict[str, int]  # section code -> number of LAs with a graded audit in it


def pooled_counts(db: Session, la: LocalAuthority, report_filter: ReportFilter,
                  scopes: tuple[str, ...] = (NATIONAL, REGIONAL, NEIGHBOURS)) -> dict[str, PooledCounts]:
    """Grades across the other LAs that opted into benchmarking (the viewer's own LA left out, so
    the comparison is between separate plans), for each scope: all of England, the LA's region,
    its statistical neighbours. One pass over the others' audits, grouped by LA, shared out here."""
    neighbours = set(db.exec(select(StatisticalNeighbour.neighbour_code).where(StatisticalNeighbour.la_id == la.id)).all())
    others = {la_id: {NATIONAL} | ({REGIONAL} if region == la.region else set()) | ({NEIGHBOURS} if code in neighbours else set())
              for la_id, region, code in db.exec(
                  select(LocalAuthority.id, LocalAuthority.region, LocalAuthority.code)
                  .where(LocalAuthority.benchmark_opt_in, LocalAuthority.id != la.id)).all()}
    counts = {scope: {} for scope in scopes}
    las = {scope: {} for scope in scopes}
    if others:
        judgement = judgements(col(Audit.la_id).in_(list(others)), report_filter)
        per_la = (select(judgement.c.section_code, judgement.c.grade, judgement.c.la_id, func.count())
                  .where(judgement.c.grade.is_not(None))
                  .group_by(judgement.c.section_code, judgement.c.grade, judgement.c.la_id))
        for section_code, grade, la_id, audits in db.exec(per_la).all():
            for scope in others[la_id] & set(scopes):
                counts[scope][(section_code, grade)] = counts[scope].get((section_code, grade), 0) + audits
                if grade in GRADED:
                    las[scope].setdefault(section_code, set()).add(la_id)
    return {scope: PooledCounts([GradeCount(code, grade, count) for (code, grade), count in counts[scope].items()],
                                {code: len(ids) for code, ids in las[scope].items()})
            for scope in scopes}


def has_neighbours(db: Session, la_id: uuid.UUID) -> bool:
    return db.exec(select(func.count()).select_from(StatisticalNeighbour).where(StatisticalNeighbour.la_id == la_id)).one() > 0


# Exports ------------------------------------------------------------------------------------------

EXPORT_BATCH = 2000


def audit_rows(db: Session, la_id: uuid.UUID, report_filter: ReportFilter) -> Iterator[tuple]:
    """One row per audit: its plan's facts, the auditor's discipline, the overall grade, then each
    section's grade and ticked criteria (JSON) in SECTION_CODES order. Pivoted by the database
    (grouped by audit alone, then joined to the facts) and streamed, so an export of any size
    holds one batch in memory."""
    judgement = judgements(own_la(la_id), report_filter)
    pivot = [judgement.c.audit_id, func.max(case((judgement.c.agreed, 1), else_=0)).label("agreed")]
    for code in (OVERALL, *SECTION_CODES):
        pivot.append(func.max(case((judgement.c.section_code == code, judgement.c.grade))).label(f"grade_{code}"))
        if code != OVERALL:
            pivot.append(func.max(case((judgement.c.section_code == code, judgement.c.ticked))).label(f"ticked_{code}"))
    per_audit = select(*pivot).group_by(judgement.c.audit_id).subquery("per_audit")
    query = (
        _with_audit_details(
            select(Audit.id, AuditCycle.name, Plan.system_id, Plan.key_stage, Plan.primary_need, Plan.setting_type,
                   Plan.plan_type, User.discipline, Audit.submitted_at, *list(per_audit.c)[1:])
            .select_from(per_audit), per_audit.c.audit_id)
        .order_by(Plan.system_id, Audit.submitted_at)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    yield from db.exec(query)


def assignment_rows(db: Session, la_id: uuid.UUID, report_filter: ReportFilter) -> Iterator[tuple]:
    """One row per assignment, primary and moderation, filtered like the audits (by the plan, the
    auditor's discipline, the cycle, and when it was submitted, if a period is chosen)."""
    query = (
        select(AuditCycle.name, Plan.system_id, Plan.key_stage, Plan.primary_need, Plan.setting_type, Plan.plan_type,
               Assignment.kind, Assignment.status, User.display_name, User.discipline, Assignment.assigned_at,
               Assignment.due_date, Assignment.submitted_at, Assignment.declined_at, Assignment.decline_reason)
        .join(Plan, Plan.id == Assignment.plan_id)
        .join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.la_id == la_id, *filter_conditions(report_filter, Assignment.submitted_at))
    )
    yield from db.exec(query.order_by(AuditCycle.name, Plan.system_id, Assignment.assigned_at)
                       .execution_options(yield_per=EXPORT_BATCH))


def cycle_names(db: Session, la_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return {choice.id: choice.name for choice in cycles(db, la_id)}

