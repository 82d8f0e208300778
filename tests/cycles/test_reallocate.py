"""The reallocate job: long-overdue audits nobody started go to the pool member with most room, per
the cycle's policy, once, even when runs overlap."""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from sqlmodel import select

from audit_workflow.auth.service import create_user
from audit_workflow.cycles.models import Assignment, AssignmentStatus, CycleAuditor
from audit_workflow.cycles.reallocation import reallocate_job
from audit_workflow.db import get_engine
from audit_workflow.notifications.models import OutboxMessage
from tests.concurrency import run_at_once
from tests.factories import make_assignment, make_cycle, make_plan

DUE = date(2026, 11, 30)  # a Monday; three working days overdue on Thursday 3 December


@pytest.fixture
def pool(db, world):
    """A cycle that reallocates after 3 working days overdue, and its pool besides the LA's auditor:
    one with no room left, one on the plans' writing team, and two with room (the roomier wins)."""
    la = world.las["own"]
    cycle = make_cycle(db, la, name="Reallocating", reallocate_after_days=3)
    auditors = {name: create_user(db, la.id, f"{name}@886.example.gov.uk", name.title(), "auditor", team=team)
                for name, team in (("full", "Team 1"), ("writer", "Team North"), ("some_room", "Team 2"),
                                   ("most_room", "Team 3"))}
    capacities = {"full": 1, "writer": 9, "some_room": 2, "most_room": 3}
    db.add_all([CycleAuditor(la_id=la.id, cycle_id=cycle.id, user_id=auditors[name].id, capacity=capacity)
                for name, capacity in capacities.items()])
    db.add(CycleAuditor(la_id=la.id, cycle_id=cycle.id, user_id=world.user("auditor").id, capacity=5))
    make_assignment(db, cycle, make_plan(db, la, "SYS-HELD"), auditors["full"], due_date=date(2027, 1, 29))
    db.commit()
    return cycle, auditors


def run_on(app, day: date, hour: int = 7) -> str:
    with time_machine.travel(f"{day.isoformat()} {hour:02d}:00 +00:00", tick=False):
        return reallocate_job(get_engine(app), app.config).summary


def reread(db) -> None:
    """See what the job committed in its own sessions: a new read snapshot, nothing cached."""
    db.commit()
    db.expire_all()


def holders(db, plan_id) -> list[tuple[str, str]]:
    reread(db)
    return sorted((assignment.status, assignment.auditor_id) for assignment in
                  db.exec(select(Assignment).where(Assignment.plan_id == plan_id)).all())


def test_only_unstarted_audits_overdue_long_enough_move_and_to_the_freest_eligible_auditor(app, db, world, pool):
    cycle, auditors = pool
    la, auditor = world.las["own"], world.user("auditor")
    waiting = make_assignment(db, cycle, make_plan(db, la, "SYS-WAIT"), auditor, due_date=DUE)
    started = make_assignment(db, cycle, make_plan(db, la, "SYS-BEGUN"), auditor, due_date=DUE,
                              status=AssignmentStatus.IN_PROGRESS)
    never = make_assignment(db, make_cycle(db, la, name="Never reallocates"), make_plan(db, la, "SYS-KEEP"), auditor, due_date=DUE)
    db.commit()

    assert run_on(app, date(2026, 12, 2)) == "Nothing to reallocate"  # two working days overdue
    assert run_on(app, date(2026, 12, 3)) == "reallocated 1"
    assert run_on(app, date(2026, 12, 3), 12) == "Nothing to reallocate"

    reread(db)
    replacement = db.exec(select(Assignment).where(Assignment.plan_id == waiting.plan_id,
                                                   Assignment.status == AssignmentStatus.NOT_STARTED)).one()
    assert replacement.auditor_id == auditors["most_room"].id
    assert replacement.due_date == date(2026, 12, 24)  # 15 working days from 3 December
    assert db.get(Assignment, waiting.id).status == AssignmentStatus.WITHDRAWN
    assert (db.get(Assignment, started.id).status, db.get(Assignment, never.id).status) == (
        AssignmentStatus.IN_PROGRESS, AssignmentStatus.NOT_STARTED)
    [email] = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "reassignment")).all()
    assert json.loads(email.recipients) == ["most_room@886.example.gov.uk"]
    assert email.assignment_id == replacement.id


def test_with_nobody_free_the_audit_stays_and_the_next_run_tries_again(app, db, world, pool):
    cycle, auditors = pool
    for member in db.exec(select(CycleAuditor).where(CycleAuditor.user_id.in_(
            [auditors["some_room"].id, auditors["most_room"].id]))).all():
        db.delete(member)
    waiting = make_assignment(db, cycle, make_plan(db, world.las["own"], "SYS-STUCK"), world.user("auditor"), due_date=DUE)
    db.commit()

    assert run_on(app, date(2026, 12, 3)) == "no auditor free 1"
    assert holders(db, waiting.plan_id) == [(AssignmentStatus.NOT_STARTED, world.user("auditor").id)]

    db.add(CycleAuditor(la_id=cycle.la_id, cycle_id=cycle.id, user_id=auditors["some_room"].id, capacity=1))
    db.commit()
    assert run_on(app, date(2026, 12, 4)) == "reallocated 1"


def test_four_runs_at_once_move_an_audit_once(app, db, world, pool):
    cycle, auditors = pool
    waiting = make_assignment(db, cycle, make_plan(db, world.las["own"], "SYS-RACE"), world.user("auditor"), due_date=DUE)
    db.commit()
    summaries = run_at_once(lambda: run_on(app, date(2026, 12, 3)))

    assert sorted(summaries) == ["Nothing to reallocate"] * 3 + ["reallocated 1"]
    assert holders(db, waiting.plan_id) == sorted([(AssignmentStatus.WITHDRAWN, world.user("auditor").id),
                                                   (AssignmentStatus.NOT_STARTED, auditors["most_room"].id)])


def test_run_job_reallocates_with_the_commands_application_context(app, db, world, pool, runner):
    cycle, auditors = pool
    make_assignment(db, cycle, make_plan(db, world.las["own"], "SYS-CRON"), world.user("auditor"), due_date=DUE)
    db.commit()
    with time_machine.travel("2026-12-03 07:00 +00:00", tick=False):
        result = runner.invoke(args=["run-job", "reallocate"])
    assert result.exit_code == 0, result.output
    assert result.output == "reallocate: reallocated 1\n"
