"""The database lease: one holder at a time, renewal, take-over after expiry, hand-over on release."""

from __future__ import annotations

import threading
from datetime import timedelta

from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine
from audit_workflow.scheduler.lease import Lease, current_lease


def test_one_holder_until_it_stops_renewing(app, db):
    engine = get_engine(app)
    first, second = Lease(engine, 45, holder="first"), Lease(engine, 45, holder="second")
    start = utcnow()

    assert first.acquire_or_renew(start)
    assert first.is_held()
    assert not second.acquire_or_renew(start + timedelta(seconds=15))
    assert not second.is_held()
    assert first.acquire_or_renew(start + timedelta(seconds=15))  # renewed: good until start + 60 s
    assert not second.acquire_or_renew(start + timedelta(seconds=59))

    assert second.acquire_or_renew(start + timedelta(seconds=61))  # first stopped renewing
    assert not first.acquire_or_renew(start + timedelta(seconds=62))
    lease = current_lease(db)
    assert (lease.holder, lease.acquired_at, lease.expires_at) == (
        "second", start + timedelta(seconds=61), start + timedelta(seconds=106))


def test_renewing_keeps_the_time_it_was_taken(app, db):
    lease = Lease(get_engine(app), 45, holder="only")
    start = utcnow()
    lease.acquire_or_renew(start)
    lease.acquire_or_renew(start + timedelta(seconds=15))
    row = current_lease(db)
    assert (row.acquired_at, row.heartbeat_at) == (start, start + timedelta(seconds=15))


def test_release_hands_over_at_the_next_attempt(app):
    engine = get_engine(app)
    first, second = Lease(engine, 45, holder="first"), Lease(engine, 45, holder="second")
    start = utcnow()
    first.acquire_or_renew(start)
    first.release(start + timedelta(seconds=1))
    assert not first.is_held()
    assert second.acquire_or_renew(start + timedelta(seconds=2))


def test_eight_processes_racing_for_a_free_lease_give_one_holder(app):
    engine = get_engine(app)
    barrier = threading.Barrier(8)
    results: dict[str, bool] = {}

    def contend(name: str):
        lease = Lease(engine, 45, holder=name)
        barrier.wait()
        results[name] = lease.acquire_or_renew()

    threads = [threading.Thread(target=contend, args=(f"process-{number}",)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False] * 7 + [True]
