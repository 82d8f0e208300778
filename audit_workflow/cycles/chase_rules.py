"""Chasing audits: which emails an assignment is owed, and on which working days.

The rules are pure functions of an LA's working calendar, the cycle's reminder policy (in working
days), the due date and the day (chasing.py applies them to the database). Everything here counts working days (a local service level);
statutory EHCP timescales are calendar days and live in workdays.py, never here.

The chase plan of an assignment due on D (moved to the next working day if D is not one):

    reminder    `remind_days_before` working days before D (none when that is 0)
    due         on D
    overdue     every `overdue_interval_days` working days after D, until the audit is handed in
    escalation  `escalate_after_days` working days after D, once, to the LA's coordinators

Catch-up: on a working day the auditor is sent at most one chase, the latest one whose date has
come; if that one was already sent, nothing. So after a missed run (the machine was off) the next
run sends the most recent missed chase once and never a burst of the older ones, and a chase is
never sent on a weekend, bank holiday or LA closure day. A chase sent late is worded for the day it
goes: the working days left or overdue are counted from that day, and a missed "due today" sent
after the due date goes as an overdue email. The escalation is a stream of its own, sent once on
or after its date. Each chase is identified by (assignment, stage, scheduled date), which is the
outbox idempotency key, so it can be queued only once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from ..workdays import WorkingCalendar


class HasReminderPolicy(Protocol):
    """A cycle's reminder settings, in working days."""

    remind_days_before: int
    overdue_interval_days: int
    escalate_after_days: int


class Stage(StrEnum):
    REMINDER = "reminder"
    DUE = "due"
    OVERDUE = "overdue"
    ESCALATION = "escalation"


@dataclass(frozen=True)
class ReminderPolicy:
    remind_days_before: int
    overdue_interval_days: int
    escalate_after_days: int

    @classmethod
    def of(cls, cycle: HasReminderPolicy) -> "ReminderPolicy":
        return cls(cycle.remind_days_before, cycle.overdue_interval_days, cycle.escalate_after_days)


@dataclass(frozen=True)
class Chase:
    stage: Stage
    on: date  # the working day it is scheduled for

    def key(self, assignment_id: uuid.UUID) -> str:
        return f"assignment:{assignment_id}:{self.stage}:{self.on.isoformat()}"


def effective_due_date(calendar: WorkingCalendar, due_date: date) -> date:
    """Work due on a day that is not a working day (a closure added after allocation) is due on
    the next working day."""
    return calendar.add_working_days(due_date, 0)


def _working_days_before(calendar: WorkingCalendar, day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def escalation_date(calendar: WorkingCalendar, policy: ReminderPolicy, due: date) -> date:
    return calendar.add_working_days(due, policy.escalate_after_days)


def chase_plan(calendar: WorkingCalendar, policy: ReminderPolicy, due_date: date) -> list[Chase]:
    """The assignment's chases in date order, overdue chases up to and including the escalation
    (they carry on after it at the same interval, while the audit is still owed)."""
    due = effective_due_date(calendar, due_date)
    escalation = escalation_date(calendar, policy, due)
    plan = []
    if policy.remind_days_before:
        plan.append(Chase(Stage.REMINDER, _working_days_before(calendar, due, policy.remind_days_before)))
    plan.append(Chase(Stage.DUE, due))
    overdue = calendar.add_working_days(due, policy.overdue_interval_days)
    while overdue <= escalation:
        plan.append(Chase(Stage.OVERDUE, overdue))
        overdue = calendar.add_working_days(overdue, policy.overdue_interval_days)
    plan.append(Chase(Stage.ESCALATION, escalation))
    return plan


def latest_auditor_chase(calendar: WorkingCalendar, policy: ReminderPolicy, due_date: date, today: date) -> Chase | None:
    """The auditor's most recent chase dated on or before `today` (the one a run today may send)."""
    due = effective_due_date(calendar, due_date)
    if today >= due:
        overdue_days = calendar.working_days_between(due, today)
        intervals = overdue_days // policy.overdue_interval_days
        if not intervals:
            return Chase(Stage.DUE, due)
        return Chase(Stage.OVERDUE, calendar.add_working_days(due, intervals * policy.overdue_interval_days))
    if policy.remind_days_before and calendar.working_days_between(today, due) <= policy.remind_days_before:
        return Chase(Stage.REMINDER, _working_days_before(calendar, due, policy.remind_days_before))
    return None


def chases_due(calendar: WorkingCalendar, policy: ReminderPolicy, due_date: date, today: date) -> list[Chase]:
    """What a run on `today` may send for one active assignment: the latest auditor chase and the
    escalation once its day has come. Nothing on a day that is not a working day. The caller skips
    any whose key is already in the outbox."""
    if not calendar.is_working_day(today):
        return []
    latest = latest_auditor_chase(calendar, policy, due_date, today)
    chases = [latest] if latest else []
    escalation = escalation_date(calendar, policy, effective_due_date(calendar, due_date))
    if escalation <= today:
        chases.append(Chase(Stage.ESCALATION, escalation))
    return chases
