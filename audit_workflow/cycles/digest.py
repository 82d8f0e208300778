"""The weekly digest job: each coordinator's progress email for each open cycle of their LA.

Each digest has an idempotency key (`digest:<cycle>:<coordinator>:<iso week>`) that the outbox
admits once, so a run made twice, or in two processes at once, sends it once.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..db import session_scope
from ..notifications.models import OutboxMessage
from ..notifications.outbox import queue_message
from ..notifications.staff_mail import StaffMail
from ..outcome import JobOutcome, counted
from ..workdays import BeyondHolidayData, WorkingCalendar
from . import progress
from .models import AuditCycle, CycleStatus
from .working_days import beyond_data_warning, run_date, working_calendar


def weekly_digest_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Each coordinator's weekly progress email for each open cycle of their LA.

    One per (cycle, coordinator, ISO week), queued on the first working day of the week that the job
    runs: Monday at 08:00, or Tuesday after a bank-holiday Monday; a run missed on Monday is made up
    at the next run that week. It reports the week that ended on the Sunday before.
    """
    today = run_date(now)
    year, week, weekday = today.isocalendar()
    week_label = f"{year}-W{week:02d}"
    week_ending = today - timedelta(days=weekday)
    warnings: list[str] = []
    counts: Counter = Counter()
    with session_scope(engine, immediate=True) as db:
        mail = StaffMail(db, config)
        calendars: dict[uuid.UUID, WorkingCalendar] = {}
        for cycle in db.exec(select(AuditCycle).where(AuditCycle.status == CycleStatus.OPEN).order_by(AuditCycle.id)).all():
            if cycle.la_id not in calendars:
                calendars[cycle.la_id] = working_calendar(db, cycle.la_id)
            try:
                if not calendars[cycle.la_id].is_working_day(today):
                    continue
            except BeyondHolidayData as error:
                warnings.append(beyond_data_warning(error, f"No digest for cycle {cycle.id}"))
                continue
            coordinators = mail.coordinators(cycle.la_id)
            keys = {coordinator.id: f"digest:{cycle.id}:{coordinator.id}:{week_label}" for coordinator in coordinators}
            sent = set(db.exec(select(OutboxMessage.idempotency_key).where(col(OutboxMessage.idempotency_key).in_(keys.values()))).all())
            waiting = [coordinator for coordinator in coordinators if keys[coordinator.id] not in sent]
            if not waiting:
                continue
            report = _digest_report(db, cycle, today)
            for coordinator in waiting:
                context = mail.context(cycle.la_id, coordinator.display_name, cycle={"name": cycle.name},
                                                  week_ending=week_ending, **report)
                if queue_message(db, kind="coordinator_digest", to=[coordinator.email], context=context,
                                 key=keys[coordinator.id], la_id=cycle.la_id):
                    counts["coordinator_digest"] += 1
    return JobOutcome(counted(counts, "No digests due"), "; ".join(warnings) or None)


def _digest_report(db: Session, cycle: AuditCycle, today: date) -> dict:
    counts = progress.cycle_progress(db, cycle, today)
    by_status = counts.by_status
    # Chasing covers every kind of assignment, so this list does too.
    overdue_by_auditor: dict[str, list[str]] = defaultdict(list)
    for plan in progress.allocated(db, cycle, today):
        if plan.overdue:
            overdue_by_auditor[plan.auditor_name].append(plan.system_id)
    shown = ("not_started", "in_progress", "submitted", "declined")
    return {
        "progress": {
            # The first audits of the sampled plans; replaced (withdrawn) ones are history, not audits in the cycle.
            "total": counts.in_cycle,
            **{status: by_status.get(status, 0) for status in shown},
            "overdue": counts.overdue,
        },
        **{name: {"total": kind.in_cycle, "submitted": kind.submitted, "overdue": kind.overdue}
           for name, kind in (("moderation", counts.moderation), ("reaudits", counts.reaudits))},
        "overdue_by_auditor": [{"auditor_name": name, "system_ids": ids} for name, ids in sorted(overdue_by_auditor.items())],
        "plans_to_send": [{"system_id": plan.system_id, "auditor_name": plan.auditor_name}
                          for plan in progress.plans_to_send(db, cycle)],
    }
