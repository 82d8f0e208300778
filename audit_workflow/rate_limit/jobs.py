"""The rate limits' scheduled job: forget events once they no longer count."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from ..clock import utcnow
from ..db import session_scope
from ..outcome import JobOutcome
from . import service


def rate_limit_purge_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Delete rate-limit events (failed sign-ins, feedback link opens) older than their limit's window."""
    with session_scope(engine) as db:
        deleted = service.forget_expired(db, now or utcnow())
    return JobOutcome(f"Forgot {deleted} rate-limit event{'s' if deleted != 1 else ''}")
