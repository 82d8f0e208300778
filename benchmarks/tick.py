"""Workload 1: the scheduler's chase tick, against a bare query reading the same rows.

The tick measured is an ordinary working day's: yesterday's tick has already run (untimed), so
the outbox holds the chases sent so far and today's run queues only what is new today. Each
repetition removes what the previous one queued. The floor is one SELECT of the candidate rows
with what their emails need (plan System ID, auditor's address and name): active assignments of
open cycles due no later than the reminder horizon.

Then the closed cycles' assignments are copied until there are ten times as many (a few of them
left unfinished, as closing a cycle allows) and the tick is timed again: it should grow with the
rows that are due, not with all the rows there are.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from audit_workflow.auth.models import User
from audit_workflow.clock import utcnow
from audit_workflow.cycles.models import ACTIVE_STATUSES, Assignment, AuditCycle, CycleStatus
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.plans.models import Plan
from audit_workflow.workdays import WorkingCalendar

from .data import NOW, TODAY, delete_where, multiply_closed_assignments
from .harness import Bench, Check, Result, median_seconds, ratio_at_most

GOAL_RATIO = 1.5
GOAL_GROWTH = 1.2  # with ten times the closed assignments
CLOSED_FACTOR = 10
ASSIGNMENT, CYCLE, PLAN, USER = Assignment.__table__, AuditCycle.__table__, Plan.__table__, User.__table__
OUTBOX = OutboxMessage.__table__


def _due_rows(engine) -> int:
    """The floor: the chase candidates and their email details, in one query."""
    remind_days = 2  # every generated cycle keeps the default policy
    horizon = WorkingCalendar().add_working_days(TODAY, remind_days)
    with engine.connect() as connection:
        return len(connection.execute(
            select(ASSIGNMENT.c.id, ASSIGNMENT.c.la_id, ASSIGNMENT.c.due_date, PLAN.c.system_id, USER.c.email,
                   USER.c.display_name)
            .join(CYCLE, CYCLE.c.id == ASSIGNMENT.c.cycle_id)
            .join(PLAN, PLAN.c.id == ASSIGNMENT.c.plan_id)
            .join(USER, USER.c.id == ASSIGNMENT.c.auditor_id)
            .where(ASSIGNMENT.c.status.in_(ACTIVE_STATUSES), ASSIGNMENT.c.due_date <= horizon,
                   CYCLE.c.status == CycleStatus.OPEN)
        ).all())


class _Tick:
    def __init__(self, bench: Bench):
        from audit_workflow.cycles.chasing import chase_job

        self.bench = bench
        self.chase = chase_job
        chase_job(bench.engine, bench.config, now=NOW - timedelta(days=1))  # yesterday's run: the history
        self.since = utcnow()

    def forget_today(self) -> None:
        delete_where(self.bench.engine, OutboxMessage, OutboxMessage.created_at >= self.since)

    def run(self) -> None:
        self.chase(self.bench.engine, self.bench.config, now=NOW)

    def queued_today(self) -> int:
        with self.bench.engine.connect() as connection:
            return connection.execute(select(func.count()).where(OUTBOX.c.created_at >= self.since)).scalar_one()

    def measure(self, name: str) -> Result:
        repeat = self.bench.repeat
        ours_s = median_seconds(self.run, repeat, prepare=self.forget_today)
        queued = self.queued_today()
        # Run again with today's chases in place: what every later tick of the day costs.
        again_s = median_seconds(self.run, repeat)
        rows = _due_rows(self.bench.engine)
        floor_s = median_seconds(lambda: _due_rows(self.bench.engine), repeat)
        return Result(name, ours_s, floor_s, extra={
            "candidate_rows": rows, "queued": queued, "same_day_again_s": again_s,
            "closed_assignments": self.bench.dataset.closed_assignments})


def measure(bench: Bench) -> list[Result]:
    tick = _Tick(bench)
    base = ratio_at_most(tick.measure("tick"), GOAL_RATIO)
    multiply_closed_assignments(bench.engine, bench.dataset, CLOSED_FACTOR)
    grown = tick.measure("tick_10x_closed")
    # Here the comparison is with the same tick before the closed rows grew tenfold.
    grown.extra["floor_10x_s"] = grown.floor_s
    grown.floor_s = base.ours_s
    grown.checks.append(Check(f"ratio to tick <= {GOAL_GROWTH:g}", grown.ratio <= GOAL_GROWTH))
    return [base, grown]
