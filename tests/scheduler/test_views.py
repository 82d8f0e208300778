"""The admin page /admin/scheduler and the scheduler's part of /healthz."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine

from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine
from audit_workflow.notifications import jobs as notification_jobs
from audit_workflow.outcome import JobOutcome
from audit_workflow.scheduler.jobs import run_and_record
from audit_workflow.scheduler.lease import Lease
from tests.factories import make_assignment, make_cycle, make_plan


def test_with_no_scheduler_running_both_say_so(client, sign_in_as):
    health = client.get("/healthz").get_json()["scheduler"]
    assert health["status"] == "alert"
    assert health["heartbeat_age_seconds"] is None and health["lease_holder"] is None
    assert health["jobs"] == {"dispatch_outbox": None, "reallocate": None, "chase": None, "weekly_digest": None,
                              "retention_purge": None, "feedback_invite": None, "feedback_purge": None,
                              "actions_propose": None, "actions_chase": None, "actions_weekly": None,
                              "trail_purge": None, "cycle_reports": None,
                              "moderation_sample": None, "rate_limit_purge": None}
    assert health["alerts"] == ["no_heartbeat", "retention_purge_overdue"]

    page = sign_in_as("admin").get("/admin/scheduler").get_data(as_text=True)
    assert "Not running" in page
    assert "No scheduler is running: there has been no heartbeat ever." in page
    assert "The email retention purge has never succeeded" in page


def test_a_running_scheduler_shows_its_heartbeat_holder_and_runs(app, client, sign_in_as):
    engine = get_engine(app)
    Lease(engine, 45, holder="web-1:4242:abcd1234").acquire_or_renew(utcnow() - timedelta(seconds=5))
    for job_id in ("chase", "retention_purge"):
        run_and_record(engine, app.config, job_id, "web-1:4242:abcd1234")

    health = client.get("/healthz").get_json()["scheduler"]
    assert health["status"] == "ok" and health["alerts"] == []
    assert health["lease_holder"] == "web-1:4242:abcd1234"
    assert 5 <= health["heartbeat_age_seconds"] < 15
    assert health["jobs"]["chase"]["status"] == "succeeded" and health["jobs"]["dispatch_outbox"] is None

    page = sign_in_as("admin").get("/admin/scheduler").get_data(as_text=True)
    assert "Running" in page and "web-1:4242:abcd1234" in page
    assert "Succeeded" in page and "Purged 0 messages" in page
    assert "Bank holidays known until" in page
    assert "11 seconds" in page and "A waiting scheduler takes over within 56 seconds" in page


def test_a_lease_that_ran_out_is_a_missing_heartbeat(app, client):
    Lease(get_engine(app), 45, holder="gone:1:dead").acquire_or_renew(utcnow() - timedelta(minutes=5))
    health = client.get("/healthz").get_json()["scheduler"]
    assert health["lease_holder"] is None
    assert health["heartbeat_age_seconds"] >= 300
    assert "no_heartbeat" in health["alerts"]


def test_a_failed_run_and_a_holiday_data_warning_are_shown_to_admins_but_not_in_healthz(app, db, world, client, sign_in_as,
                                                                                          monkeypatch):
    engine = get_engine(app)
    Lease(engine, 45).acquire_or_renew()
    run_and_record(engine, app.config, "retention_purge", "tester")
    la = world.las["own"]
    make_assignment(db, make_cycle(db, la, name="Winter 2028"), make_plan(db, la), world.user("auditor"),
                    due_date=date(2028, 12, 28))
    db.commit()
    with time_machine.travel(date(2028, 12, 27), tick=False):
        run_and_record(engine, app.config, "chase", "tester")

    def fails(engine, config, now=None) -> JobOutcome:
        raise RuntimeError("transport misconfigured")

    monkeypatch.setattr(notification_jobs, "dispatch_outbox_job", fails)  # the job table imports it when it runs
    run_and_record(engine, app.config, "dispatch_outbox", "tester")

    health = client.get("/healthz").get_json()["scheduler"]
    assert health["alerts"] == ["dispatch_outbox_failed", "chase_warning"]
    assert "transport misconfigured" not in str(health) and "Winter 2028" not in str(health)

    page = sign_in_as("admin").get("/admin/scheduler").get_data(as_text=True)
    assert "The last dispatch_outbox run failed" in page and "RuntimeError: transport misconfigured" in page
    assert "1 audit not chased: 2029-" in page and "upgrade the govuk-bank-holidays package" in page
