"""Workload: the cycle report of a 150-plan cycle (with the cycle before it, for the comparison),
written as PPTX, PDF and XLSX through the real service, against the least work that gives the
same numbers: one bare GROUP BY of the cycle's grades. The goal is the issue's: each format in
under 10 s; its peak Python memory (tracemalloc) is reported too. Built in an LA of its own, so the
size is 150 plans at every scale.
"""

from __future__ import annotations

import json
import tracemalloc
import uuid
from datetime import timedelta

from sqlalchemy import func, literal, select, union_all

from audit_workflow.audits.models import Audit, SectionJudgement
from audit_workflow.framework.models import FrameworkVersion
from audit_workflow.auth.models import User
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.cycles.models import Assignment, AuditCycle, CyclePlan
from audit_workflow.db import session_scope
from audit_workflow.framework import Band, default_framework
from audit_workflow.plans.models import Plan
from audit_workflow.reports.cycle_report import service
from audit_workflow.reports.cycle_report.pdf_writer import pdf_available

from .data import GRADES, NOW, SECTIONS, TODAY, RowGenerator, insert_rows
from .harness import Bench, Check, Result, paired_medians

PLANS = 150
GOAL_SECONDS = 10.0
GOAL_PEAK_MB = 300
MAX_REPEAT = 3  # a PDF takes seconds: three runs give a steady median
SEED = 14150


def _cycle_rows(gen: RowGenerator, la_id, auditor_id, framework_version_id, name: str, start, status: str):
    """A cycle of PLANS plans, every one audited and submitted, with Good criteria ticked at random."""
    good = {section.code: [criterion.id for criterion in section.bands[Band.GOOD]] for section in default_framework().sections}
    cycle_id = gen.uuid()
    rows = {AuditCycle: [{"id": cycle_id, "la_id": la_id, "name": name, "period_start": start,
                          "period_end": start + timedelta(days=90), "status": status, "sample_size": PLANS,
                          "created_at": NOW}],
            Plan: [], CyclePlan: [], Assignment: [], Audit: [], SectionJudgement: []}
    for number in range(PLANS):
        plan_id, assignment_id, audit_id = gen.uuid(), gen.uuid(), gen.uuid()
        submitted = gen.instant(start + timedelta(days=30))
        rows[Plan].append({"id": plan_id, "la_id": la_id, "system_id": f"CR-{name[:3]}-{number:04d}", "key_stage": "KS2",
                           "setting_name": "Setting", "setting_type": "mainstream_maintained", "primary_need": "ASD",
                           "plan_type": "annual_review", "writer_team": "Team 1", "created_at": NOW, "updated_at": NOW})
        rows[CyclePlan].append({"id": gen.uuid(), "la_id": la_id, "cycle_id": cycle_id, "plan_id": plan_id,
                                "source": "sample", "added_at": NOW})
        rows[Assignment].append({"id": assignment_id, "la_id": la_id, "cycle_id": cycle_id, "plan_id": plan_id,
                                 "auditor_id": auditor_id, "kind": "primary", "status": "submitted",
                                 "due_date": start + timedelta(days=40), "assigned_at": NOW, "submitted_at": submitted})
        grades = [gen.rng.choice(GRADES) for _ in SECTIONS]
        rows[Audit].append({"id": audit_id, "la_id": la_id, "assignment_id": assignment_id,
                            "framework_version_id": framework_version_id, "status": "submitted", "overall_grade": grades[0],
                            "started_at": NOW, "updated_at": submitted, "submitted_at": submitted})
        rows[SectionJudgement].extend(
            {"id": gen.uuid(), "la_id": la_id, "audit_id": audit_id, "section_code": section, "grade": grade,
             "ticked": json.dumps(gen.rng.sample(good[section], 3)), "comment": "", "updated_at": submitted}
            for section, grade in zip(SECTIONS, grades))
    return cycle_id, rows


def build_cycle(engine) -> uuid.UUID:
    """A new LA with a closed cycle and, after it, the 150-plan cycle the report is of."""
    gen = RowGenerator(SEED)
    la_id, auditor_id = gen.uuid(), gen.uuid()
    with engine.begin() as connection:
        framework_version_id = connection.execute(select(FrameworkVersion.id).limit(1)).scalar_one()
        insert_rows(connection, LocalAuthority.__table__, [{
            "id": la_id, "code": "990", "name": "Cycle report LA", "region": "E12000008", "created_at": NOW}])
        insert_rows(connection, User.__table__, [{
            "id": auditor_id, "la_id": la_id, "email": "auditor@la990.example.gov.uk", "display_name": "Auditor 990",
            "roles": "auditor", "discipline": "education", "active": True, "created_at": NOW}])
        cycle_id = None
        for name, start, status in (("Spring", TODAY - timedelta(days=200), "closed"), ("Autumn", TODAY - timedelta(days=60), "open")):
            cycle_id, rows = _cycle_rows(gen, la_id, auditor_id, framework_version_id, name, start, status)
            for model in (AuditCycle, Plan, CyclePlan, Assignment, Audit, SectionJudgement):
                insert_rows(connection, model.__table__, rows[model])
    return cycle_id


def _bare_counts(engine, cycle_id: uuid.UUID) -> list:
    """The floor: the cycle's overall and section grade counts in one statement."""
    audits = (select(Audit.id).join(Assignment, Assignment.id == Audit.assignment_id)
              .where(Assignment.cycle_id == cycle_id, Assignment.kind == "primary", Audit.status == "submitted"))
    overall = (select(literal("overall"), Audit.overall_grade, func.count()).where(Audit.id.in_(audits))
               .group_by(Audit.overall_grade))
    sections = (select(SectionJudgement.section_code, SectionJudgement.grade, func.count())
                .where(SectionJudgement.audit_id.in_(audits)).group_by(SectionJudgement.section_code, SectionJudgement.grade))
    with engine.connect() as connection:
        return connection.execute(union_all(overall, sections)).all()


def _generate(engine, cycle_id: uuid.UUID, format_name: str) -> bytes:
    with session_scope(engine) as db:
        return service.generate(db, db.get(AuditCycle, cycle_id), format_name)[0]


def measure(bench: Bench) -> list[Result]:
    cycle_id = build_cycle(bench.engine)
    _generate(bench.engine, cycle_id, "xlsx")  # the first report reads and caches the framework file; not timed
    results = []
    for format_name in service.FORMATS:
        name = f"cycle_report_{format_name}"
        if format_name == "pdf" and not pdf_available():
            results.append(Result(name, skipped="WeasyPrint needs Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0)"))
            continue
        ours, floor = paired_medians(lambda: _generate(bench.engine, cycle_id, format_name),
                                     lambda: _bare_counts(bench.engine, cycle_id), min(bench.repeat, MAX_REPEAT), lambda: None)
        tracemalloc.start()
        size = len(_generate(bench.engine, cycle_id, format_name))
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        results.append(Result(name, ours, floor, checks=[
            Check(f"ours <= {GOAL_SECONDS:g} s", ours <= GOAL_SECONDS), Check(f"peak <= {GOAL_PEAK_MB} MB", peak_mb <= GOAL_PEAK_MB),
        ], extra={"plans": PLANS, "peak_mb": peak_mb, "bytes": size}))
    return results
