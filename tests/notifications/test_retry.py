"""The retry policy (docs/checks.md#check-4 and docs/checks.md#check-5): what is worth retrying, and when."""

from __future__ import annotations

import random
import smtplib
import socket
from datetime import datetime, timedelta, timezone

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from audit_workflow.notifications.retry import (
    DEFAULT_BASE_SECONDS,
    DEFAULT_CAP_SECONDS,
    Outcome,
    backoff_ceiling,
    classify_failure,
    next_attempt_at,
    parse_retry_after,
)

NOW = datetime(2026, 11, 2, 9, 0, 0)


class FixedRandom:
    """Always draws the same number in [0, 1)."""

    def __init__(self, value: float):
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_timeouts_throttling_and_server_errors_are_temporary(status):
    assert classify_failure(status, None) is Outcome.TEMPORARY


@pytest.mark.parametrize("status", [400, 403, 404, 409, 413, 422])
def test_other_client_errors_are_permanent(status):
    assert classify_failure(status, None) is Outcome.PERMANENT


def test_a_401_is_temporary_once_then_permanent_with_a_fresh_token():
    assert classify_failure(401, None) is Outcome.TEMPORARY
    assert classify_failure(401, None, fresh_token=True) is Outcome.PERMANENT


def test_the_status_is_read_from_an_http_error():
    response = requests.Response()
    response.status_code = 503
    assert classify_failure(None, requests.HTTPError(response=response)) is Outcome.TEMPORARY
    response.status_code = 400
    assert classify_failure(None, requests.HTTPError(response=response)) is Outcome.PERMANENT


@pytest.mark.parametrize("error", [
    requests.exceptions.ConnectTimeout(), requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError(),
    requests.exceptions.RetryError(), TimeoutError(), ConnectionRefusedError(), socket.gaierror(),
    smtplib.SMTPServerDisconnected(),
])
def test_network_failures_are_temporary(error):
    assert classify_failure(None, error) is Outcome.TEMPORARY


@pytest.mark.parametrize("error", [requests.exceptions.InvalidURL(), ValueError("bug"), KeyError("id")])
def test_bugs_and_bad_configuration_are_permanent(error):
    assert classify_failure(None, error) is Outcome.PERMANENT


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 30), (2, 60), (3, 120), (7, 1800), (10_000, 1800)])
def test_the_ceiling_doubles_up_to_the_cap(attempt, ceiling):
    assert backoff_ceiling(attempt) == ceiling


def test_attempts_are_counted_from_one():
    with pytest.raises(ValueError):
        backoff_ceiling(0)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    retry_after=st.one_of(st.none(), st.floats(min_value=0, max_value=86_400)),
    seed=st.integers(),
)
def test_never_earlier_than_retry_after_and_never_later_than_needed(attempt, retry_after, seed):
    when = next_attempt_at(NOW, attempt, retry_after, random.Random(seed))
    delay = (when - NOW).total_seconds()
    assert delay >= 0
    if retry_after is not None:
        assert when >= NOW + timedelta(seconds=retry_after)
    assert delay <= max(backoff_ceiling(attempt), retry_after or 0) + 1e-6


@given(
    attempt=st.integers(min_value=1, max_value=200),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
    base=st.floats(min_value=0.1, max_value=600),
    cap=st.floats(min_value=1, max_value=86_400),
)
def test_the_delay_grows_with_the_attempt_up_to_the_cap(attempt, draw, base, cap):
    def delay(n: int) -> float:
        return (next_attempt_at(NOW, n, None, FixedRandom(draw), base_seconds=base, cap_seconds=cap) - NOW).total_seconds()

    assert delay(attempt) <= delay(attempt + 1) + 1e-6
    assert delay(attempt) <= cap + 1e-6


@given(draw=st.floats(min_value=0, max_value=1, exclude_max=True), attempt=st.integers(min_value=1, max_value=12))
def test_jitter_spreads_the_delay_over_the_whole_window(draw, attempt):
    delay = (next_attempt_at(NOW, attempt, None, FixedRandom(draw)) - NOW).total_seconds()
    assert delay == pytest.approx(draw * backoff_ceiling(attempt), abs=1e-6)  # timedelta keeps microseconds


def test_retry_after_from_throttling_sets_the_next_attempt():
    assert next_attempt_at(NOW, 1, 30, FixedRandom(0.0)) == NOW + timedelta(seconds=30)
    assert next_attempt_at(NOW, 1, 30, FixedRandom(0.99)) == NOW + timedelta(seconds=30)  # 0.99 × 30 s < 30 s
    assert DEFAULT_BASE_SECONDS == 30 and DEFAULT_CAP_SECONDS == 1800


@pytest.mark.parametrize(("header", "seconds"), [
    ("30", 30), (" 120 ", 120), ("0", 0), ("1.5", 1.5),
    ("Mon, 02 Nov 2026 09:01:00 GMT", 60),
    ("Mon, 02 Nov 2026 08:59:00 GMT", 0),  # already passed
    (None, None), ("", None), ("soon", None), ("-5", None), ("nan", None), ("inf", None),
])
def test_retry_after_is_read_as_seconds_or_an_http_date(header, seconds):
    assert parse_retry_after(header, NOW) == seconds


def test_retry_after_accepts_an_aware_now():
    aware_now = NOW.replace(tzinfo=timezone.utc)
    assert parse_retry_after("Mon, 02 Nov 2026 09:00:30 GMT", aware_now) == 30
