"""Workload 4: the numbers on the cycle dashboard and in `cycle status`, for every open cycle in the
country, against the fewest bare GROUP BY queries that give the same numbers.

The floor counts each open cycle's assignments once, grouped by auditor, kind, status, overdue and
"plan sent", and derives every per-status, overdue, per-auditor and sent count from that one
result in Python (the cycle's completion counts first audits only); the register, sample and pool
sizes are one count each.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from audit_workflow.auth.models import User
from audit_workflow.cycles import progress
from audit_workflow.cycles.models import ACTIVE_STATUSES, Assignment, AssignmentKind, AuditCycle, CycleAuditor, CyclePlan
from audit_workflow.cycles.models import HELD_STATUSES
from audit_workflow.plans.models import Plan

from .data import TODAY
from .harness import Bench, Result, median_seconds, ratio_at_most

ASSIGNMENT, USER, PLAN = Assignment.__table__, User.__table__, Plan.__table__
CYCLE_PLAN, CYCLE_AUDITOR = CyclePlan.__table__, CycleAuditor.__table__
GOAL_RATIO = 1.5


def _status_numbers(connection, cycle_id, _la_id, on: date = TODAY) -> dict:
    """First audits by status with overdue, by auditor (held), plans sent, and every auditor with work of
    any kind (the dashboard lists them): one GROUP BY."""
    overdue = case((and_(ASSIGNMENT.c.status.in_(ACTIVE_STATUSES), ASSIGNMENT.c.due_date < on), 1), else_=0)
    sent = case((and_(ASSIGNMENT.c.status.in_(ACTIVE_STATUSES), ASSIGNMENT.c.plan_sent_at.is_not(None)), 1), else_=0)
    overdue, sent = overdue.label("is_overdue"), sent.label("is_sent")  # grouped by name: one bound parameter each
    rows = connection.execute(
        select(USER.c.email, ASSIGNMENT.c.kind, ASSIGNMENT.c.status, overdue, sent, func.count())
        .join(USER, USER.c.id == ASSIGNMENT.c.auditor_id)
        .where(ASSIGNMENT.c.cycle_id == cycle_id)
        .group_by(USER.c.email, ASSIGNMENT.c.kind, ASSIGNMENT.c.status, overdue, sent)
    ).all()
    by_status, by_auditor = Counter(), Counter()
    late = sent_count = 0
    for email, kind, status, is_overdue, is_sent, count in rows:
        sent_count += is_sent * count
        if kind == AssignmentKind.PRIMARY:
            by_status[status] += count
            late += is_overdue * count
            by_auditor[email] += count if status in HELD_STATUSES else 0  # listed, if only with declines
    return {"by_status": {**by_status, progress.OVERDUE: late}, "by_auditor": dict(by_auditor), "sent": sent_count,
            "auditors": {row[0] for row in rows}}


def _dashboard_numbers(connection, cycle_id, la_id, on: date = TODAY) -> dict:
    numbers = _status_numbers(connection, cycle_id, la_id, on)
    numbers["by_auditor"] = {email: numbers["by_auditor"].get(email, 0) for email in numbers["auditors"]}
    held = (select(ASSIGNMENT.c.plan_id).where(ASSIGNMENT.c.cycle_id == cycle_id, ASSIGNMENT.c.kind == "primary",
                                               ASSIGNMENT.c.status.in_(HELD_STATUSES)).distinct().subquery())
    sampled, unallocated = connection.execute(
        select(func.count(), func.count() - func.count(held.c.plan_id))
        .select_from(CYCLE_PLAN.outerjoin(held, held.c.plan_id == CYCLE_PLAN.c.plan_id))
        .where(CYCLE_PLAN.c.cycle_id == cycle_id, CYCLE_PLAN.c.removed_at.is_(None))
    ).one()
    to_send = connection.execute(
        select(ASSIGNMENT.c.id, PLAN.c.system_id, USER.c.display_name, USER.c.email, ASSIGNMENT.c.assigned_at)
        .join(PLAN, PLAN.c.id == ASSIGNMENT.c.plan_id).join(USER, USER.c.id == ASSIGNMENT.c.auditor_id)
        .where(ASSIGNMENT.c.cycle_id == cycle_id, ASSIGNMENT.c.status.in_(ACTIVE_STATUSES),
               ASSIGNMENT.c.plan_sent_at.is_(None))
        .order_by(USER.c.display_name, PLAN.c.system_id)
    ).all()
    return {**numbers, "population": connection.execute(select(func.count()).where(PLAN.c.la_id == la_id)).scalar_one(),
            "sampled": sampled, "unallocated": unallocated, "to_send": len(to_send),
            "pool": connection.execute(select(func.count()).where(CYCLE_AUDITOR.c.cycle_id == cycle_id)).scalar_one()}


def _our_status(db: Session, cycle: AuditCycle) -> dict:
    report = progress.status_report(db, cycle, on=TODAY)
    return {"by_status": report["by_status"], "by_auditor": report["by_auditor"]}


def _our_dashboard(db: Session, cycle: AuditCycle) -> dict:
    """What the dashboard view (cycles.views.show) computes, in the same calls."""
    overview = progress.sample_overview(db, cycle)
    counts = progress.cycle_progress(db, cycle, on=TODAY)
    return {
        "by_status": {**counts.by_status, progress.OVERDUE: counts.overdue},
        "by_auditor": {auditor.email: auditor.assigned for auditor in counts.by_auditor},
        "sent": progress.plans_sent_count(db, cycle), "population": overview.population,
        "sampled": overview.sampled, "unallocated": overview.unallocated,
        "to_send": len(progress.plans_to_send(db, cycle)), "pool": progress.pool_size(db, cycle),
    }


def measure(bench: Bench) -> list[Result]:
    cycles = [(facts.open_cycle_id, facts.la_id) for facts in bench.dataset.authorities]

    def ours(compute) -> list[dict]:
        answers = []
        for cycle_id, _ in cycles:
            with Session(bench.engine) as db:
                answers.append(compute(db, db.get(AuditCycle, cycle_id)))
        return answers

    def floor(compute) -> list[dict]:
        answers = []
        for cycle_id, la_id in cycles:
            with bench.engine.connect() as connection:
                answers.append(compute(connection, cycle_id, la_id))
        return answers

    _same_numbers(ours(_our_status), floor(_status_numbers), "cycle status")
    _same_numbers(ours(_our_dashboard), floor(_dashboard_numbers), "dashboard")
    extra = {"open_cycles": len(cycles)}
    return [
        ratio_at_most(Result("cycle_status", median_seconds(lambda: ours(_our_status), bench.repeat),
                             median_seconds(lambda: floor(_status_numbers), bench.repeat), extra=extra), GOAL_RATIO),
        ratio_at_most(Result("dashboard_aggregations", median_seconds(lambda: ours(_our_dashboard), bench.repeat),
                             median_seconds(lambda: floor(_dashboard_numbers), bench.repeat), extra=extra), GOAL_RATIO),
    ]


def _same_numbers(ours: list[dict], floor: list[dict], what: str) -> None:
    """A floor is only a floor if it gives the same answer."""
    for our_answer, floor_answer in zip(ours, floor):
        mismatched = {key for key in our_answer if our_answer[key] != floor_answer[key]}
        if mismatched:
            raise AssertionError(f"{what}: the floor disagrees on {sorted(mismatched)}")
