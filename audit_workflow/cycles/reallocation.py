"""The reallocation job: long-overdue audits that nobody has started go to another auditor, in the
open cycles whose reminder policy says so.

Reallocation is a state transition, not an email: the assignment row is locked and must still be
not started, so two runs at once move an audit once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..db import session_scope
from ..notifications.staff_mail import StaffMail
from ..outcome import JobOutcome, counted
from ..workdays import BeyondHolidayData, WorkingCalendar
from .allocating import eligible_auditors, held_per_auditor, reassign
from .chase_rules import effective_due_date
from .guards import CycleError
from .models import Assignment, AssignmentStatus, AuditCycle, CycleAuditor, CycleStatus
from .working_days import beyond_data_warning, run_date, working_calendar


def reallocate_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Give long-overdue audits that nobody has started to another auditor, in the open cycles whose
    reminder policy says so (`reallocate_after_days` working days overdue; empty means never).

    Only audits not started: an auditor who has begun has work in their drafts that a move would
    strand, so those stay with the escalation to the coordinator. The new auditor is the eligible
    pool member (allocating.eligible_auditors) with the most room left; with nobody free the
    audit stays where it is and the next run tries again. allocating.reassign() does the move
    (withdrawn old assignment, new one due in the cycle's working days, emails to both auditors).
    `now` decides what is overdue; like the service, the new due date counts from clock.today().
    """
    today = run_date(now)
    warnings: list[str] = []
    with Session(engine) as db:
        due = _due_for_reallocation(db, today, warnings)
    counts: Counter = Counter()
    for assignment_id in sorted(due):
        try:
            with session_scope(engine, immediate=True) as db:
                outcome = _reallocate_one(db, config, assignment_id)
        except CycleError as error:  # the new due date is past the bank-holiday data
            warnings.append(f"An audit was not reallocated: {error}")
            continue
        if outcome:
            counts[outcome] += 1
    return JobOutcome(counted(counts, "Nothing to reallocate"), "; ".join(warnings) or None)


def _due_for_reallocation(db: Session, today: date, warnings: list[str]) -> list[uuid.UUID]:
    rows = db.exec(
        select(Assignment.id, Assignment.due_date, AuditCycle)
        .join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
        .where(Assignment.status == AssignmentStatus.NOT_STARTED, Assignment.due_date < today,
               AuditCycle.status == CycleStatus.OPEN, col(AuditCycle.reallocate_after_days).is_not(None))
    ).all()
    calendars: dict[uuid.UUID, WorkingCalendar] = {}
    due = []
    for assignment_id, due_date, cycle in rows:
        if cycle.la_id not in calendars:
            calendars[cycle.la_id] = working_calendar(db, cycle.la_id)
        calendar = calendars[cycle.la_id]
        try:
            if not calendar.is_working_day(today):
                continue
            overdue = calendar.working_days_between(effective_due_date(calendar, due_date), today)
        except BeyondHolidayData as error:
            warnings.append(beyond_data_warning(error, f"An audit in cycle {cycle.id} was not considered for reallocation"))
            continue
        if overdue >= cycle.reallocate_after_days:
            due.append(assignment_id)
    return due


def _reallocate_one(db: Session, config: Mapping[str, Any], assignment_id: uuid.UUID) -> str | None:
    # Locked and read again in the writing transaction: of two runs at once the second finds the
    # assignment withdrawn and leaves it, and an audit started since the scan is not moved.
    assignment = db.exec(
        select(Assignment).join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
        .where(Assignment.id == assignment_id, Assignment.status == AssignmentStatus.NOT_STARTED,
               AuditCycle.status == CycleStatus.OPEN)
        .with_for_update(of=Assignment)
    ).first()
    if assignment is None:
        return None
    auditor_id = _auditor_with_most_room(db, assignment)
    if auditor_id is None:
        return "no auditor free"
    reassign(db, assignment, auditor_id, actor=None, mail=StaffMail(db, config))
    return "reallocated"


def _auditor_with_most_room(db: Session, assignment: Assignment) -> uuid.UUID | None:
    cycle = db.get(AuditCycle, assignment.cycle_id)
    held = held_per_auditor(cycle)
    room = dict(db.exec(
        select(CycleAuditor.user_id, CycleAuditor.capacity - func.coalesce(held.c.held, 0))
        .outerjoin(held, held.c.auditor_id == CycleAuditor.user_id)
        .where(CycleAuditor.cycle_id == cycle.id)
    ).all())
    free = [user for user in eligible_auditors(db, assignment) if room.get(user.id, 0) > 0]
    return min(free, key=lambda user: (-room[user.id], user.email)).id if free else None
