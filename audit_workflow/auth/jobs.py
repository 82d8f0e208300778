"""Sign-in's scheduled job: forget failed sign-in attempts once they no longer count."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from ..clock import utcnow
from ..db import session_scope
from ..outcome import JobOutcome
from . import service


def signin_attempts_purge_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Delete failed sign-in attempts older than the rate-limit window, so the table stays small."""
    with session_scope(engine) as db:
        deleted = service.forget_old_sign_in_failures(db, service.SignInLimits.from_settings(config), now or utcnow())
    return JobOutcome(f"Forgot {deleted} failed sign-in attempt{'s' if deleted != 1 else ''}")
