"""The scheduled jobs: plain functions `job(engine, config, now=None)` that scan the database for
due work, so the scheduler, `audit-workflow run-job JOB_ID` (cron) and the tests run the same code.

Every job may run twice, late, or at the same moment in two processes: each email it queues has an
idempotency key (`assignment:<id>:<stage>:<date>`, `digest:<cycle>:<coordinator>:<iso week>`) that
the outbox's unique constraint admits once (check 7), in the same transaction as the scan that
decided to send it. Reallocation is a state transition instead: the assignment row is locked and
must still be not started. The lease only stops the work being done twice; it is not what makes it safe.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator, Mapping

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..auth.models import Role, User
from ..auth.service import active_users_with_role
from ..authorities.models import LocalAuthority
from ..clock import ENGLAND, today as england_today, utcnow
from ..cycles import progress
from ..cycles.models import ACTIVE_STATUSES, Assignment, AssignmentStatus, AuditCycle, CycleAuditor, CycleStatus
from ..cycles.service import CycleError, eligible_auditors, held_per_auditor, reassign
from ..moderation.jobs import moderation_sample_job
from ..db import describe_error, session_scope
from ..notifications.catalogue import staff_context
from ..notifications.dispatcher import dispatch_due
from ..notifications.models import MessageStatus, OutboxMessage
from ..notifications.outbox import queue_message
from ..notifications.service import purge_expired
from ..outcome import JobOutcome
from ..plans.models import Plan
from ..workdays import BeyondHolidayData, WorkingCalendar
from . import chase as rules
from .models import JobRun, RunStatus, dialect_insert

logger = logging.getLogger(__name__)

# Assignments queued per transaction: a crash loses at most one batch of work, which the next run
# redoes, and a national-scale run never holds one enormous transaction.
BATCH = 500
RETENTION_ALERT_AFTER = timedelta(hours=48)

# The emails that chase the auditor, by stage.
AUDITOR_KINDS = {rules.Stage.REMINDER: "reminder", rules.Stage.DUE: "due_today", rules.Stage.OVERDUE: "overdue"}


def _england_date(now: datetime | None) -> date:
    return now.astimezone(ENGLAND).date() if now else england_today()


def _counted(counts: Counter, nothing: str) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) if counts else nothing


# Warnings name a cycle by its id, not its name: they are logged, and shown on the scheduler page to
# the admins of every LA the deployment serves.
def _beyond_data_warning(error: BeyondHolidayData, what: str) -> str:
    logger.warning("%s: %s", what, error)
    return f"{what}: {error}"


# --- Email context ---------------------------------------------------------------------------------


class _Directory:
    """LAs and their coordinators, looked up once per job run."""

    def __init__(self, db: Session, config: Mapping[str, Any]):
        self.db = db
        self.config = config
        self._las: dict[uuid.UUID, LocalAuthority] = {}
        self._coordinators: dict[uuid.UUID, list[User]] = {}

    def staff_context(self, la_id: uuid.UUID, recipient_name: str, **fields) -> dict:
        if la_id not in self._las:
            self._las[la_id] = self.db.get(LocalAuthority, la_id)
        return staff_context(self.config, self._las[la_id], recipient_name, **fields)

    def coordinators(self, la_id: uuid.UUID) -> list[User]:
        if la_id not in self._coordinators:
            self._coordinators[la_id] = active_users_with_role(self.db, la_id, Role.COORDINATOR)
        return self._coordinators[la_id]


# --- dispatch_outbox and retention_purge: the notifications area does the work -------------------


def dispatch_outbox(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Send the outbox messages that are due (the dispatcher keeps each run within its time budget)."""
    reached = dispatch_due(engine, config, now=now)
    return JobOutcome(_counted(Counter({status: count for status, count in reached.items() if count}), "Nothing to send"))


def retention_purge(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Delete the content and addresses of email past the retention period (check 19)."""
    with session_scope(engine, immediate=True) as db:
        purged = purge_expired(db, now or utcnow(), config["MAIL_RETENTION_DAYS"])
    return JobOutcome(f"Purged {purged} message{'s' if purged != 1 else ''}")


def retention_alert(run: JobRun | None, now: datetime) -> str | None:
    """Check 19: an alert when the purge has not succeeded for 48 hours (or ever)."""
    if run is None or run.last_succeeded_at is None:
        return "The email retention purge has never succeeded, so message contents are not being deleted."
    if now - run.last_succeeded_at > RETENTION_ALERT_AFTER:
        return (f"The email retention purge has not succeeded since {run.last_succeeded_at:%d %B %Y %H:%M} UTC, "
                "so message contents are not being deleted.")
    return None


# --- chase ------------------------------------------------------------------------------------------


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


def chase(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Queue today's reminder, due-today, overdue and escalation emails (the rules are in chase.py).

    One query finds the candidates, using the (status, due_date) index: active assignments of open
    cycles due no later than the furthest reminder horizon, which are exactly those that may have
    a chase dated today or earlier. The rules are worked out once per (cycle, due date), keys
    already in the outbox are dropped, and the rest are queued in batches. So the work grows with
    the assignments near or past their due date, not with all the assignments there are.
    """
    today = _england_date(now)
    warnings: list[str] = []
    with Session(engine) as db:
        cycles, horizon = _chaseable_cycles(db, today, warnings)
        candidates = _chase_candidates(db, cycles, today, horizon, warnings) if cycles else []
        pending = _not_yet_queued(db, candidates)
    counts: Counter = Counter()
    for batch in _batches(pending, BATCH):
        with session_scope(engine, immediate=True) as db:
            counts.update(_queue_chases(db, config, cycles, batch, today))
    summary = _counted(counts, "Nothing to chase" if cycles else "No open cycle has a working day today")
    return JobOutcome(summary, "; ".join(warnings) or None)


def _chaseable_cycles(db: Session, today: date, warnings: list[str]) -> tuple[dict[uuid.UUID, _OpenCycle], date | None]:
    """Open cycles whose LA works today, and the latest due date any of them reminds about today
    (None when that lies past the bank-holiday data: then every active assignment is a candidate,
    so that those past the data are flagged one by one and the overdue ones are still chased)."""
    open_cycles = db.exec(select(AuditCycle).where(AuditCycle.status == CycleStatus.OPEN)).all()
    calendars = {la_id: rules.working_calendar(db, la_id) for la_id in {cycle.la_id for cycle in open_cycles}}
    chaseable: dict[uuid.UUID, _OpenCycle] = {}
    horizon: date | None = today
    for cycle in open_cycles:
        calendar = calendars[cycle.la_id]
        try:
            if not calendar.is_working_day(today):
                continue
        except BeyondHolidayData as error:
            warnings.append(_beyond_data_warning(error, f"Cycle {cycle.id} was not chased"))
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
        warnings.append(_beyond_data_warning(unchased[0], f"{len(unchased)} audit{'s' if len(unchased) != 1 else ''} not chased"))
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
    directory = _Directory(db, config)
    counts: Counter = Counter()
    for item in batch:
        if item.assignment_id not in details:
            continue
        la_id, system_id, auditor_email, auditor_name = details[item.assignment_id]
        calendar = cycles[item.cycle_id].calendar
        due = rules.effective_due_date(calendar, item.due_date)
        assignment = {"system_id": system_id, "due_date": due}
        if item.chase.stage == rules.Stage.ESCALATION:
            message = _escalation(db, directory, item, la_id, auditor_name, assignment,
                                  calendar.working_days_between(due, today))
        else:
            message = _auditor_chase(directory, item, la_id, auditor_email, auditor_name, assignment, calendar, today)
        if message and queue_message(db, **message, key=item.key, la_id=la_id, assignment_id=item.assignment_id):
            counts[message["kind"]] += 1
    return counts


def _auditor_chase(directory: _Directory, item: _ChaseItem, la_id: uuid.UUID, email: str, name: str, assignment: dict,
                   calendar: WorkingCalendar, today: date) -> dict:
    due = assignment["due_date"]
    # A "due" chase caught up after the due date goes out as overdue: "due today" would be untrue.
    kind = "overdue" if today > due else AUDITOR_KINDS[item.chase.stage]
    if kind == "reminder":
        assignment["working_days_left"] = calendar.working_days_between(today, due)
    elif kind == "overdue":
        assignment["working_days_overdue"] = calendar.working_days_between(due, today)
    return {"kind": kind, "to": [email], "context": directory.staff_context(la_id, name, assignment=assignment)}


def _escalation(db: Session, directory: _Directory, item: _ChaseItem, la_id: uuid.UUID, auditor_name: str,
                assignment: dict, working_days_overdue: int) -> dict | None:
    coordinators = directory.coordinators(la_id)
    if not coordinators:
        logger.warning("escalation of assignment %s not sent: its LA has no active coordinator", item.assignment_id)
        return None
    context = directory.staff_context(
        la_id, coordinators[0].display_name if len(coordinators) == 1 else "coordinators",
        auditor={"display_name": auditor_name},
        assignment={**assignment, "working_days_overdue": working_days_overdue,
                    "reminders_sent": _auditor_chases_sent(db, item.assignment_id)},
    )
    return {"kind": "escalation", "to": [user.email for user in coordinators], "context": context}


def _auditor_chases_sent(db: Session, assignment_id: uuid.UUID) -> int:
    return db.exec(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.assignment_id == assignment_id, col(OutboxMessage.kind).in_(AUDITOR_KINDS.values()),
            col(OutboxMessage.status).not_in((MessageStatus.BLOCKED, MessageStatus.CANCELLED)))
    ).one()


# --- reallocate -----------------------------------------------------------------------------------


def reallocate(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Give long-overdue audits that nobody has started to another auditor, in the open cycles whose
    reminder policy says so (`reallocate_after_days` working days overdue; empty means never).

    Only audits not started: an auditor who has begun has work in their drafts that a move would
    strand, so those stay with the escalation to the coordinator. The new auditor is the eligible
    pool member (cycles.service.eligible_auditors) with the most room left; with nobody free the
    audit stays where it is and the next run tries again. cycles.service.reassign() does the move
    (withdrawn old assignment, new one due in the cycle's working days, emails to both auditors);
    it needs an application context, which the scheduler and `run-job` provide. `now` decides what
    is overdue; like the service, the new due date counts from clock.today().
    """
    today = _england_date(now)
    warnings: list[str] = []
    with Session(engine) as db:
        due = _due_for_reallocation(db, today, warnings)
    counts: Counter = Counter()
    for assignment_id in sorted(due):
        try:
            with session_scope(engine, immediate=True) as db:
                outcome = _reallocate_one(db, assignment_id)
        except CycleError as error:  # the new due date is past the bank-holiday data
            warnings.append(f"An audit was not reallocated: {error}")
            continue
        if outcome:
            counts[outcome] += 1
    return JobOutcome(_counted(counts, "Nothing to reallocate"), "; ".join(warnings) or None)


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
            calendars[cycle.la_id] = rules.working_calendar(db, cycle.la_id)
        calendar = calendars[cycle.la_id]
        try:
            if not calendar.is_working_day(today):
                continue
            overdue = calendar.working_days_between(rules.effective_due_date(calendar, due_date), today)
        except BeyondHolidayData as error:
            warnings.append(_beyond_data_warning(error, f"An audit in cycle {cycle.id} was not considered for reallocation"))
            continue
        if overdue >= cycle.reallocate_after_days:
            due.append(assignment_id)
    return due


def _reallocate_one(db: Session, assignment_id: uuid.UUID) -> str | None:
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
    reassign(db, assignment, auditor_id, actor=None)
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


# --- weekly_digest ----------------------------------------------------------------------------------


def weekly_digest(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Each coordinator's weekly progress email for each open cycle of their LA.

    One per (cycle, coordinator, ISO week), queued on the first working day of the week that the job
    runs: Monday at 08:00, or Tuesday after a bank-holiday Monday; a run missed on Monday is made up
    at the next run that week. It reports the week that ended on the Sunday before.
    """
    today = _england_date(now)
    year, week, weekday = today.isocalendar()
    week_label = f"{year}-W{week:02d}"
    week_ending = today - timedelta(days=weekday)
    warnings: list[str] = []
    counts: Counter = Counter()
    with session_scope(engine, immediate=True) as db:
        directory = _Directory(db, config)
        calendars: dict[uuid.UUID, WorkingCalendar] = {}
        for cycle in db.exec(select(AuditCycle).where(AuditCycle.status == CycleStatus.OPEN).order_by(AuditCycle.id)).all():
            if cycle.la_id not in calendars:
                calendars[cycle.la_id] = rules.working_calendar(db, cycle.la_id)
            try:
                if not calendars[cycle.la_id].is_working_day(today):
                    continue
            except BeyondHolidayData as error:
                warnings.append(_beyond_data_warning(error, f"No digest for cycle {cycle.id}"))
                continue
            coordinators = directory.coordinators(cycle.la_id)
            keys = {coordinator.id: f"digest:{cycle.id}:{coordinator.id}:{week_label}" for coordinator in coordinators}
            sent = set(db.exec(select(OutboxMessage.idempotency_key).where(col(OutboxMessage.idempotency_key).in_(keys.values()))).all())
            waiting = [coordinator for coordinator in coordinators if keys[coordinator.id] not in sent]
            if not waiting:
                continue
            report = _digest_report(db, cycle, today)
            for coordinator in waiting:
                context = directory.staff_context(cycle.la_id, coordinator.display_name, cycle={"name": cycle.name},
                                                  week_ending=week_ending, **report)
                if queue_message(db, kind="coordinator_digest", to=[coordinator.email], context=context,
                                 key=keys[coordinator.id], la_id=cycle.la_id):
                    counts["coordinator_digest"] += 1
    return JobOutcome(_counted(counts, "No digests due"), "; ".join(warnings) or None)


def _digest_report(db: Session, cycle: AuditCycle, today: date) -> dict:
    counts = progress.cycle_progress(db, cycle, today)
    by_status = counts.by_status
    overdue_by_auditor: dict[str, list[str]] = defaultdict(list)
    for plan in progress.allocated(db, cycle, today):
        if plan.overdue:
            overdue_by_auditor[plan.auditor_name].append(plan.system_id)
    shown = ("not_started", "in_progress", "submitted", "declined")
    return {
        "progress": {
            # Replaced (withdrawn) assignments are history, not audits in the cycle.
            "total": sum(by_status.get(status, 0) for status in shown),
            **{status: by_status.get(status, 0) for status in shown},
            "overdue": counts.overdue,
        },
        "overdue_by_auditor": [{"auditor_name": name, "system_ids": ids} for name, ids in sorted(overdue_by_auditor.items())],
        "plans_to_send": [{"system_id": plan.system_id, "auditor_name": plan.auditor_name}
                          for plan in progress.plans_to_send(db, cycle)],
    }


# --- Running a job and recording it --------------------------------------------------------------


JOBS: dict[str, Callable[..., JobOutcome]] = {
    "dispatch_outbox": dispatch_outbox,
    "reallocate": reallocate,
    "chase": chase,
    "weekly_digest": weekly_digest,
    "retention_purge": retention_purge,
    "moderation_sample": moderation_sample_job,
}


def run_and_record(engine: Engine, config: Mapping[str, Any], job_id: str, ran_by: str,
                   jobs: Mapping[str, Callable[..., JobOutcome]] = JOBS) -> JobRun:
    """Run one job now and keep its start, finish, status and error in JobRun. A failure is recorded
    and logged, never raised: the caller (the scheduler, or run-job's exit status) reads the row."""
    values = {"job_id": job_id, "status": RunStatus.RUNNING, "ran_by": ran_by, "started_at": utcnow(),
              "finished_at": None, "error": None}
    with session_scope(engine, immediate=True) as db:
        db.execute(dialect_insert(db, JobRun).values(**values).on_conflict_do_update(index_elements=["job_id"], set_=values))
    try:
        outcome = jobs[job_id](engine, config)
    except Exception as error:  # whatever went wrong, it is reported the same way
        description = describe_error(error)
        logger.error("job %s failed: %s", job_id, description)
        return _finish(engine, job_id, status=RunStatus.FAILED, error=description)
    return _finish(engine, job_id, status=RunStatus.SUCCEEDED, last_succeeded_at=utcnow(), summary=outcome.summary[:500],
                   warning=outcome.warning and outcome.warning[:500])


def _finish(engine: Engine, job_id: str, **values) -> JobRun:
    with session_scope(engine, immediate=True) as db:
        run = db.get(JobRun, job_id)
        for name, value in {"finished_at": utcnow(), **values}.items():
            setattr(run, name, value)
        db.add(run)
    return run


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
