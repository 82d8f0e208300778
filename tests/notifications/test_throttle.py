"""docs/checks.md#check-5: the mailbox's limits, shared through the database, on a clock that moves only when a
dispatcher sleeps (time-machine), so a minute of sending takes no time at all."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlmodel import Session

from audit_workflow.clock import utcnow
from audit_workflow.notifications import throttle
from audit_workflow.notifications.dispatcher import dispatch_due
from audit_workflow.notifications.throttle import MailboxLimits, SendPermit, Wait
from audit_workflow.notifications.transports.base import SendReceipt, TemporaryFailure
from tests.notifications.test_dispatcher import (  # noqa: F401  (fixtures)
    FAST,
    RecordingTransport,
    add_messages,
    clock,
    config,
    engine,
    fake_delivery,
    message,
    statuses,
)

MAILBOX = "ehcp-audit@council.example.gov.uk"
EXCHANGE = MailboxLimits(rate_per_minute=30, recipients_per_day=10_000, concurrent_requests=4)


def most_in_any_minute(times) -> int:
    return max(sum(1 for other in times if start <= other < start + timedelta(minutes=1)) for start in times)


def test_a_backlog_drains_evenly_at_the_rate(engine, config, clock):
    add_messages(engine, 70)
    transport = RecordingTransport()

    assert dispatch_due(engine, config, max_seconds=None, delivery=fake_delivery(transport, EXCHANGE), sleep=clock.shift) == {"sent": 70}

    times = [at for _, at in transport.sends]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:])]
    assert min(gaps) >= 2.0  # 60 s / 30: smooth, never a burst
    assert most_in_any_minute(times) <= 30
    assert times[-1] - times[0] < timedelta(seconds=70 * 2 + 1)  # and no slower than the cap needs


def test_a_retry_after_holds_back_the_whole_mailbox(engine, config, clock):
    first, second, third = add_messages(engine, 3)
    throttled_at = []

    def too_many_requests(email):
        throttled_at.append(utcnow())
        raise TemporaryFailure("Microsoft Graph answered 429", retry_after=30, status=429)

    transport = RecordingTransport({first: [too_many_requests]})
    counts = dispatch_due(engine, config, max_seconds=None, delivery=fake_delivery(transport, EXCHANGE), sleep=clock.shift)

    assert counts == {"retrying": 1, "sent": 3}
    [(_, first_try), *later] = transport.sends
    assert all(at >= throttled_at[0] + timedelta(seconds=30) for _, at in later)
    assert [key for key, _ in later].count(first) == 1
    retried = message(engine, first)
    assert (retried.status, retried.attempts) == ("sent", 2)


def test_the_recipient_allowance_is_a_rolling_day(engine, config, clock):
    add_messages(engine, 7)
    limits = MailboxLimits(rate_per_minute=600, recipients_per_day=5, concurrent_requests=4)
    transport = RecordingTransport()

    dispatch_due(engine, config, max_seconds=None, delivery=fake_delivery(transport, limits), sleep=clock.shift)

    times = [at for _, at in transport.sends]
    assert len(times) == 7
    assert times[4] - times[0] < timedelta(minutes=1)
    assert times[5] >= times[0] + timedelta(hours=24)  # the first send's recipient left the window
    assert times[6] >= times[1] + timedelta(hours=24)


def test_a_scheduler_run_stops_at_its_budget_and_the_next_tick_carries_on(engine, config, clock):
    add_messages(engine, 20)
    transport = RecordingTransport()
    delivery = fake_delivery(transport, EXCHANGE)

    first_tick = dispatch_due(engine, config, max_seconds=12.5, delivery=delivery, sleep=clock.shift)

    assert first_tick == {"sent": 7}  # at 0, 2.04, ..., 12.24 seconds (2 s apart, and a 2% margin)
    assert statuses(engine) == {"sent": 7, "queued": 13}  # nothing left claimed
    clock.shift(3)
    assert dispatch_due(engine, config, max_seconds=12, delivery=delivery, sleep=clock.shift)["sent"] >= 6


def test_concurrent_requests_are_capped_across_dispatchers(engine, config):
    keys = add_messages(engine, 60)
    in_flight, most = 0, 0
    lock = threading.Lock()

    def slow_send(email):
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        return SendReceipt(email.key)

    transport = RecordingTransport({key: [slow_send] for key in keys})
    limits = MailboxLimits(rate_per_minute=600_000, recipients_per_day=10_000, concurrent_requests=2)
    threads = [
        threading.Thread(target=dispatch_due, args=(engine, config),
                         kwargs={"max_seconds": None, "delivery": fake_delivery(transport, limits)})
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(transport.keys) == keys
    assert most == 2


def test_a_dead_dispatchers_slot_is_freed_when_its_lease_runs_out(engine):
    one_at_a_time = MailboxLimits(rate_per_minute=600_000, recipients_per_day=10_000, concurrent_requests=1)
    now = utcnow()
    assert isinstance(throttle.request_send(engine, MAILBOX, one_at_a_time, 1, now, timedelta(seconds=30)), SendPermit)

    later = now + timedelta(seconds=1)
    assert throttle.request_send(engine, MAILBOX, one_at_a_time, 1, later, timedelta(seconds=30)) == Wait(
        throttle.BUSY_RECHECK_SECONDS, "concurrent requests")
    after_lease = now + timedelta(seconds=31)
    assert isinstance(throttle.request_send(engine, MAILBOX, one_at_a_time, 1, after_lease, timedelta(seconds=30)), SendPermit)


def test_a_finished_send_frees_its_slot_at_once(engine):
    one_at_a_time = MailboxLimits(rate_per_minute=600_000, recipients_per_day=10_000, concurrent_requests=1)
    now = utcnow()
    permit = throttle.request_send(engine, MAILBOX, one_at_a_time, 1, now, timedelta(seconds=30))
    with Session(engine) as session:
        throttle.finish_send(session, permit)
        session.commit()
    assert isinstance(throttle.request_send(engine, MAILBOX, one_at_a_time, 1, now + timedelta(seconds=1), timedelta(seconds=30)), SendPermit)


def test_hold_off_only_ever_moves_the_next_send_later(engine):
    now = utcnow()
    throttle.request_send(engine, MAILBOX, FAST, 1, now, timedelta(seconds=30))
    with Session(engine) as session:
        throttle.hold_off(session, MAILBOX, now + timedelta(seconds=60))
        throttle.hold_off(session, MAILBOX, now + timedelta(seconds=30))  # an earlier, shorter Retry-After
        session.commit()
    assert throttle.request_send(engine, MAILBOX, FAST, 1, now + timedelta(seconds=40), timedelta(seconds=30)) == Wait(
        20.0, "messages per minute")


def test_each_mailbox_has_its_own_limits(engine):
    now = utcnow()
    assert isinstance(throttle.request_send(engine, MAILBOX, EXCHANGE, 1, now, timedelta(seconds=30)), SendPermit)
    assert isinstance(throttle.request_send(engine, "other@council.example.gov.uk", EXCHANGE, 1, now, timedelta(seconds=30)), SendPermit)
    assert isinstance(throttle.request_send(engine, MAILBOX, EXCHANGE, 1, now, timedelta(seconds=30)), Wait)
