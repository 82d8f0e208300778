"""Feedback's scheduled jobs: invitations and reminders, and deleting contacts at their cycle's
retention date. Both are safe to run twice or at once in two processes (see service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from ..clock import utcnow
from ..db import session_scope
from ..outcome import JobOutcome
from . import service


def feedback_invite_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Invite families, young people and schools once their plan's audit has been submitted a few
    days, and remind once those who have not answered."""
    with session_scope(engine, immediate=True) as db:
        counts = service.send_due_invitations(db, service.mail_settings(config), now or utcnow())
    return JobOutcome(f"Feedback invitations {counts['invitations']}, reminders {counts['reminders']}")


def feedback_purge_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Delete feedback contact details (and their links) past their cycle's retention date."""
    with session_scope(engine, immediate=True) as db:
        counts = service.purge_expired_contacts(db, now or utcnow(), config["FEEDBACK_CONTACT_RETENTION_DAYS"])
    return JobOutcome(f"Deleted {counts['contacts']} feedback contact{'s' if counts['contacts'] != 1 else ''} "
                      f"and {counts['links']} link{'s' if counts['links'] != 1 else ''}")
