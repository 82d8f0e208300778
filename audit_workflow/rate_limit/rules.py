"""What a rate limit is, as plain values (pure): a limit, the hashed key an event is kept under,
and when a key has used its limit up. No Flask, no database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Limit:
    """At most `requests` events (requests, failed sign-ins) in any `window` for one key. The scope
    keeps one limit's keys apart from another's, so the sign-in and the feedback limits on one
    address count separately."""

    scope: str
    requests: int
    window: timedelta


def event_key(limit: Limit, value: str) -> str:
    """Events are kept under a hash, never the raw email, address or token."""
    return hashlib.sha256(f"{limit.scope}:{value}".encode()).hexdigest()


def used_up(limit: Limit, recent_events: int) -> bool:
    """True when the events already counted within the window leave no room for one more."""
    return recent_events >= limit.requests
