"""One rate-limit mechanism for sign-in and the public feedback pages: events counted under hashed
keys in the database, refused past the limit within the window, forgotten by one purge once they no
longer count."""

from datetime import timedelta

from sqlmodel import select

from audit_workflow.auth.service import SignInLimits, record_failed_sign_in, sign_in_throttled
from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine
from audit_workflow.feedback.rules import PER_ADDRESS
from audit_workflow.rate_limit import service
from audit_workflow.rate_limit.jobs import rate_limit_purge_job
from audit_workflow.rate_limit.models import RateLimitEvent
from audit_workflow.rate_limit.rules import Limit, event_key, used_up

ADDRESS = "203.0.113.9"


def test_a_key_is_refused_once_its_events_in_the_window_reach_the_limit():
    three = Limit("test", 3, timedelta(minutes=10))
    assert [used_up(three, events) for events in range(5)] == [False, False, False, True, True]


def test_events_are_kept_under_a_hash_of_scope_and_value_never_the_value():
    key = event_key(PER_ADDRESS, ADDRESS)
    assert ADDRESS not in key and len(key) == 64
    assert key != event_key(Limit("signin-address", 100, timedelta(minutes=15)), ADDRESS)


def test_the_sign_in_and_feedback_limits_on_one_address_count_apart(db):
    now = utcnow()
    limits = SignInLimits(per_account=10, per_address=2, window=timedelta(minutes=15))
    service.record(db, [(PER_ADDRESS, ADDRESS)] * 5, now)
    assert not sign_in_throttled(db, "someone@886.example.gov.uk", ADDRESS, limits, now)

    record_failed_sign_in(db, "someone@886.example.gov.uk", ADDRESS, limits, now)
    record_failed_sign_in(db, "another@886.example.gov.uk", ADDRESS, limits, now)

    assert sign_in_throttled(db, "third@886.example.gov.uk", ADDRESS, limits, now)
    assert not service.any_used_up(db, [(Limit(PER_ADDRESS.scope, 6, PER_ADDRESS.window), ADDRESS)], now)


def test_an_event_counts_for_its_limits_window_and_no_longer(db):
    now, ten = utcnow(), Limit("test", 1, timedelta(minutes=10))
    service.record(db, [(ten, "key")], now - timedelta(minutes=9))
    assert service.any_used_up(db, [(ten, "key")], now)
    assert not service.any_used_up(db, [(ten, "key")], now + timedelta(minutes=1, seconds=1))


def test_one_purge_forgets_each_event_after_its_own_window(app, db):
    now = utcnow()
    sign_in = SignInLimits.from_settings(app.config)  # a 15-minute window
    record_failed_sign_in(db, "someone@886.example.gov.uk", ADDRESS, sign_in, now - timedelta(minutes=12))
    service.record(db, [(PER_ADDRESS, ADDRESS)], now - timedelta(minutes=12))  # a 10-minute window
    db.commit()

    first = rate_limit_purge_job(get_engine(app), app.config, now)
    again = rate_limit_purge_job(get_engine(app), app.config, now)

    db.expire_all()
    assert (first.summary, again.summary) == ("Forgot 1 rate-limit event", "Forgot 0 rate-limit events")
    assert len(db.exec(select(RateLimitEvent)).all()) == 2  # the failed sign-in's account and address
    assert sign_in_throttled(db, "someone@886.example.gov.uk", ADDRESS,
                             SignInLimits(per_account=1, per_address=100, window=sign_in.window), now)
