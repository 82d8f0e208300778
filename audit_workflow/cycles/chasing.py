"""The chase job: the reminder, due-today, overdue and escalation emails that chase_rules.py says an
active assignment is owed today, queued through the outbox; and the chase calendar (the same rules
laid out as dates, for coordinators and `audit-workflow cycle calendar`).

The job may run twice, late, or at the same moment in two processes: each email has an idempotency
key (`assignment:<id>:<stage>:<date>`) that the outbox's unique constraint admits once (docs/checks.md#check-7), in
the same transaction as the scan that decided to send it. The scheduler's lease only stops the work
being done twice; it is not what makes it safe.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Mapping

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..auth.models import User
from ..db import session_scope
from ..notifications.models import MessageStatus, OutboxMessage
from ..notifications.outbox import MessageToQueue, queue_messages
from ..notifications.staff_mail import StaffMail
from ..outcome import JobOutcome, counted
from ..plans.models import Plan
from ..workdays import BeyondHolidayData, WorkingCalendar
from . import chase_rules as rules
from .models import ACTIVE_STATUSES, Assignment, AuditCycle, CycleStatus
from .working_days import beyond_data_warning, run_date, working_calendar

logger = logging.getLogger(__name__)

# Assignments queued per transaction: a crash loses at most one batch of work, which the next run
# redoes, and a national-scale run never holds one enormous transaction.
BATCH = 500

# The emails that chase the auditor, by stage.
AUDITOR_KINDS = {rules.Stage.REMINDER: "reminder", rules.Stage.DUE: "due_today", rules.Stage.OVERDUE: "overdue"}


@dataclass(frozen=True)
class _OpenCycle:
    cycle: AuditCycle
    calendar: WorkingCalendar
    policy: rules.ReminderPolicy


@dataclass(frozen=True)
class _ChaseItem:
    assignment_id: uuid.UUID
    cycle_id: uuid.UUID
    due_date: date
    chase: rules.Chase

    @property
    def key(self) -> str:
        return self.chase.key(self.assignment_id)


def chase_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Queue today's reminder, due-today, overdue and escalation emails (the rules are in chase_rules.py).

    One query finds the candidates, using the (status, due_date) index: active assignments of open
    cycles due no later than the furthest reminder horizon, which are exactly those that may have
    a chase dated today or earlier. The rules are worked out once per (cycle, due date), keys
    already in the outbox are dropped, and the rest are queued in batches. So the work grows with
    the assignments near or past their due date, not with all the assignments there are.
    """
    today = run_date(now)
    warnings: list[str] = []
    with Session(engine) as db:
        cycles, horizon = _chaseable_cycles(db, today, warnings)
        candidates = _chase_candidates(db, cycles, today, horizon, warnings) if cycles else []
        pending = _not_yet_queued(db, candidates)
    counts: Counter = Counter()
    for batch in _batches(pending, BATCH):
        with session_scope(engine, immediate=True) as db:
            counts.update(_queue_chases(db, config, cycles, batch, today))
    summary = counted(counts, "Nothing to chase" if cycles else "No open cycle has a working day today")
    return JobOutcome(summary, "; ".join(warnings) or None)


def _chaseable_cycles(db: Session, today: date, warnings: list[str]) -> tuple[dict[uuid.UUID, _OpenCycle], date | None]:
    """Open cycles whose LA works today, and the latest due date any of them reminds about today
    (None when that lies past the bank-holiday data: then every active assignment is a candidate,
    so that those past the data are flagged one by one and the overdue ones are still chased)."""
    open_cycles = db.exec(select(AuditCycle).where(AuditCycle.status == CycleStatus.OPEN)).all()
    calendars = {la_id: working_calendar(db, la_id) for la_id in {cycle.la_id for cycle in open_cycles}}
    chaseable: dict[uuid.UUID, _OpenCycle] = {}
    horizon: date | None = today
    for cycle in open_cycles:
        calendar = calendars[cycle.la_id]
        try:
            if not calendar.is_working_day(today):
                continue
        except BeyondHolidayData as error:
            warnings.append(beyond_data_warning(error, f"Cycle {cycle.id} was not chased"))
            continue
        try:
            reach = calendar.add_working_days(today, cycle.remind_days_before)
        except BeyondHolidayData:
            reach = None
        horizon = None if reach is None or horizon is None else max(horizon, reach)
        chaseable[cycle.id] = _OpenCycle(cycle, calendar, rules.ReminderPolicy.of(cycle))
    return chaseable, horizon


def _chase_candidates(db: Session, cycles: dict[uuid.UUID, _OpenCycle], today: date, horizon: date | None,
                      warnings: list[str]) -> list[_ChaseItem]:
    if not cycles:
        return []
    # By the open cycles' ids, not a join on the cycle's status: the index on (cycle, status, due
    # date) then reads only the open cycles' rows, however many closed ones there are (benchmarks).
    query = (
        select(Assignment.id, Assignment.cycle_id, Assignment.due_date)
        .where(col(Assignment.cycle_id).in_(list(cycles)), col(Assignment.status).in_(ACTIVE_STATUSES))
    )
    rows = db.exec(query if horizon is None else query.where(Assignment.due_date <= horizon)).all()
    # Assignments allocated together share a due date, so the rules run once per (cycle, due date).
    chases_by_group: dict[tuple[uuid.UUID, date], list[rules.Chase] | BeyondHolidayData] = {}
    unchased: list[BeyondHolidayData] = []
    items = []
    for assignment_id, cycle_id, due_date in rows:
        group = (cycle_id, due_date)
        if group not in chases_by_group:
            entry = cycles[cycle_id]
            try:
                chases_by_group[group] = rules.chases_due(entry.calendar, entry.policy, due_date, today)
            except BeyondHolidayData as error:
                chases_by_group[group] = error
        chases = chases_by_group[group]
        if isinstance(chases, BeyondHolidayData):
            unchased.append(chases)
            continue
        items.extend(_ChaseItem(assignment_id, cycle_id, due_date, chase) for chase in chases)
    if unchased:
        warnings.append(beyond_data_warning(unchased[0], f"{len(unchased)} audit{'s' if len(unchased) != 1 else ''} not chased"))
    return items


def _not_yet_queued(db: Session, items: list[_ChaseItem]) -> list[_ChaseItem]:
    queued: set[str] = set()
    for batch in _batches(items, BATCH):
        keys = [item.key for item in batch]
        queued.update(db.exec(select(OutboxMessage.idempotency_key).where(col(OutboxMessage.idempotency_key).in_(keys))).all())
    # In key order, so that two runs at once insert in the same order: one waits, neither deadlocks.
    return sorted((item for item in items if item.key not in queued), key=lambda item: item.key)


def _queue_chases(db: Session, config: Mapping[str, Any], cycles: dict[uuid.UUID, _OpenCycle],
                  batch: list[_ChaseItem], today: date) -> Counter:
    # Read again in the writing transaction: an audit handed in since the scan is not chased.
    details = {
        assignment_id: rest
        for assignment_id, *rest in db.exec(
            select(Assignment.id, Assignment.la_id, Plan.system_id, User.email, User.display_name)
            .join(Plan, Plan.id == Assignment.plan_id)
            .join(User, User.id == Assignment.auditor_id)
            .join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
            .where(col(Assignment.id).in_({item.assignment_id for item in batch}),
                   col(Assignment.status).in_(ACTIVE_STATUSES), AuditCycle.status == CycleStatus.OPEN)
        ).all()
    }
    mail = StaffMail(db, config)
    messages: list[MessageToQueue] = []
    # Auditor chases of this batch, not yet in the outbox, that an escalation after them must count.
    chased_in_batch: Counter = Counter()
    for item in batch:
        if item.assignment_id not in details:
            continue
        la_id, system_id, auditor_email, auditor_name = details[item.assignment_id]
        calendar = cycles[item.cycle_id].calendar
        due = rules.effective_due_date(calendar, item.due_date)
        assignment = {"system_id": system_id, "due_date": due}
        if item.chase.stage == rules.Stage.ESCALATION:
            message = _escalation(db, mail, item, la_id, auditor_name, assignment,
                                  calendar.working_days_between(due, today), chased_in_batch[item.assignment_id])
        else:
            message = _auditor_chase(mail, item, la_id, auditor_email, auditor_name, assignment, calendar, today)
            chased_in_batch[item.assignment_id] += 1
        if message:
            messages.append(MessageToQueue(**message, key=item.key, la_id=la_id, assignment_id=item.assignment_id))
    # One INSERT for the batch (benchmarks: tick); kinds counted for the messages queued now.
    queued = queue_messages(db, messages)
    return Counter(message.kind for message in messages if message.key in queued)


def _auditor_chase(mail: StaffMail, item: _ChaseItem, la_id: uuid.UUID, email: str, name: str, assignment: dict,
                   calendar: WorkingCalendar, today: date) -> dict:
    due = assignment["due_date"]
    # A "due" chase caught up after the due date goes out as overdue: "due today" would be untrue.
    kind = "overdue" if today > due else AUDITOR_KINDS[item.chase.stage]
    if kind == "reminder":
        assignment["working_days_left"] = calendar.working_days_between(today, due)
    elif kind == "overdue":
        assignment["working_days_overdue"] = calendar.working_days_between(due, today)
    return {"kind": kind, "to": [email], "context": mail.context(la_id, name, assignment=assignment)}


def _escalation(db: Session, mail: StaffMail, item: _ChaseItem, la_id: uuid.UUID, auditor_name: str,
                assignment: dict, working_days_overdue: int, chased_in_batch: int) -> dict | None:
    coordinators = mail.coordinators(la_id)
    if not coordinators:
        logger.warning("escalation of assignment %s not sent: its LA has no active coordinator", item.assignment_id)
        return None
    context = mail.context(
        la_id, coordinators[0].display_name if len(coordinators) == 1 else "coordinators",
        auditor={"display_name": auditor_name},
        assignment={**assignment, "working_days_overdue": working_days_overdue,
                    "reminders_sent": _auditor_chases_sent(db, item.assignment_id) + chased_in_batch},
    )
    return {"kind": "escalation", "to": [user.email for user in coordinators], "context": context}


def _auditor_chases_sent(db: Session, assignment_id: uuid.UUID) -> int:
    return db.exec(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.assignment_id == assignment_id, col(OutboxMessage.kind).in_(AUDITOR_KINDS.values()),
            col(OutboxMessage.status).not_in((MessageStatus.BLOCKED, MessageStatus.CANCELLED)))
    ).one()


def chase_calendar(db: Session, cycle: AuditCycle) -> list[dict]:
    """Every chase planned for the cycle's active assignments, by date: {"assignment": id,
    "auditor": email, "kind": "reminder|due|overdue|escalation", "date": "YYYY-MM-DD"}. Raises
    BeyondHolidayData when a date falls past the bank-holiday data. Only open cycles are chased,
    so a draft or closed one has none."""
    if cycle.status != CycleStatus.OPEN:
        return []
    calendar = working_calendar(db, cycle.la_id)
    policy = rules.ReminderPolicy.of(cycle)
    rows = db.exec(
        select(Assignment.id, User.email, Assignment.due_date)
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.cycle_id == cycle.id, col(Assignment.status).in_(ACTIVE_STATUSES))
    ).all()
    # Assignments allocated together share a due date, and so a plan.
    plan_for = functools.cache(lambda due_date: rules.chase_plan(calendar, policy, due_date))
    entries = [
        {"assignment": str(assignment_id), "auditor": email, "kind": chase.stage.value, "date": chase.on.isoformat()}
        for assignment_id, email, due_date in rows
        for chase in plan_for(due_date)
    ]
    return sorted(entries, key=lambda entry: (entry["date"], entry["auditor"], entry["assignment"]))


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
