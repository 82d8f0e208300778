"""When to try a failed email again: a pure policy, no I/O and no clock of its own.

Transports use classify_failure() to turn what the provider said into a temporary or permanent
failure; the dispatcher uses next_attempt_at() to schedule the next attempt of a temporary one
(docs/checks.md#check-4: a 503 is retried with back-off, a 400 is not; docs/checks.md#check-5: never sooner than Retry-After).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Protocol

import requests

DEFAULT_BASE_SECONDS = 30.0
# Within the four-hour give-up window this still allows about ten attempts.
DEFAULT_CAP_SECONDS = 1800.0

# Request timeout, and Graph's "too many requests": both say "later", not "never".
_TEMPORARY_CLIENT_STATUSES = frozenset({408, 429})
_TEMPORARY_REQUEST_ERRORS = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.RetryError,
    requests.exceptions.ChunkedEncodingError,
)


class Outcome(StrEnum):
    TEMPORARY = "temporary"  # try again later
    PERMANENT = "permanent"  # trying again cannot help: mark the message failed


class RandomSource(Protocol):
    def random(self) -> float: ...


def classify_failure(
    status_code: int | None, exception: BaseException | None = None, *, fresh_token: bool = False
) -> Outcome:
    """Whether a failed call is worth repeating.

    An HTTP status decides when there is one (taken from `exception.response` if not given):
    408, 429 and 5xx are temporary, any other status permanent. A 401 is temporary once, because
    the usual cause is an access token that expired or was revoked and a new token fixes it; pass
    fresh_token=True when the refused token had just been issued, and the 401 becomes permanent.
    Without a status: timeouts, connection errors, requests' RetryError and other network-level
    OSErrors are temporary; anything else (a bug, a malformed URL) is permanent, because repeating
    the same input through the same code gives the same result.
    """
    if status_code is None:
        status_code = _status_of(exception)
    if status_code is not None:
        if status_code == 401:
            return Outcome.PERMANENT if fresh_token else Outcome.TEMPORARY
        if status_code in _TEMPORARY_CLIENT_STATUSES or status_code >= 500:
            return Outcome.TEMPORARY
        return Outcome.PERMANENT
    if isinstance(exception, requests.RequestException):
        # Checked first: requests' exceptions are OSErrors too, but not all of them are transient.
        return Outcome.TEMPORARY if isinstance(exception, _TEMPORARY_REQUEST_ERRORS) else Outcome.PERMANENT
    if isinstance(exception, OSError):
        return Outcome.TEMPORARY
    return Outcome.PERMANENT


def _status_of(exception: BaseException | None) -> int | None:
    response = getattr(exception, "response", None)
    return getattr(response, "status_code", None)


def backoff_ceiling(
    attempt_number: int, *, base_seconds: float = DEFAULT_BASE_SECONDS, cap_seconds: float = DEFAULT_CAP_SECONDS
) -> float:
    """The longest back-off after `attempt_number` failed attempts: base, 2×base, 4×base, … up to cap."""
    if attempt_number < 1:
        raise ValueError("attempt_number counts the attempts made so far, starting at 1")
    # Past 60 doublings every sane cap has been reached; stopping there keeps the arithmetic finite.
    return min(cap_seconds, base_seconds * 2.0 ** min(attempt_number - 1, 60))


def scheduled_attempts(
    window: timedelta, *, base_seconds: float = DEFAULT_BASE_SECONDS, cap_seconds: float = DEFAULT_CAP_SECONDS
) -> int:
    """How many attempts the back-off schedule makes within `window` even at its slowest (every wait
    its ceiling): the first, then one after each wait that still ends inside the window. With the
    defaults and four hours: 30 s, 1, 2, 4, 8, 16 and then 30 minutes, six times, so 13 attempts."""
    attempts, elapsed = 1, backoff_ceiling(1, base_seconds=base_seconds, cap_seconds=cap_seconds)
    while elapsed <= window.total_seconds():
        attempts += 1
        elapsed += backoff_ceiling(attempts, base_seconds=base_seconds, cap_seconds=cap_seconds)
    return attempts


def next_attempt_at(
    now: datetime,
    attempt_number: int,
    retry_after_seconds: float | None,
    rng: RandomSource,
    *,
    base_seconds: float = DEFAULT_BASE_SECONDS,
    cap_seconds: float = DEFAULT_CAP_SECONDS,
) -> datetime:
    """When to try again after `attempt_number` failed attempts.

    Exponential back-off with full jitter (a uniformly random delay up to backoff_ceiling()), so
    that messages that failed together do not all come back together; never earlier than the
    provider's Retry-After.
    """
    delay = rng.random() * backoff_ceiling(attempt_number, base_seconds=base_seconds, cap_seconds=cap_seconds)
    if retry_after_seconds is not None:
        delay = max(delay, retry_after_seconds)
    return now + timedelta(seconds=delay)


def parse_retry_after(header_value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date); None if absent or
    unreadable. A date in the past means no wait. A naive `now` is taken to be UTC."""
    if not header_value:
        return None
    value = header_value.strip()
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, now)
    # float() also accepts "nan", "inf" and negatives, none of which is a delay.
    return seconds if 0 <= seconds < float("inf") else None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        moment = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        moment = moment.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())
