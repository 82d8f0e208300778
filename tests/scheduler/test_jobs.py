"""The other jobs (weekly digest, dispatch, retention purge), how a run is recorded, and the
commands: `run-job` and `cycle calendar`."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import render_template_string
from sqlmodel import select

from audit_workflow.auth.service import create_user
from audit_workflow.clock import ENGLAND, utcnow
from audit_workflow.cycles import chasing
from audit_workflow.cycles.commands import calendar_command
from audit_workflow.cycles.digest import weekly_digest_job
from audit_workflow.cycles.models import AssignmentStatus, CycleStatus
from audit_workflow.db import get_engine
from audit_workflow.notifications.catalogue import sample_context
from audit_workflow.notifications.jobs import dispatch_outbox_job, retention_alert, retention_purge_job
from audit_workflow.notifications.models import MessageStatus, OutboxMessage
from audit_workflow.notifications.outbox import queue_message
from audit_workflow.scheduler.jobs import run_and_record
from audit_workflow.scheduler.models import JobRun, RunStatus
from tests.factories import make_assignment, make_cycle, make_plan


def england(year, month, day, hour=8, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ENGLAND)


def messages(db, kind: str) -> list[OutboxMessage]:
    db.commit()  # a fresh read snapshot: the jobs commit in their own sessions
    return list(db.exec(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.idempotency_key)).all())


@pytest.fixture
def cycles(db, world):
    """Two open cycles in the own LA (one with an overdue audit, a submitted one and one whose plan
    is still to be sent), one in the other LA, and a second coordinator in the own LA."""
    own, other = world.las["own"], world.las["other"]
    create_user(db, own.id, "second.coordinator@886.example.gov.uk", "Second Coordinator", "coordinator")
    autumn = make_cycle(db, own, name="Autumn 2026")
    spring = make_cycle(db, own, name="Spring 2027")
    elsewhere = make_cycle(db, other, name="Westminster autumn")
    auditor = world.user("auditor")
    make_assignment(db, autumn, make_plan(db, own, "SYS-LATE"), auditor, due_date=date(2026, 11, 20))
    make_assignment(db, autumn, make_plan(db, own, "SYS-DONE"), auditor, due_date=date(2026, 11, 20),
                    status=AssignmentStatus.SUBMITTED, plan_sent_at=utcnow())
    make_assignment(db, autumn, make_plan(db, own, "SYS-LATER"), auditor, due_date=date(2026, 12, 20), plan_sent_at=utcnow())
    db.commit()
    return autumn, spring, elsewhere


def test_one_digest_per_coordinator_per_open_cycle_per_week(app, db, world, cycles):
    autumn, spring, elsewhere = cycles
    engine = get_engine(app)
    for moment in (england(2026, 11, 30), england(2026, 11, 30, 9), england(2026, 12, 1)):
        weekly_digest_job(engine, app.config, now=moment)

    digests = messages(db, "coordinator_digest")
    coordinators = {"coordinator@886.example.gov.uk", "second.coordinator@886.example.gov.uk"}
    assert sorted((json.loads(message.recipients)[0], message.la_id) for message in digests) == sorted(
        [(email, world.las["own"].id) for email in coordinators for _ in (autumn, spring)]
        + [("coordinator@213.example.gov.uk", world.las["other"].id)]
    )
    autumn_digest = next(message for message in digests
                         if message.idempotency_key == f"digest:{autumn.id}:{world.user('coordinator').id}:2026-W49")
    assert autumn_digest.subject == "Audit progress for the week ending 29 November 2026 – Autumn 2026"
    body = autumn_digest.body_text
    assert "First audits of the sampled plans: 3" in body and "Submitted: 1" in body and "Overdue: 1" in body
    assert "Auditor Kent: 1 (SYS-LATE)" in body
    assert "System ID SYS-LATE to Auditor Kent" in body and "SYS-LATER to" not in body

    weekly_digest_job(engine, app.config, now=england(2026, 12, 7))
    assert len(messages(db, "coordinator_digest")) == 10


def test_after_a_bank_holiday_monday_the_digest_goes_on_tuesday(app, db, world, cycles):
    engine = get_engine(app)
    assert weekly_digest_job(engine, app.config, now=england(2027, 3, 29)).summary == "No digests due"  # Easter Monday
    weekly_digest_job(engine, app.config, now=england(2027, 3, 30))
    digests = messages(db, "coordinator_digest")
    assert len(digests) == 5
    assert all(message.idempotency_key.endswith(":2027-W13") for message in digests)


def test_past_the_bank_holiday_data_no_digest_goes_and_the_run_says_why(app, db, world, cycles):
    outcome = weekly_digest_job(get_engine(app), app.config, now=england(2029, 1, 2))
    assert (outcome.summary, messages(db, "coordinator_digest")) == ("No digests due", [])
    autumn = cycles[0]
    assert f"No digest for cycle {autumn.id}: 2029-01-02 is after the bank-holiday data ends" in outcome.warning
    assert not any(cycle.name in outcome.warning for cycle in cycles)  # the page shows it to every LA's admins


def test_dispatch_sends_what_the_outbox_holds(app, db, world):
    queue_message(db, kind="reminder", to=["auditor@886.example.gov.uk"], context=sample_context("reminder"),
                  key="test:dispatch", la_id=world.las["own"].id)
    db.commit()
    assert dispatch_outbox_job(get_engine(app), app.config).summary == "sent 1"
    assert messages(db, "reminder")[0].status == MessageStatus.SENT


def test_retention_purge_deletes_old_content_once(app, db, world):
    queue_message(db, kind="reminder", to=["auditor@886.example.gov.uk"], context=sample_context("reminder"),
                  key="test:old", la_id=world.las["own"].id)
    db.commit()
    dispatch_outbox_job(get_engine(app), app.config)
    eight_days_on = utcnow() + timedelta(days=8)
    assert retention_purge_job(get_engine(app), app.config, now=eight_days_on).summary == "Purged 1 message"
    assert retention_purge_job(get_engine(app), app.config, now=eight_days_on).summary == "Purged 0 messages"
    [purged] = messages(db, "reminder")
    assert (purged.recipients, purged.body_text, purged.status) == ("[]", "", MessageStatus.SENT)


def test_the_retention_alert_after_48_hours_without_a_successful_purge():
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    run = JobRun(job_id="retention_purge", status=RunStatus.FAILED, ran_by="x", started_at=now,
                 last_succeeded_at=now - timedelta(hours=47))
    assert retention_alert(run.last_succeeded_at, now) is None
    run.last_succeeded_at = now - timedelta(hours=49)
    assert "has not succeeded since 29 November 2026" in retention_alert(run.last_succeeded_at, now)
    assert "never succeeded" in retention_alert(None, now)


def test_a_run_is_recorded_and_a_failure_keeps_only_the_errors_first_line(app, monkeypatch):
    engine = get_engine(app)

    def fails(engine, config, now=None):
        raise RuntimeError("could not reach the database\n[parameters: ('auditor@886.example.gov.uk',)]")

    succeeded = run_and_record(engine, app.config, "chase", "tester")
    assert (succeeded.status, succeeded.ran_by, succeeded.error) == (RunStatus.SUCCEEDED, "tester", None)
    assert succeeded.last_succeeded_at is not None and succeeded.summary

    monkeypatch.setattr(chasing, "chase_job", fails)
    failed = run_and_record(engine, app.config, "chase", "tester")
    assert failed.status == RunStatus.FAILED
    assert failed.error == "RuntimeError: could not reach the database"
    assert failed.last_succeeded_at == succeeded.last_succeeded_at  # when it last worked is kept


def test_run_job_runs_one_job_and_exits_1_when_it_fails(runner, monkeypatch):
    result = runner.invoke(args=["run-job", "chase"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("chase: ")

    assert runner.invoke(args=["run-job", "no_such_job"]).exit_code == 1

    def fails(engine, config, now=None):
        raise RuntimeError("out of disk")

    monkeypatch.setattr(chasing, "chase_job", fails)
    result = runner.invoke(args=["run-job", "chase"])
    assert result.exit_code == 1
    assert "chase failed: RuntimeError: out of disk" in result.output


def test_the_chase_calendar_command_and_its_table(app, db, world, runner):
    la = world.las["own"]
    cycle = make_cycle(db, la)
    second_auditor = create_user(db, la.id, "b.auditor@886.example.gov.uk", "B Auditor", "auditor")
    first = make_assignment(db, cycle, make_plan(db, la, "SYS-1"), world.user("auditor"), due_date=date(2026, 11, 30))
    second = make_assignment(db, cycle, make_plan(db, la, "SYS-2"), second_auditor, due_date=date(2026, 12, 2))
    make_assignment(db, cycle, make_plan(db, la, "SYS-3"), second_auditor, due_date=date(2026, 12, 2),
                    status=AssignmentStatus.SUBMITTED)
    db.commit()

    result = runner.invoke(calendar_command, [str(cycle.id), "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    a, b = "auditor@886.example.gov.uk", "b.auditor@886.example.gov.uk"
    assert [(entry["date"], entry["kind"], entry["auditor"]) for entry in entries] == [
        ("2026-11-26", "reminder", a),
        ("2026-11-30", "due", a),
        ("2026-11-30", "reminder", b),
        ("2026-12-02", "due", b),
        ("2026-12-03", "overdue", a),
        ("2026-12-07", "escalation", a),
        ("2026-12-07", "overdue", b),
        ("2026-12-09", "escalation", b),
    ]
    assert {entry["assignment"] for entry in entries} == {str(first.id), str(second.id)}
    assert runner.invoke(calendar_command, ["not-a-cycle"]).exit_code == 1
    for not_open in (CycleStatus.CLOSED, CycleStatus.DRAFT):  # the job chases open cycles only, and the calendar says so
        cycle.status = not_open
        db.add(cycle)
        db.commit()
        assert json.loads(runner.invoke(calendar_command, [str(cycle.id), "--json"]).output) == []

    with app.test_request_context():
        table = render_template_string(
            '{% from "cycles/_calendar.html" import chase_calendar_table %}{{ chase_calendar_table(entries) }}',
            entries=entries,
        )
    assert table.count('<tr class="govuk-table__row">') == 1 + len(entries)
    assert '<time datetime="2026-12-07">7 December 2026</time>' in table
    assert "Escalation to the coordinators" in table


def test_the_calendar_of_a_cycle_reaching_past_the_bank_holiday_data_is_refused_with_the_reason(db, world, runner):
    la = world.las["own"]
    cycle = make_cycle(db, la, name="Winter 2028")
    make_assignment(db, cycle, make_plan(db, la, "SYS-LATE"), world.user("auditor"), due_date=date(2028, 12, 28))
    db.commit()
    result = runner.invoke(calendar_command, [str(cycle.id), "--json"])
    assert result.exit_code == 1
    assert "is after the bank-holiday data ends on 2028-12-31; upgrade the govuk-bank-holidays package" in result.output
