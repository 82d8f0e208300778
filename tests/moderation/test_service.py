"""Choosing the moderation sample and the second auditors, through the service and the job."""

import pytest
from sqlmodel import select

from audit_workflow.audits.models import Audit
from audit_workflow.auth.models import User
from audit_workflow.cycles import allocating, lifecycle
from audit_workflow.cycles.allocation import same_team
from audit_workflow.cycles.models import HELD_STATUSES, Assignment, AssignmentKind, AssignmentStatus, CycleStatus
from audit_workflow.db import get_engine
from audit_workflow.moderation import selection, service
from audit_workflow.moderation.jobs import moderation_sample_job
from audit_workflow.moderation.models import ModerationCycle, ModerationPick
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.notifications.staff_mail import StaffMail
from audit_workflow.plans.models import Plan
from audit_workflow.scheduler.jobs import job_named

pytestmark = pytest.mark.usefixtures("app_context")


def moderation_assignments(db, cycle):
    return db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.MODERATION,
                                            Assignment.status.in_(HELD_STATUSES))).all()


def test_the_sample_covers_every_auditor_and_grade_and_reaches_the_share(db, app, submitted):
    cycle, assignments, users = submitted
    outcome = service.select_and_assign(db, cycle, app.config, seed=11)
    db.commit()
    picked = service.picks(db, cycle)
    primary = {a.plan_id: a for a in assignments}
    assert len(picked) >= 2  # 10% of 20
    assert {primary[pick.plan_id].auditor_id for pick in picked} == {a.auditor_id for a in assignments}
    grades = {audit.overall_grade for audit in db.exec(select(Audit)).all()}
    picked_grades = {db.exec(select(Audit).where(Audit.assignment_id == primary[pick.plan_id].id)).one().overall_grade
                     for pick in picked}
    assert picked_grades == grades
    assert len(outcome.picked) == len(picked) and db.get(ModerationCycle, db.exec(select(ModerationCycle.id)).one()).seed == 11


def test_the_sample_is_reproducible_from_the_seed():
    audits = [selection.SubmittedAudit(f"plan-{n}", f"auditor-{n % 3}", ("good", "inadequate")[n % 2]) for n in range(30)]
    once = selection.choose(audits, [], set(), 0.2, seed=5)
    assert selection.choose(list(reversed(audits)), [], set(), 0.2, seed=5) == once
    assert selection.choose(audits, [], set(), 0.2, seed=6) != once
    assert len(once) == 6
    # A second run adds only what the share still asks for.
    chosen = [audit for audit in audits if audit.plan_id in {pick.plan_id for pick in once}]
    assert selection.choose(audits, chosen, {audit.plan_id for audit in chosen}, 0.2, seed=5) == []


def test_the_second_auditor_is_another_person_outside_both_teams_preferring_moderators_and_other_disciplines(db, app, submitted):
    cycle, assignments, users = submitted
    moderator = users[5]
    service.set_moderator(db, moderator, True)
    service.select_and_assign(db, cycle, app.config, seed=11)
    db.commit()
    moderations = moderation_assignments(db, cycle)
    assert moderations
    primary = {a.plan_id: a for a in assignments}
    for moderation in moderations:
        first = db.get(User, primary[moderation.plan_id].auditor_id)
        second = db.get(User, moderation.auditor_id)
        plan = db.get(Plan, moderation.plan_id)
        assert second.id != first.id and not same_team(second.team, first.team)
        assert not same_team(second.team, plan.writer_team)
        if first.team != moderator.team:
            assert second.id == moderator.id or second.discipline != first.discipline


def test_within_capacity_and_otherwise_waiting_with_a_reason():
    first = selection.FirstAudit("a", "education", "T1", "W")
    full = [selection.Candidate("b", "health", "T2", 3, 3, True)]
    assert selection.second_auditor(first, full) == (None, "every auditor who could moderate it is at capacity")
    same_team_only = [selection.Candidate("b", "health", "T1", 3, 0, True)]
    assert selection.second_auditor(first, same_team_only)[0] is None
    pool = [selection.Candidate("b", "education", "T2", 3, 0, False), selection.Candidate("c", "health", "T3", 3, 2, False)]
    assert selection.second_auditor(first, pool)[0] == "c"  # another discipline before a lighter load


def test_moderators_get_one_email_with_system_ids_only(db, app, submitted):
    cycle, _, _ = submitted
    service.select_and_assign(db, cycle, app.config, seed=11)
    db.commit()
    messages = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "moderation_assignment")).all()
    by_moderator = {}
    for moderation in moderation_assignments(db, cycle):
        by_moderator.setdefault(moderation.auditor_id, []).append(db.get(Plan, moderation.plan_id).system_id)
    assert len(messages) == len(by_moderator)
    for message in messages:
        assert message.status == "queued"
        # Blind: nothing of the first audit, neither its grade nor who did it (no address).
        assert not any(word in message.body_text for word in ("Outstanding", "Inadequate", "Requires improvement", "@example.gov.uk"))
    mentioned = {system_id for ids in by_moderator.values() for system_id in ids}
    assert all(any(system_id in message.body_text for message in messages) for system_id in mentioned)


def test_a_declined_moderation_goes_to_someone_else(db, app, submitted):
    cycle, _, _ = submitted
    service.select_and_assign(db, cycle, app.config, seed=11)
    moderation = moderation_assignments(db, cycle)[0]
    declined_by = moderation.auditor_id
    allocating.decline(db, moderation, "I wrote the health advice for this plan", StaffMail(db, app.config))
    outcome = service.select_and_assign(db, cycle, app.config)
    db.commit()
    again = [a for a in moderation_assignments(db, cycle) if a.plan_id == moderation.plan_id]
    assert len(again) == 1 and again[0].auditor_id != declined_by
    assert outcome.picked == []


def test_the_job_is_registered_and_runs_every_open_cycle_once(db, app, submitted):
    assert job_named("moderation_sample").load() is moderation_sample_job
    cycle, _, _ = submitted
    with app.app_context():
        first = moderation_sample_job(get_engine(app), app.config)
        second = moderation_sample_job(get_engine(app), app.config)
    assert "picked" in first.summary and second.summary == "Nothing to moderate"
    assert len(moderation_assignments(db, cycle)) == len(service.picks(db, cycle))


def test_a_coordinator_adds_and_removes_a_plan_with_a_reason(db, app, world, submitted):
    cycle, assignments, _ = submitted
    coordinator = world.user("coordinator")
    system_id = db.get(Plan, assignments[0].plan_id).system_id
    with pytest.raises(service.ModerationError, match="date of birth"):
        service.add_pick(db, cycle, system_id, "DOB 03/04/2015 looks wrong", coordinator, app.config)
    db.rollback()
    service.select_and_assign(db, cycle, app.config, seed=11)
    picked = {pick.plan_id for pick in service.picks(db, cycle)}
    spare = next(a for a in assignments if a.plan_id not in picked)
    spare_id = db.get(Plan, spare.plan_id).system_id
    outcome = service.add_pick(db, cycle, spare_id, "The writer asked for a second opinion", coordinator, app.config)
    assert outcome.picked == [spare_id] and len(outcome.assigned) == 1
    pick = db.exec(select(ModerationPick).where(ModerationPick.plan_id == spare.plan_id)).one()
    service.remove_pick(db, pick, "Added by mistake", coordinator)
    db.commit()
    assert pick.removed_reason == "Added by mistake"
    assert [a for a in moderation_assignments(db, cycle) if a.plan_id == spare.plan_id] == []
    assert service.select_and_assign(db, cycle, app.config).picked == []  # a removed plan is not picked again
    with pytest.raises(service.ModerationError, match="already been removed"):
        service.remove_pick(db, pick, "again", coordinator)


def test_a_closed_cycle_is_not_moderated(db, app, submitted):
    cycle, _, _ = submitted
    lifecycle.close_cycle(db, cycle)
    with pytest.raises(service.ModerationError, match="closed"):
        service.select_and_assign(db, cycle, app.config)
    assert cycle.status == CycleStatus.CLOSED


def test_primary_allocation_ignores_moderation_and_capacity_counts_it(db, app, submitted):
    cycle, _, _ = submitted
    service.select_and_assign(db, cycle, app.config, seed=11)
    db.commit()
    assert allocating.unallocated_plan_ids(db, cycle) == []
    moderation = moderation_assignments(db, cycle)[0]
    held = allocating.held_per_auditor(cycle)
    load = dict(db.exec(select(held.c.auditor_id, held.c.held)).all())
    primary_held = len(db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.auditor_id == moderation.auditor_id,
                                                        Assignment.kind == AssignmentKind.PRIMARY,
                                                        Assignment.status.in_(HELD_STATUSES))).all())
    assert load[moderation.auditor_id] > primary_held
    assert moderation.status == AssignmentStatus.NOT_STARTED
