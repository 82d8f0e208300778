"""Objects for tests, one per kind per LA, built the same way the services build them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from audit_workflow.cycles.models import Assignment, AuditCycle, CycleStatus
from audit_workflow.plans.models import Plan


def make_plan(db: Session, la, system_id: str = "SYS-0001", **fields) -> Plan:
    values = dict(key_stage="KS2", setting_name="Oak Primary", setting_type="mainstream_maintained",
                  primary_need="ASD", plan_type="annual_review", writer_team="Team North")
    values.update(fields)
    plan = Plan(la_id=la.id, system_id=system_id, **values)
    db.add(plan)
    db.flush()
    return plan


def make_cycle(db: Session, la, name: str = "Autumn 2026", status: str = CycleStatus.OPEN, **fields) -> AuditCycle:
    cycle = AuditCycle(la_id=la.id, name=name, period_start=date(2026, 9, 1), period_end=date(2026, 12, 18),
                       status=status, sample_size=10, **fields)
    db.add(cycle)
    db.flush()
    return cycle


def make_assignment(db: Session, cycle: AuditCycle, plan: Plan, auditor, **fields) -> Assignment:
    values = dict(due_date=date(2026, 12, 1) + timedelta(days=0))
    values.update(fields)
    assignment = Assignment(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan.id, auditor_id=auditor.id, **values)
    db.add(assignment)
    db.flush()
    return assignment
