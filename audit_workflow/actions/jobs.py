"""The actions area's scheduled jobs: propose actions from weak audits (and close re-audit actions
whose re-audit is in), chase owners, and the weekly review: each action's red/amber/green status
kept for the review date, and a summary to coordinators.

As with the audit chase (scheduler/jobs.py), every email has an idempotency key that the outbox
admits once, queued in the transaction that decided to send it: `action:<id>:<stage>:<date>` and
`action-summary:<coordinator>:<iso week>`. A review row is unique per (action, review date), so a
second run the same day adds nothing and never overwrites what the first recorded.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..audits.models import Audit
from ..auth.models import Role, User
from ..auth.service import active_users_with_role
from ..authorities.models import LocalAuthority
from ..clock import ENGLAND, today as england_today, utcnow
from ..cycles.chase_rules import ReminderPolicy, Stage, latest_auditor_chase
from ..cycles.working_days import working_calendar
from ..db import dialect_insert, session_scope
from ..notifications.catalogue import staff_context
from ..notifications.outbox import queue_message
from ..outcome import JobOutcome
from ..workdays import BeyondHolidayData
from . import rules, service
from .kinds import ActionStatus
from .models import Action, ActionReview

logger = logging.getLogger(__name__)

OWNER_KINDS = {Stage.REMINDER: "action_reminder", Stage.OVERDUE: "action_overdue"}


def _england_date(now: datetime | None) -> date:
    return now.astimezone(ENGLAND).date() if now else england_today()


def _counted(counts: Counter, nothing: str) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) if counts else nothing


def actions_propose_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Propose an action for each recently submitted weak audit, and close each re-audit action
    whose re-audit has been submitted. One transaction per audit or action: one bad row does not
    hold up the rest."""
    now = now or utcnow()
    with Session(engine) as db:
        audit_ids = service.audits_to_consider(db, now)
        done_ids = service.reaudits_done(db)
    counts: Counter = Counter()
    for audit_id in audit_ids:
        with session_scope(engine, immediate=True) as db:
            if service.propose_for_audit(db, db.get(Audit, audit_id)):
                counts["proposed"] += 1
    for action_id in done_ids:
        with session_scope(engine, immediate=True) as db:
            if service.record_reaudit_result(db, db.get(Action, action_id)):
                counts["closed after re-audit"] += 1
    return JobOutcome(_counted(counts, "Nothing to propose"))


def actions_chase_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Remind each owner before their action is due, and chase them while it is overdue, on the LA's
    working days and its action settings (the audit chase's rules, cycles/chase_rules.py)."""
    today = _england_date(now)
    warnings: list[str] = []
    counts: Counter = Counter()
    with session_scope(engine, immediate=True) as db:
        rows = db.exec(
            select(Action, User).join(User, User.id == Action.owner_id)
            .where(col(Action.status).in_((ActionStatus.OPEN, ActionStatus.REAUDIT)), col(Action.due_date).is_not(None),
                   User.active)
            .order_by(Action.id)
        ).all()
        calendars, policies = {}, {}
        for action, owner in rows:
            if action.la_id not in calendars:
                calendars[action.la_id] = working_calendar(db, action.la_id)
                settings = service.settings_for(db, action.la_id)
                policies[action.la_id] = ReminderPolicy(settings.remind_days_before, settings.overdue_interval_days, 0)
            calendar = calendars[action.la_id]
            try:
                if not calendar.is_working_day(today):
                    continue
                chase = latest_auditor_chase(calendar, policies[action.la_id], action.due_date, today)
                if chase is None:
                    continue
                extra = ({"working_days_left": calendar.working_days_between(today, action.due_date)}
                         if chase.stage == Stage.REMINDER
                         else {"working_days_overdue": max(calendar.working_days_between(action.due_date, today), 0)})
            except BeyondHolidayData as error:
                warnings.append(f"Action {action.id} was not chased: {error}")
                continue
            stage = chase.stage
            if stage == Stage.DUE:
                if today <= action.due_date:
                    continue  # owners hear before and after, not on the day
                stage = Stage.OVERDUE  # the first overdue email, on the first working day after the due date
            kind = OWNER_KINDS[stage]
            if queue_message(db, kind=kind, to=[owner.email], la_id=action.la_id,
                             key=f"action:{action.id}:{stage}:{chase.on.isoformat()}",
                             context=service.owner_email_context(db, config, action, owner, **extra)):
                counts[kind] += 1
    return JobOutcome(_counted(counts, "Nothing to chase"), "; ".join(warnings) or None)


def actions_weekly_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Record each action's red/amber/green status for this week's review date (the Monday), and
    send each LA's coordinators the week's summary. Made up later in the week if Monday's run is missed."""
    today = _england_date(now)
    year, week, weekday = today.isocalendar()
    review_date = today - timedelta(days=weekday - 1)
    week_label = f"{year}-W{week:02d}"
    counts: Counter = Counter()
    warnings: list[str] = []
    with session_scope(engine, immediate=True) as db:
        for la in db.exec(select(LocalAuthority).order_by(LocalAuthority.id)).all():
            counts["statuses recorded"] += record_reviews(db, la.id, review_date, warnings)
            try:
                if not working_calendar(db, la.id).is_working_day(today):
                    continue  # the summary waits for the LA's next working day this week
            except BeyondHolidayData as error:
                warnings.append(f"No action summary for LA {la.id}: {error}")
                continue
            counts["summary"] += _send_summary(db, config, la, review_date, week_label)
    return JobOutcome(_counted(+counts, "No actions to review"), "; ".join(warnings) or None)


def record_reviews(db: Session, la_id: uuid.UUID, review_date: date, warnings: list[str]) -> int:
    """Each action's status on the review date, once; actions closed more than a week before it are
    left out (their last review already shows them closed)."""
    calendar = working_calendar(db, la_id)
    settings = service.settings_for(db, la_id)
    closed_before = col(Action.closed_at) < datetime.combine(review_date - timedelta(days=7), datetime.min.time(), ENGLAND)
    recorded = 0
    for action in db.exec(select(Action).where(Action.la_id == la_id, ~(col(Action.closed_at).is_not(None) & closed_before))).all():
        try:
            status = rules.rag(action.status, action.due_date, review_date, calendar, settings.remind_days_before)
        except BeyondHolidayData as error:
            warnings.append(f"Action {action.id} was not reviewed: {error}")
            continue
        inserted = db.execute(
            dialect_insert(db, ActionReview).values(id=uuid.uuid4(), la_id=la_id, action_id=action.id, review_date=review_date,
                                                    status=action.status, rag=status)
            .on_conflict_do_nothing(index_elements=["action_id", "review_date"]).returning(ActionReview.__table__.c.id)
        ).first()
        recorded += inserted is not None
    return recorded


def _send_summary(db: Session, config: Mapping[str, Any], la: LocalAuthority, review_date: date, week_label: str) -> int:
    rows = service.actions_for_la(db, la.id)
    if not rows:
        return 0
    week_ending = review_date - timedelta(days=1)
    week_start = datetime.combine(review_date - timedelta(days=7), datetime.min.time(), ENGLAND)
    overdue = [row for row in rows if row.overdue]
    report = {
        "actions": {
            "proposed": sum(row.action.status == ActionStatus.PROPOSED for row in rows),
            "open": sum(row.action.status in (ActionStatus.OPEN, ActionStatus.REAUDIT) for row in rows),
            "overdue": len(overdue),
            "closed_this_week": sum(row.action.closed_at is not None and row.action.closed_at >= week_start for row in rows),
        },
        "overdue": [{"system_id": row.system_id, "summary": row.action.summary, "owner_name": row.owner_name or row.team,
                     "due_date": row.action.due_date} for row in overdue],
    }
    sent = 0
    for coordinator in active_users_with_role(db, la.id, Role.COORDINATOR):
        context = staff_context(config, la, coordinator.display_name, week_ending=week_ending, **report)
        sent += queue_message(db, kind="action_summary", to=[coordinator.email], la_id=la.id, context=context,
                              key=f"action-summary:{coordinator.id}:{week_label}")
    return sent

