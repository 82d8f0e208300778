"""The access trail's retention purge, run daily by the scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from ..clock import utcnow
from ..db import session_scope
from ..outcome import JobOutcome
from .service import purge_expired


def trail_purge_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Delete access events older than TRAIL_RETENTION_DAYS."""
    with session_scope(engine, immediate=True) as db:
        purged = purge_expired(db, now or utcnow(), config["TRAIL_RETENTION_DAYS"])
    return JobOutcome(f"Purged {purged} access event{'s' if purged != 1 else ''}")
