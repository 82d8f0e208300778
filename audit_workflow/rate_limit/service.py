"""Counting events against rate limits in the database. Each function takes the session first and
flushes; the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from .models import RateLimitEvent
from .rules import Limit, event_key, used_up

Check = tuple[Limit, str]  # a limit and the value (email, address, token hash) it is counted for


def any_used_up(db: Session, checks: Iterable[Check], now: datetime) -> bool:
    """True when any of the keys has used up its limit within its window (one query for them all)."""
    keyed = {event_key(limit, value): limit for limit, value in checks}
    counts = dict(db.exec(select(RateLimitEvent.key_hash, func.count()).where(
        col(RateLimitEvent.key_hash).in_(keyed), RateLimitEvent.expires_at > now).group_by(RateLimitEvent.key_hash)).all())
    return any(used_up(limit, counts.get(key, 0)) for key, limit in keyed.items())


def record(db: Session, checks: Iterable[Check], now: datetime) -> None:
    """Count one event against each key, until its limit's window has passed."""
    db.add_all([RateLimitEvent(key_hash=event_key(limit, value), expires_at=now + limit.window) for limit, value in checks])
    db.flush()


def forget_expired(db: Session, now: datetime) -> int:
    """Events that no longer count are deleted, which keeps the table small; how many."""
    return db.execute(delete(RateLimitEvent).where(col(RateLimitEvent.expires_at) <= now)).rowcount
