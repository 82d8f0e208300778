"""The notifications area's scheduled jobs: sending what the outbox holds, and deleting the content
and addresses of old email (with the alert the scheduler page shows when that stops happening)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from ..clock import utcnow
from ..db import session_scope
from ..outcome import JobOutcome, counted
from .dispatcher import dispatch_due
from .service import purge_expired

RETENTION_ALERT_AFTER = timedelta(hours=48)


def dispatch_outbox_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Send the outbox messages that are due (the dispatcher keeps each run within its time budget)."""
    reached = dispatch_due(engine, config, now=now)
    return JobOutcome(counted(Counter({status: count for status, count in reached.items() if count}), "Nothing to send"))


def retention_purge_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Delete the content and addresses of email past the retention period (docs/checks.md#check-19)."""
    with session_scope(engine, immediate=True) as db:
        purged = purge_expired(db, now or utcnow(), config["MAIL_RETENTION_DAYS"])
    return JobOutcome(f"Purged {purged} message{'s' if purged != 1 else ''}")


def retention_alert(last_succeeded_at: datetime | None, now: datetime) -> str | None:
    """docs/checks.md#check-19: an alert when the purge has not succeeded for 48 hours (or ever)."""
    if last_succeeded_at is None:
        return "The email retention purge has never succeeded, so message contents are not being deleted."
    if now - last_succeeded_at > RETENTION_ALERT_AFTER:
        return (f"The email retention purge has not succeeded since {last_succeeded_at:%d %B %Y %H:%M} UTC, "
                "so message contents are not being deleted.")
    return None
