"""The chase job against a real database, travelling through whole cycles with time-machine.

Audits are allocated through the cycles service (so due dates are the service's), the jobs run at
07:05 and again at 17:05 on every calendar day (the chase runs hourly: later runs must add nothing),
and the outbox is compared with the emails that should have gone: kinds, recipients and days, and
nothing else.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlmodel import col, select

from audit_workflow.auth.service import create_user
from audit_workflow.authorities.models import ClosureDay
from audit_workflow.clock import ENGLAND
from audit_workflow.cycles import chasing
from audit_workflow.cycles.allocating import allocate_cycle
from audit_workflow.cycles.auditor_pool import add_auditor
from audit_workflow.cycles.models import Assignment, AssignmentStatus, CycleStatus
from audit_workflow.cycles.plan_sample import add_to_sample
from audit_workflow.cycles.chasing import chase_job
from audit_workflow.cycles.reallocation import reallocate_job
from audit_workflow.db import get_engine
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.notifications.staff_mail import StaffMail
from tests.concurrency import run_at_once
from tests.factories import make_assignment, make_cycle, make_plan

CHASE_KINDS = ("reminder", "due_today", "overdue", "escalation")
AUDITOR = ["auditor@886.example.gov.uk"]
COORDINATOR = ["coordinator@886.example.gov.uk"]


def at(day: date, hour: int = 7, minute: int = 5):
    return time_machine.travel(datetime.combine(day, time(hour, minute), tzinfo=ENGLAND), tick=False)


def days(first: date, last: date):
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def allocate(app, db, world, day: date, system_ids: list[str], cycle=None):
    """Sample the plans into the cycle and allocate them to the LA's auditor on `day`."""
    la = world.las["own"]
    with at(day, 9):
        cycle = cycle or make_cycle(db, la, name="Scheduler test cycle")
        for system_id in system_ids:
            make_plan(db, la, system_id=system_id)
            add_to_sample(db, cycle, system_id, "Chosen for the scheduler tests", None)
        add_auditor(db, cycle, world.user("auditor"), 50)
        outcome = allocate_cycle(db, cycle, None, StaffMail(db, app.config))
        db.commit()
    return cycle, outcome.assignments


def run_every_day(app, first: date, last: date, before_run: dict | None = None, scheduled=(chase_job,)):
    """Each day: what `before_run` holds for it, then the jobs at 07:05 and again at 17:05."""
    for day in days(first, last):
        if before_run and day in before_run:
            with at(day, 6):
                before_run[day]()
        for hour in (7, 17):
            with at(day, hour):
                for job in scheduled:
                    job(get_engine(app), app.config)


def set_status(db, assignment, status):
    def change():
        assignment.status = status
        db.add(assignment)
        db.commit()
    return change


def chase_messages(db, kinds=CHASE_KINDS) -> list[OutboxMessage]:
    db.commit()  # end the session's read snapshot (SQLite), so what the job committed since is seen
    return list(db.exec(select(OutboxMessage).where(col(OutboxMessage.kind).in_(kinds))
                        .order_by(OutboxMessage.created_at, OutboxMessage.kind)).all())


def sent(db, kinds=CHASE_KINDS) -> list[tuple[str, str, list[str]]]:
    """(England date queued, kind, recipients) of every chase email, in order."""
    return [(message.created_at.astimezone(ENGLAND).date().isoformat(), message.kind, json.loads(message.recipients))
            for message in chase_messages(db, kinds)]


def test_a_whole_cycle_from_allocation_to_submission(app, db, world):
    _, [assignment] = allocate(app, db, world, date(2026, 11, 9), ["SYS-0001"])
    assert assignment.due_date == date(2026, 11, 30)  # 15 working days after Monday 9 November

    run_every_day(app, date(2026, 11, 9), date(2026, 12, 31), before_run={
        date(2026, 12, 1): set_status(db, assignment, AssignmentStatus.IN_PROGRESS),  # started: still chased
        date(2026, 12, 9): set_status(db, assignment, AssignmentStatus.SUBMITTED),
    })

    assert sent(db) == [
        ("2026-11-26", "reminder", AUDITOR),
        ("2026-11-30", "due_today", AUDITOR),
        ("2026-12-03", "overdue", AUDITOR),
        ("2026-12-07", "escalation", COORDINATOR),
        ("2026-12-08", "overdue", AUDITOR),
    ]
    reminder, due, overdue, escalation, second_overdue = chase_messages(db)
    assert reminder.idempotency_key == f"assignment:{assignment.id}:reminder:2026-11-26"
    assert reminder.subject == "Reminder: audit of SYS-0001 due 30 November 2026"
    assert "in 2 working days" in reminder.body_text
    assert due.subject == "Due today: audit of SYS-0001"
    assert "now 3 working days overdue" in overdue.body_text
    assert escalation.subject == "Overdue 5 working days: audit of SYS-0001"
    assert "We have sent 3 reminders" in escalation.body_text
    assert "now 6 working days overdue" in second_overdue.body_text
    assert {message.assignment_id for message in chase_messages(db)} == {assignment.id}


def test_a_cycle_over_christmas_2026_and_easter_2027(app, db, world):
    la = world.las["own"]
    db.add_all([ClosureDay(la_id=la.id, day=date(2026, 12, day), reason="Christmas closure") for day in (29, 30, 31)])
    db.commit()
    cycle, [christmas] = allocate(app, db, world, date(2026, 12, 7), ["SYS-XMAS"])
    assert christmas.due_date == date(2027, 1, 5)
    easter = None

    def allocate_for_easter():
        nonlocal easter
        _, [easter] = allocate(app, db, world, date(2027, 3, 8), ["SYS-EASTER"], cycle=cycle)
        assert easter.due_date == date(2027, 3, 31)  # Good Friday and Easter Monday skipped

    def submit_easter():
        set_status(db, easter, AssignmentStatus.SUBMITTED)()

    run_every_day(app, date(2026, 12, 7), date(2027, 4, 16), before_run={
        date(2027, 1, 14): set_status(db, christmas, AssignmentStatus.SUBMITTED),
        date(2027, 3, 8): allocate_for_easter,
        date(2027, 4, 9): submit_easter,
    })

    assert sent(db) == [
        ("2026-12-24", "reminder", AUDITOR),
        ("2027-01-05", "due_today", AUDITOR),
        ("2027-01-08", "overdue", AUDITOR),
        ("2027-01-12", "escalation", COORDINATOR),
        ("2027-01-13", "overdue", AUDITOR),
        ("2027-03-25", "reminder", AUDITOR),
        ("2027-03-31", "due_today", AUDITOR),
        ("2027-04-05", "overdue", AUDITOR),
        ("2027-04-07", "escalation", COORDINATOR),
        ("2027-04-08", "overdue", AUDITOR),
    ]


def test_a_long_overdue_audit_nobody_started_moves_to_another_auditor_and_is_chased_there(app, db, world):
    la = world.las["own"]
    with at(date(2026, 11, 9), 9):
        cycle = make_cycle(db, la, name="Reallocating cycle", reallocate_after_days=7)
        db.commit()
    cycle, [first] = allocate(app, db, world, date(2026, 11, 9), ["SYS-SLOW"], cycle=cycle)
    # Joins the pool after the allocation, so the plan goes to it only when it is reallocated.
    second_auditor = create_user(db, la.id, "second.auditor@886.example.gov.uk", "Second Auditor", "auditor", team="Team 2")
    add_auditor(db, cycle, second_auditor, 5)
    db.commit()

    def submit_second():
        [replacement] = db.exec(select(Assignment).where(Assignment.auditor_id == second_auditor.id)).all()
        assert (replacement.plan_id, replacement.due_date) == (first.plan_id, date(2027, 1, 4))
        set_status(db, replacement, AssignmentStatus.SUBMITTED)()

    run_every_day(app, date(2026, 11, 9), date(2027, 1, 15), before_run={date(2027, 1, 5): submit_second},
                  scheduled=(reallocate_job, chase_job))

    second = ["second.auditor@886.example.gov.uk"]
    assert sent(db, (*CHASE_KINDS, "reassignment")) == [
        ("2026-11-26", "reminder", AUDITOR),
        ("2026-11-30", "due_today", AUDITOR),
        ("2026-12-03", "overdue", AUDITOR),
        ("2026-12-07", "escalation", COORDINATOR),
        ("2026-12-08", "overdue", AUDITOR),
        # Seven working days overdue: reallocated at 07:00, due 15 working days later, after Christmas.
        ("2026-12-09", "reassignment", second),
        ("2026-12-30", "reminder", second),
        ("2027-01-04", "due_today", second),
    ]
    db.refresh(first)
    assert first.status == AssignmentStatus.WITHDRAWN


def _assignments_due(db, world, due: date, count: int, **cycle_fields):
    la = world.las["own"]
    cycle = make_cycle(db, la, **cycle_fields)
    assignments = [make_assignment(db, cycle, make_plan(db, la, system_id=f"SYS-{cycle.name[:3]}-{number:03d}"),
                                   world.user("auditor"), due_date=due) for number in range(count)]
    db.commit()
    return cycle, assignments


def test_running_twice_or_four_at_once_queues_each_chase_once(app, db, world):
    _assignments_due(db, world, date(2026, 11, 30), 40)
    engine = get_engine(app)
    outcomes = run_at_once(lambda: chase_job(engine, app.config, now=datetime(2026, 11, 26, 7, 5, tzinfo=ENGLAND)))
    again = chase_job(engine, app.config, now=datetime(2026, 11, 26, 16, 5, tzinfo=ENGLAND))

    reminders = chase_messages(db)
    assert len(reminders) == 40
    assert len({message.idempotency_key for message in reminders}) == 40
    assert sum(int(outcome.summary.split()[-1]) for outcome in outcomes if outcome.summary.startswith("reminder")) == 40
    assert again.summary == "Nothing to chase"


def test_a_missed_run_catches_up_once_with_the_latest_chase(app, db, world):
    _, [assignment] = _assignments_due(db, world, date(2026, 11, 30), 1)
    engine = get_engine(app)
    chase_job(engine, app.config, now=datetime(2026, 11, 23, 7, 5, tzinfo=ENGLAND))
    # The machine was off from Tuesday 24 November to Friday 4 December: the reminder, the due-day
    # email and the overdue chase of 3 December were all missed. Friday sends the latest, once.
    for hour in (7, 12, 17):
        chase_job(engine, app.config, now=datetime(2026, 12, 4, hour, 5, tzinfo=ENGLAND))
    [caught_up] = chase_messages(db)
    assert caught_up.idempotency_key == f"assignment:{assignment.id}:overdue:2026-12-03"
    assert "now 4 working days overdue" in caught_up.body_text  # worded for the day it goes

    chase_job(engine, app.config, now=datetime(2026, 12, 7, 7, 5, tzinfo=ENGLAND))
    assert [message.kind for message in chase_messages(db)] == ["overdue", "escalation"]


def test_a_missed_due_day_is_caught_up_as_overdue(app, db, world):
    _, [assignment] = _assignments_due(db, world, date(2026, 11, 30), 1)
    engine = get_engine(app)
    chase_job(engine, app.config, now=datetime(2026, 11, 26, 7, 5, tzinfo=ENGLAND))
    chase_job(engine, app.config, now=datetime(2026, 12, 1, 7, 5, tzinfo=ENGLAND))  # off on Friday and Monday
    assert [(message.idempotency_key, message.kind) for message in chase_messages(db)] == [
        (f"assignment:{assignment.id}:reminder:2026-11-26", "reminder"),
        (f"assignment:{assignment.id}:due:2026-11-30", "overdue"),
    ]
    assert "now 1 working day overdue" in chase_messages(db)[1].body_text


def test_a_run_that_dies_part_way_is_finished_by_the_next_without_repeating_a_batch(app, db, world, monkeypatch):
    _, assignments = _assignments_due(db, world, date(2026, 11, 30), 5)
    real_queue_messages, calls = chasing.queue_messages, []

    def dies_on_the_second_batch(session, messages):
        calls.append([message.key for message in messages])
        if len(calls) == 2:
            raise RuntimeError("the process was killed")
        return real_queue_messages(session, messages)

    monkeypatch.setattr(chasing, "BATCH", 2)
    monkeypatch.setattr(chasing, "queue_messages", dies_on_the_second_batch)
    reminder_day = datetime(2026, 11, 26, 7, 5, tzinfo=ENGLAND)
    with pytest.raises(RuntimeError):
        chase_job(get_engine(app), app.config, now=reminder_day)
    assert len(chase_messages(db)) == 2  # the first batch was committed, the second rolled back

    chase_job(get_engine(app), app.config, now=reminder_day.replace(hour=8))
    keys = {message.idempotency_key for message in chase_messages(db)}
    assert keys == {f"assignment:{assignment.id}:reminder:2026-11-26" for assignment in assignments}
    rerun = [key for batch in calls[2:] for key in batch]
    assert rerun == sorted(keys - set(calls[0]))  # the rerun queued only the three missing, once each


def test_only_active_assignments_of_open_cycles_on_working_days_are_chased(app, db, world):
    due = date(2026, 11, 30)
    _, assignments = _assignments_due(db, world, due, 5)
    for assignment, status in zip(assignments, (AssignmentStatus.SUBMITTED, AssignmentStatus.DECLINED,
                                                AssignmentStatus.WITHDRAWN)):
        assignment.status = status
        db.add(assignment)
    _assignments_due(db, world, due, 1, name="Closed cycle", status=CycleStatus.CLOSED)
    _assignments_due(db, world, due, 1, name="Draft cycle", status=CycleStatus.DRAFT)
    db.add(ClosureDay(la_id=world.las["own"].id, day=date(2026, 12, 1), reason="Staff training"))
    db.commit()
    engine = get_engine(app)

    assert chase_job(engine, app.config, now=datetime(2026, 11, 28, 7, 5, tzinfo=ENGLAND)).summary == \
        "No open cycle has a working day today"  # Saturday
    chase_job(engine, app.config, now=datetime(2026, 11, 30, 7, 5, tzinfo=ENGLAND))
    chase_job(engine, app.config, now=datetime(2026, 12, 1, 7, 5, tzinfo=ENGLAND))  # the LA's closure day

    assert {message.assignment_id for message in chase_messages(db)} == {assignment.id for assignment in assignments[3:]}
    assert [message.kind for message in chase_messages(db)] == ["due_today", "due_today"]


def test_a_date_beyond_the_bank_holiday_data_is_flagged(app, db, world):
    _, [assignment] = _assignments_due(db, world, date(2028, 12, 28), 1)
    outcome = chase_job(get_engine(app), app.config, now=datetime(2028, 12, 27, 7, 5, tzinfo=ENGLAND))
    assert chase_messages(db) == []
    assert outcome.warning.startswith("1 audit not chased: 2029-")
    assert "upgrade the govuk-bank-holidays package" in outcome.warning


def test_near_the_end_of_the_data_overdue_audits_are_still_chased(app, db, world):
    cycle, [overdue] = _assignments_due(db, world, date(2028, 12, 20), 1)
    [unknown] = [make_assignment(db, cycle, make_plan(db, world.las["own"], system_id="SYS-2029"), world.user("auditor"),
                                 due_date=date(2029, 1, 3))]
    db.commit()
    # Friday 29 December 2028: two working days on is in 2029, which the data does not cover.
    outcome = chase_job(get_engine(app), app.config, now=datetime(2028, 12, 29, 7, 5, tzinfo=ENGLAND))
    assert [(message.assignment_id, message.kind) for message in chase_messages(db)] == [
        (overdue.id, "escalation"), (overdue.id, "overdue")]
    assert outcome.warning.startswith("1 audit not chased: 2029-")
