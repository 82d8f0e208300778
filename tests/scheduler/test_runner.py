"""The APScheduler set-up: the job table and its settings, running only while holding the lease,
jobs running on the settings they are given (no application context), catching up after a
hand-over, the default hand-over time, and where the embedded scheduler may start."""

from __future__ import annotations

import logging
import time
from datetime import timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from flask import has_app_context

from audit_workflow.clock import utcnow
from audit_workflow.config import load_settings
from audit_workflow.db import get_engine
from audit_workflow.outcome import JobOutcome
from audit_workflow.scheduler.jobs import JOBS, ScheduledJob
from audit_workflow.scheduler.lease import Lease, current_lease
from audit_workflow.scheduler.models import JobRun, RunStatus
from audit_workflow.scheduler.runner import SchedulerRunner, handover_seconds, start_embedded

RUNS: list[str] = []  # what counts_a_run was called for, in this process


def reports_its_settings(engine, config, now=None) -> JobOutcome:
    return JobOutcome(f"ran for {config['SERVICE_NAME']}; application context: {has_app_context()}")


def counts_a_run(engine, config, now=None) -> JobOutcome:
    RUNS.append("ran")
    return JobOutcome("counted")


def probe(job_id: str, function: str, trigger: str = "interval", trigger_args: dict | None = None) -> ScheduledJob:
    return ScheduledJob(job_id, f"tests.scheduler.test_runner:{function}", "", trigger, trigger_args or {"hours": 1})


def test_every_job_has_its_id_coalesces_runs_one_at_a_time_and_tolerates_an_hour_late(app):
    scheduler = SchedulerRunner(app, BackgroundScheduler).scheduler
    scheduler.start(paused=True)  # APScheduler applies the job defaults when the scheduler starts
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    assert set(jobs) == {"heartbeat", *(job.id for job in JOBS)} and len(JOBS) == len(set(jobs)) - 1
    assert {(job.coalesce, job.max_instances, job.misfire_grace_time) for job in jobs.values()} == {(True, 1, 3600)}


def test_every_job_in_the_table_names_a_function_of_its_area():
    for job in JOBS:
        module, _, name = job.function.partition(":")
        assert callable(job.load()) and name.endswith("_job") and not module.startswith("audit_workflow.scheduler"), job


def test_jobs_run_only_while_the_lease_is_held_and_on_the_settings_they_are_given(app, db):
    other = Lease(get_engine(app), 45, holder="other:1:abcd")
    other.acquire_or_renew()
    runner = SchedulerRunner(app, BackgroundScheduler, timetable=[probe("probe", "reports_its_settings")])
    runner.heartbeat()
    runner.run_if_holder("probe")
    assert db.get(JobRun, "probe") is None  # a standby runs nothing

    other.release()
    runner.heartbeat()
    runner.run_if_holder("probe")
    db.commit()  # a fresh read snapshot
    assert db.get(JobRun, "probe").summary == f"ran for {app.config['SERVICE_NAME']}; application context: False"


def test_a_job_whose_time_fell_during_a_hand_over_runs_once_when_the_lease_is_taken(app, db):
    """The holder died before its 07:05 chase and the standby let 07:05 pass while it waited for the
    lease: on taking it, the standby runs the chase once, then keeps to the timetable. A job that
    already ran since its last time, or that ran after a later hand-over, is left alone."""
    engine = get_engine(app)
    fell_at = (utcnow() - timedelta(minutes=30)).replace(second=0, microsecond=0)
    daily = {"hour": fell_at.hour, "minute": fell_at.minute, "timezone": timezone.utc}
    for job_id, succeeded in (("missed", fell_at - timedelta(days=1) + timedelta(minutes=1)),
                              ("kept", fell_at + timedelta(minutes=1))):
        db.add(JobRun(job_id=job_id, status=RunStatus.SUCCEEDED, ran_by="other:1:abcd", started_at=succeeded,
                      finished_at=succeeded, last_succeeded_at=succeeded))
    db.commit()
    other = Lease(engine, 45, holder="other:1:abcd")
    other.acquire_or_renew()
    runner = SchedulerRunner(app, BackgroundScheduler, timetable=[probe("missed", "counts_a_run", "cron", daily),
                                                                  probe("kept", "reports_its_settings", "cron", daily)])
    runner.scheduler.start(paused=True)
    runner.scheduler.remove_job("heartbeat")  # the test beats it by hand
    try:
        runner.heartbeat()  # the standby: the job's time passes without it
        tomorrow = runner.scheduler.get_job("missed").next_run_time
        assert tomorrow > utcnow()

        other.release()  # the holder stops; the standby's next heartbeat takes over
        RUNS.clear()
        runner.heartbeat()
        assert runner.scheduler.get_job("missed").next_run_time <= utcnow()
        assert runner.scheduler.get_job("kept").next_run_time == tomorrow
        runner.scheduler.resume()
        deadline = time.monotonic() + 30
        while not RUNS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert RUNS == ["ran"]
        while runner.scheduler.get_job("missed").next_run_time != tomorrow and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.scheduler.get_job("missed").next_run_time == tomorrow  # back on its timetable

        runner.lease.release()  # another hand-over later the same day: nothing is owed now
        other.acquire_or_renew()
        runner.heartbeat()
        other.release()
        runner.heartbeat()
        assert runner.lease.is_held() and runner.scheduler.get_job("missed").next_run_time == tomorrow
    finally:
        runner.scheduler.shutdown()
    assert RUNS == ["ran"]


def test_the_default_lease_hands_over_within_a_minute(tmp_path):
    defaults = load_settings(tmp_path, environ={})
    # A holder that dies just after renewing: its lease runs out, then a standby's next heartbeat takes it.
    assert handover_seconds(defaults) < 60


def test_the_embedded_scheduler_refuses_gunicorn_workers_and_the_reloaders_child(app, db, monkeypatch, caplog):
    for variable, value in (("SERVER_SOFTWARE", "gunicorn/27.0.1"), ("WERKZEUG_RUN_MAIN", "true")):
        with monkeypatch.context() as patched:
            patched.setenv(variable, value)
            with caplog.at_level(logging.WARNING):
                assert start_embedded(app) is None
    assert caplog.text.count("run `audit-workflow scheduler` as a separate process") == 2
    assert current_lease(db) is None



def test_the_retention_purge_also_runs_a_minute_after_the_scheduler_starts(app):
    """A new installation, or a machine that was off at 02:30, must not wait a day for the purge
    (docs/checks.md#check-19 alerts when it has not succeeded for 48 hours)."""
    scheduler = SchedulerRunner(app, BackgroundScheduler).scheduler
    scheduler.start(paused=True)
    try:
        first_runs = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    started = utcnow()
    assert timedelta(0) < first_runs["retention_purge"] - started <= timedelta(minutes=1)
    # The others keep to their timetable.
    assert (first_runs["chase"].minute, first_runs["weekly_digest"].hour) == (5, 8)
