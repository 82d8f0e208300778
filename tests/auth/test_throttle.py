"""Sign-in throttling counts accounts and client addresses apart, so one person's mistakes behind a
council's proxy do not lock out their colleagues, and the address is the real client's only when
the proxies in front are trusted (TRUSTED_PROXIES, werkzeug's ProxyFix)."""

from datetime import timedelta

import pytest
from sqlmodel import select

from audit_workflow import create_app
from audit_workflow.auth.service import SignInLimits, record_failed_sign_in
from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine
from audit_workflow.rate_limit.jobs import rate_limit_purge_job
from audit_workflow.rate_limit.models import RateLimitEvent
from tests.conftest import TEST_PASSWORD, csrf_token

COUNCIL_PROXY = "10.20.30.40"


def attempt(client, email: str, password: str, **environ):
    token = csrf_token(client)
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token},
                       environ_overrides=environ)


def fail_repeatedly(client, email: str, times: int, **environ) -> None:
    for _ in range(times):
        assert attempt(client, email, "wrong password", **environ).status_code == 401


def test_ten_failures_by_one_person_do_not_lock_out_a_colleague_at_the_same_address(client, world, app):
    fail_repeatedly(client, world.user("auditor").email, app.config["SIGNIN_MAX_ATTEMPTS"], REMOTE_ADDR=COUNCIL_PROXY)
    assert attempt(client, world.user("auditor").email, TEST_PASSWORD, REMOTE_ADDR=COUNCIL_PROXY).status_code == 429
    colleague = attempt(client, world.user("coordinator").email, TEST_PASSWORD, REMOTE_ADDR=COUNCIL_PROXY)
    assert colleague.status_code == 302


def test_the_account_limit_holds_whatever_address_the_attempts_come_from(client, world, app):
    email = world.user("auditor").email
    for number in range(app.config["SIGNIN_MAX_ATTEMPTS"]):
        fail_repeatedly(client, email, 1, REMOTE_ADDR=f"192.0.2.{number + 1}")
    refused = attempt(client, email, TEST_PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts. Wait 15 minutes and try again." in refused.get_data(as_text=True)


def test_the_address_limit_stops_one_address_trying_many_accounts(client, world, app):
    app.config.update(SIGNIN_MAX_ATTEMPTS_PER_ADDRESS=4)
    for number in range(4):
        fail_repeatedly(client, f"guess{number}@886.example.gov.uk", 1, REMOTE_ADDR="203.0.113.9")
    assert attempt(client, world.user("manager").email, TEST_PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert attempt(client, world.user("manager").email, TEST_PASSWORD, REMOTE_ADDR="203.0.113.10").status_code == 302


@pytest.fixture
def app_with_proxies(database_url, tmp_path):
    def build(trusted_proxies: int):
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key",
                          "COOKIE_SECURE": False, "SCHEDULER_EMBEDDED": False, "TRUSTED_PROXIES": trusted_proxies,
                          "SIGNIN_MAX_ATTEMPTS_PER_ADDRESS": 3},
                         instance_path=str(tmp_path / f"instance-{trusted_proxies}"))
        built.append(app)
        return app

    built = []
    yield build
    for app in built:
        get_engine(app).dispose()


def test_behind_a_trusted_proxy_the_limit_counts_the_real_client(app_with_proxies, world):
    client = app_with_proxies(1).test_client()
    through_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for number in range(3):
        fail_repeatedly(client, f"guess{number}@886.example.gov.uk", 1,
                        HTTP_X_FORWARDED_FOR="198.51.100.1", **through_proxy)
    blocked = attempt(client, world.user("auditor").email, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.1", **through_proxy)
    assert blocked.status_code == 429
    other_client = attempt(client, world.user("auditor").email, TEST_PASSWORD,
                           HTTP_X_FORWARDED_FOR="198.51.100.2", **through_proxy)
    assert other_client.status_code == 302


def test_without_trusted_proxies_a_forged_forwarded_for_header_changes_nothing(app_with_proxies, world):
    client = app_with_proxies(0).test_client()
    for number in range(3):
        fail_repeatedly(client, f"guess{number}@886.example.gov.uk", 1,
                        HTTP_X_FORWARDED_FOR=f"198.51.100.{number + 1}", REMOTE_ADDR="203.0.113.5")
    forged = attempt(client, world.user("auditor").email, TEST_PASSWORD,
                     HTTP_X_FORWARDED_FOR="198.51.100.99", REMOTE_ADDR="203.0.113.5")
    assert forged.status_code == 429


def test_the_daily_purge_forgets_attempts_older_than_the_window_and_keeps_those_that_count(app, db):
    now, limits = utcnow(), SignInLimits.from_settings(app.config)
    assert limits.window == timedelta(minutes=15)
    record_failed_sign_in(db, "old@886.example.gov.uk", "192.0.2.1", limits, now - timedelta(minutes=16))
    record_failed_sign_in(db, "recent@886.example.gov.uk", "192.0.2.2", limits, now - timedelta(minutes=14))
    db.commit()

    outcome = rate_limit_purge_job(get_engine(app), app.config, now)

    db.expire_all()
    assert outcome.summary == "Forgot 2 rate-limit events"
    kept = db.exec(select(RateLimitEvent)).all()
    assert [event.expires_at for event in kept] == [now + timedelta(minutes=1)] * 2  # the recent attempt's account and address
