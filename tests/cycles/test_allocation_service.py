"""Allocation through the service: capacity, never the writer's own team, declines never come
back, one email per auditor per run, and running it again adds nothing twice."""

import json
from collections import Counter
from datetime import date

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from audit_workflow.audits.service import start_audit
from audit_workflow.authorities.models import ClosureDay
from audit_workflow.cycles import allocating, auditor_pool, lifecycle, plan_sample, progress
from audit_workflow.cycles.guards import CycleError
from audit_workflow.cycles.lifecycle import CycleSettings
from audit_workflow.cycles.models import HELD_STATUSES, AllocationRun, Assignment, AssignmentStatus, CycleStatus
from audit_workflow.db import get_engine
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.notifications.staff_mail import StaffMail
from audit_workflow.plans.models import Plan
from audit_workflow.web.errors import database_race
from tests.cycles.conftest import add_auditors, add_register

# A Monday: 15 working days later is Monday 26 October 2026 (no bank holidays in between).
MONDAY = "2026-10-05 09:00:00"


@pytest.fixture
def cycle(db, la):
    add_register(db, la, 90)
    cycle = lifecycle.create_cycle(db, la.id, CycleSettings(name="Autumn 2026", period_start=date(2026, 9, 1),
                                                          period_end=date(2026, 12, 18), due_working_days=15))
    plan_sample.draw_sample(db, cycle, size=30, seed=7)
    db.commit()
    return cycle


def held(db, cycle):
    return db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id,
                                            Assignment.status.in_(HELD_STATUSES))).all()


def messages(db, kind):
    return db.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()


@time_machine.travel(MONDAY, tick=False)
def test_every_plan_is_allocated_within_capacity_and_never_to_the_writing_team(db, la, cycle, coordinator, mail):
    auditors = add_auditors(db, la, 6)  # two in each writing team
    for auditor in auditors:
        auditor_pool.add_auditor(db, cycle, auditor, 6)
    outcome = allocating.allocate_cycle(db, cycle, coordinator, mail)
    db.commit()

    assignments = held(db, cycle)
    assert len(assignments) == len(outcome.assignments) == 30 and outcome.unallocated == []
    assert max(Counter(a.auditor_id for a in assignments).values()) <= 6
    teams = {auditor.id: auditor.team for auditor in auditors}
    for assignment in assignments:
        assert teams[assignment.auditor_id] != db.get(Plan, assignment.plan_id).writer_team
        assert (assignment.status, assignment.kind, assignment.due_date) == ("not_started", "primary", date(2026, 10, 26))
    assert cycle.status == CycleStatus.OPEN  # allocating a draft opens it
    run = db.exec(select(AllocationRun).where(AllocationRun.cycle_id == cycle.id)).one()
    assert (run.assigned, run.unallocated, run.run_by_id) == (30, 0, coordinator.id)
    assert json.loads(run.explanation) == outcome.explanation and outcome.explanation


@time_machine.travel(MONDAY, tick=False)
def test_one_email_per_auditor_lists_all_their_plans(db, la, cycle, coordinator, mail):
    auditors = add_auditors(db, la, 3)
    for auditor in auditors:
        auditor_pool.add_auditor(db, cycle, auditor, 20)
    outcome = allocating.allocate_cycle(db, cycle, coordinator, mail)
    db.commit()

    emails = messages(db, "assignment")
    per_auditor = Counter(a.auditor_id for a in outcome.assignments)
    assert len(emails) == len(per_auditor)
    for auditor in auditors:
        email = next(m for m in emails if json.loads(m.recipients) == [auditor.email])
        assert email.idempotency_key == f"allocation:{cycle.id}:{auditor.id}:{outcome.run.id}"
        theirs = [db.get(Plan, a.plan_id).system_id for a in outcome.assignments if a.auditor_id == auditor.id]
        assert all(system_id in email.body_text for system_id in theirs)
        assert "26 October 2026" in email.body_text
        assert email.status == "queued"


@time_machine.travel(MONDAY, tick=False)
def test_running_it_again_allocates_only_what_is_left_and_sends_nothing_twice(db, la, cycle, coordinator, mail):
    auditor_a, auditor_b = add_auditors(db, la, 2, teams=("Team X",))
    auditor_pool.add_auditor(db, cycle, auditor_a, 10)
    first = allocating.allocate_cycle(db, cycle, coordinator, mail)
    assert (len(first.assignments), len(first.unallocated)) == (10, 20)
    assert all("capacity" in reason.lower() for _, reason in first.unallocated)

    auditor_pool.add_auditor(db, cycle, auditor_b, 30)
    second = allocating.allocate_cycle(db, cycle, coordinator, mail)
    assert len(second.assignments) == 20 and second.unallocated == []
    assert {a.auditor_id for a in second.assignments} == {auditor_b.id}
    assert len(held(db, cycle)) == 30 and len({a.plan_id for a in held(db, cycle)}) == 30
    with pytest.raises(CycleError, match="no unallocated plans"):
        allocating.allocate_cycle(db, cycle, coordinator, mail)
    assert len(messages(db, "assignment")) == 2


@time_machine.travel(MONDAY, tick=False)
def test_the_emails_are_part_of_the_change_and_roll_back_with_it(db, la, cycle, coordinator, mail):
    """Queued in the caller's transaction: a change that is not committed leaves no email behind,
    and no assignment, reassignment or decline is ever committed without its email."""
    auditor, colleague = add_auditors(db, la, 2, teams=("Team X",))
    auditor_pool.add_auditor(db, cycle, auditor, 2)
    db.commit()
    outcome = allocating.allocate_cycle(db, cycle, coordinator, mail)
    assert len(outcome.assignments) == 2 and len(messages(db, "assignment")) == 1
    db.rollback()
    assert held(db, cycle) == [] and messages(db, "assignment") == []

    first, second = allocating.allocate_cycle(db, cycle, coordinator, mail).assignments
    auditor_pool.add_auditor(db, cycle, colleague, 2)
    db.commit()
    allocating.decline(db, first, "I know the family", mail)
    allocating.reassign(db, second, colleague.id, coordinator, mail)
    assert len(messages(db, "decline_receipt")) == len(messages(db, "reassignment")) == 1
    db.rollback()
    assert messages(db, "decline_receipt") == [] and messages(db, "reassignment") == []
    assert {a.auditor_id: a.status for a in held(db, cycle)} == {auditor.id: AssignmentStatus.NOT_STARTED}
    assert len(held(db, cycle)) == 2


def test_allocation_needs_a_pool(db, cycle, coordinator, mail):
    with pytest.raises(CycleError, match="no auditors"):
        allocating.allocate_cycle(db, cycle, coordinator, mail)


@time_machine.travel(MONDAY, tick=False)
def test_a_declined_plan_returns_to_the_queue_and_never_to_the_same_auditor(db, world, la, cycle, coordinator, mail):
    first, second = add_auditors(db, la, 2, teams=("Team X",))
    auditor_pool.add_auditor(db, cycle, first, 30)
    allocating.allocate_cycle(db, cycle, coordinator, mail)
    declined = held(db, cycle)[0]
    allocating.decline(db, declined, "I know the family", mail)
    assert (declined.status, declined.decline_reason) == (AssignmentStatus.DECLINED, "I know the family")
    assert allocating.unallocated_plan_ids(db, cycle) == [declined.plan_id]

    receipt = messages(db, "decline_receipt")[0]
    assert receipt.idempotency_key == f"assignment:{declined.id}:declined"
    assert json.loads(receipt.recipients) == [world.user("coordinator").email]

    outcome = allocating.allocate_cycle(db, cycle, coordinator, mail)  # only the declining auditor has room
    assert outcome.assignments == [] and [system_id for system_id, _ in outcome.unallocated] == [
        db.get(Plan, declined.plan_id).system_id]
    auditor_pool.add_auditor(db, cycle, second, 1)
    outcome = allocating.allocate_cycle(db, cycle, coordinator, mail)
    assert [(a.plan_id, a.auditor_id) for a in outcome.assignments] == [(declined.plan_id, second.id)]


def test_only_a_not_started_audit_can_be_declined(db, la, cycle, coordinator, mail):
    auditor = add_auditors(db, la, 1, teams=("Team X",))[0]
    auditor_pool.add_auditor(db, cycle, auditor, 1)
    assignment = allocating.allocate_cycle(db, cycle, coordinator, mail).assignments[0]
    with pytest.raises(CycleError, match="Enter a reason"):
        allocating.decline(db, assignment, " ", mail)
    assignment.status = AssignmentStatus.IN_PROGRESS
    with pytest.raises(CycleError, match="not started"):
        allocating.decline(db, assignment, "busy", mail)


@time_machine.travel(MONDAY, tick=False)
def test_reassignment_withdraws_the_old_assignment_and_tells_both_auditors(db, la, cycle, coordinator, mail):
    north, south, other_north = add_auditors(db, la, 3, teams=("Team X", "Team Y", "Team X"))
    auditor_pool.add_auditor(db, cycle, north, 1)
    original = allocating.allocate_cycle(db, cycle, coordinator, mail).assignments[0]
    for auditor in (south, other_north):
        auditor_pool.add_auditor(db, cycle, auditor, 1)
    db.get(Plan, original.plan_id).writer_team = "Team Y"  # so south is on the writing team

    assert [user.id for user in allocating.eligible_auditors(db, original)] == [other_north.id]
    with pytest.raises(CycleError, match="not on the plan's writing team"):
        allocating.reassign(db, original, south.id, coordinator, mail)
    replacement = allocating.reassign(db, original, other_north.id, coordinator, mail)

    assert original.status == AssignmentStatus.WITHDRAWN
    assert (replacement.auditor_id, replacement.status, replacement.due_date) == (other_north.id, "not_started", date(2026, 10, 26))
    email = messages(db, "reassignment")[0]
    assert email.idempotency_key == f"assignment:{original.id}:reassigned:{other_north.id}"
    assert json.loads(email.recipients) == [other_north.email] and email.assignment_id == replacement.id
    [withdrawal] = messages(db, "withdrawal")
    assert (json.loads(withdrawal.recipients), withdrawal.idempotency_key) == ([north.email], f"assignment:{original.id}:withdrawn")
    assert db.get(Plan, original.plan_id).system_id in withdrawal.subject and "no longer need to do it" in withdrawal.body_text
    with pytest.raises(CycleError, match="not started or in progress"):
        allocating.reassign(db, original, north.id, coordinator, mail)

    # An auditor who has left (account disabled) is not written to.
    other_north.active = False
    db.add(other_north)
    allocating.reassign(db, replacement, north.id, coordinator, mail)
    assert [json.loads(email.recipients) for email in messages(db, "withdrawal")] == [[north.email]]


@time_machine.travel("2026-12-21 09:00:00", tick=False)
def test_the_due_date_skips_weekends_bank_holidays_and_the_las_closure_days(db, la, cycle):
    db.add_all([ClosureDay(la_id=la.id, day=date(2026, 12, 29)), ClosureDay(la_id=la.id, day=date(2026, 12, 30))])
    cycle.due_working_days = 5
    # 21 Dec (Mon) + 5 working days: 22, 23, 24, [25, 28 bank holidays], [29, 30 closed], 31 Dec, 4 Jan (1 Jan holiday)
    assert allocating.due_date_for(db, cycle) == date(2027, 1, 4)


def test_the_pool_is_imported_from_csv_all_or_nothing(db, world, la, cycle):
    first, second = add_auditors(db, la, 2)
    good = f"Email,Capacity\n{first.email.upper()},4\n{second.email},6\n\n".encode()
    members = auditor_pool.import_pool(db, cycle, good)
    assert sorted(member.capacity for member in members) == [4, 6]

    bad = (f"email,capacity\n{first.email},3\n{world.user('coordinator').email},2\n"
           f"{world.user('auditor', 'other').email},2\nnobody@example.gov.uk,two\n").encode()
    with pytest.raises(auditor_pool.PoolImportRefused) as refusal:
        auditor_pool.import_pool(db, cycle, bad)
    assert [str(problem) for problem in refusal.value.problems] == [
        f"Row 3: {world.user('coordinator').email} is not an active auditor in this LA",
        f"Row 4: {world.user('auditor', 'other').email} is not an active auditor in this LA",
        "Row 5: capacity must be a whole number of plans",
    ]
    assert sorted(member.capacity for member in progress.pool(db, cycle)) == [4, 6]  # unchanged
    for data, message in ((b"name,capacity\n", "needs the column email"), (b"\x81\x8d\x8f", "UTF-8"), (b"email,capacity\n", "no auditors"),
                          (b"PK\x03\x04", "Excel workbook")):
        with pytest.raises(auditor_pool.PoolImportRefused) as refusal:
            auditor_pool.import_pool(db, cycle, data)
        assert message in str(refusal.value.problems[0])


def test_a_pool_file_is_read_as_the_plan_register_is_from_excels_older_csv_with_semicolons(db, la, cycle):
    """Excel's default CSV is Windows-1252, and in some locales separates with semicolons: the plans
    parser reads both, and so does the pool import (with its row numbers as the spreadsheet shows)."""
    north, south = add_auditors(db, la, 2, teams=("SEN North", "Équipe Sud"))
    good = f"Email;Capacity;Team\n{north.email};4;SEN North\n\n{south.email};5;Équipe Sud\n".encode("cp1252")
    assert sorted(member.capacity for member in auditor_pool.import_pool(db, cycle, good)) == [4, 5]

    bad = f"email;capacity\n{north.email};4\n\nnobody@example.gov.uk;2\n".encode("cp1252")
    with pytest.raises(auditor_pool.PoolImportRefused) as refusal:
        auditor_pool.import_pool(db, cycle, bad)
    assert [str(problem) for problem in refusal.value.problems] == [
        "Row 4: nobody@example.gov.uk is not an active auditor in this LA"]


def test_a_pool_file_may_give_discipline_and_team_which_must_match_the_record(db, la, cycle):
    north, south = add_auditors(db, la, 2, teams=("SEN North", "SEN South"))
    good = (f"email,capacity,discipline,team\n{north.email},4,Education,sen  NORTH\n{south.email},5,,\n").encode()
    assert sorted(member.capacity for member in auditor_pool.import_pool(db, cycle, good)) == [4, 5]

    bad = (f"Email,Capacity,Discipline,Team\n{north.email},3,Social care,SEN North\n{south.email},3,health care,SEN South\n"
           f"{north.email},3,education,SEN South\n").encode()
    with pytest.raises(auditor_pool.PoolImportRefused) as refusal:
        auditor_pool.import_pool(db, cycle, bad)
    assert [str(problem) for problem in refusal.value.problems] == [
        f"Row 2: the file gives {north.email}'s discipline as Social care, but the service has education; "
        "correct the file, or ask an administrator to change their record",
        "Row 3: discipline must be one of education, health, social care, other",
        f'Row 4: the file gives {north.email}\'s team as "SEN South", but the service has "SEN North"; '
        "correct the file, or ask an administrator to change their record",
    ]
    assert sorted(member.capacity for member in progress.pool(db, cycle)) == [4, 5]  # unchanged


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=200),
    st.lists(st.lists(st.sampled_from(["email", "Capacity", "team", "discipline", "auditor@886.example.gov.uk", "3",
                                       "x", "", "health", '"', "\x00"]), max_size=6), max_size=5).map(
        lambda rows: "\n".join(",".join(row) for row in rows).encode())))
def test_any_pool_file_is_imported_whole_or_refused_with_reasons(db, cycle, data):
    try:
        members = auditor_pool.import_pool(db, cycle, data)
    except auditor_pool.PoolImportRefused as refusal:
        assert refusal.problems and all(str(problem) for problem in refusal.problems)
    else:
        assert members and len(progress.pool(db, cycle)) >= len(members)
    db.rollback()


def test_only_active_auditors_of_the_la_join_the_pool(db, world, la, cycle):
    with pytest.raises(CycleError, match="not an active auditor"):
        auditor_pool.add_auditor(db, cycle, world.user("auditor", "other"), 3)
    with pytest.raises(CycleError, match="from 1 to 500"):
        auditor_pool.add_auditor(db, cycle, world.user("auditor"), 0)
    assert len(auditor_pool.add_auditors_by_email(db, cycle, [], 4)) == 1  # every active auditor in the LA: the world's one


@time_machine.travel(MONDAY, tick=False)
@pytest.mark.parametrize("late_move", ["start", "decline", "reassign"])
def test_a_change_racing_a_reassignment_is_refused_and_the_plan_keeps_one_live_assignment(app, db, la, cycle, coordinator,
                                                                                          late_move, mail):
    """The coordinator reassigns in one request while, in another, the auditor (who saw the plan
    as not started) starts or declines it, or a second coordinator reassigns it too."""
    first, second, third = add_auditors(db, la, 3, teams=("Team X",))
    auditor_pool.add_auditor(db, cycle, first, 30)
    assignment = allocating.allocate_cycle(db, cycle, coordinator, mail).assignments[0]
    auditor_pool.add_auditor(db, cycle, second, 30)
    auditor_pool.add_auditor(db, cycle, third, 30)
    db.commit()
    assert assignment.status == AssignmentStatus.NOT_STARTED  # what the late request saw

    with Session(get_engine(app), expire_on_commit=False) as other_request:
        allocating.reassign(other_request, other_request.get(Assignment, assignment.id), second.id, coordinator,
                            StaffMail(other_request, app.config))
        other_request.commit()

    late = {
        "start": lambda: start_audit(db, assignment, first),
        "decline": lambda: allocating.decline(db, assignment, "Away before it is due", mail),
        "reassign": lambda: allocating.reassign(db, assignment, third.id, coordinator, mail),
    }[late_move]
    with pytest.raises(Exception) as refused:
        late()
    assert database_race(refused.value) == 409  # "someone else changed this": reload
    db.rollback()
    live = [(a.auditor_id, a.status) for a in held(db, cycle) if a.plan_id == assignment.plan_id]
    assert live == [(second.id, AssignmentStatus.NOT_STARTED)]


@time_machine.travel(MONDAY, tick=False)
def test_a_decline_reason_naming_the_childs_details_is_refused_before_anything_is_emailed(db, la, cycle, coordinator, mail):
    [auditor] = add_auditors(db, la, 1, teams=("Team X",))
    auditor_pool.add_auditor(db, cycle, auditor, 30)
    assignment = allocating.allocate_cycle(db, cycle, coordinator, mail).assignments[0]
    with pytest.raises(CycleError, match="a date of birth") as refusal:
        allocating.decline(db, assignment, "I taught him, DOB 03/04/2015", mail)
    assert refusal.value.field == "reason"
    assert assignment.status == AssignmentStatus.NOT_STARTED and messages(db, "decline_receipt") == []
