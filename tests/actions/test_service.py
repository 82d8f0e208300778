"""Actions as services and jobs: proposed from a weak audit, assigned (the owner emailed), chased,
reviewed weekly, re-audited after the plan is amended, and closed with a privacy-checked note."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from audit_workflow.actions import service
from audit_workflow.actions.jobs import actions_chase_job, actions_propose_job, actions_weekly_job, record_reviews
from audit_workflow.actions.kinds import ActionStatus, ActionType
from audit_workflow.actions.models import Action, ActionChange, ActionReview
from audit_workflow.cycles.models import Assignment, AssignmentKind, AuditCycle
from audit_workflow.db import get_engine
from audit_workflow.notifications.models import MessageStatus, OutboxMessage
from audit_workflow.notifications.staff_mail import StaffMail
from tests.actions.conftest import submit
from tests.factories import make_assignment, make_cycle, make_plan

pytestmark = pytest.mark.usefixtures("app_context")


def messages(db, kind):
    db.commit()  # end the test's read, so that what the jobs wrote since is seen
    return db.exec(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.created_at)).all()


def proposed(app, db) -> Action:
    actions_propose_job(get_engine(app), app.config)
    db.expire_all()
    return db.exec(select(Action)).one()


def test_a_weak_audit_is_proposed_an_action_once(app, db, weak_audit):
    action = proposed(app, db)
    assert action.status == ActionStatus.PROPOSED
    assert action.action_type == ActionType.REAUDIT
    assert (action.audit_id, action.section_code, action.owner_team, action.grade_before) == (
        weak_audit.id, "F", "Team North", weak_audit.overall_grade)
    assert json.loads(action.criteria)[:1] == ["F-I-01"]
    outcome = actions_propose_job(get_engine(app), app.config)
    assert outcome.summary == "Nothing to propose"
    assert len(db.exec(select(Action)).all()) == 1


def test_a_good_audit_is_not_proposed_an_action(app, db, world):
    la = world.las["own"]
    submit(db, make_assignment(db, make_cycle(db, la), make_plan(db, la), world.user("auditor")), world.user("auditor"))
    db.commit()
    assert actions_propose_job(get_engine(app), app.config).summary == "Nothing to propose"


def test_a_good_audit_that_moderation_agreed_was_inadequate_is_proposed_an_action(app, db, world):
    from audit_workflow.moderation.models import AgreedGrade

    la = world.las["own"]
    good = submit(db, make_assignment(db, make_cycle(db, la), make_plan(db, la), world.user("auditor")), world.user("auditor"))
    db.add_all([AgreedGrade(la_id=la.id, audit_id=good.id, section_code="overall", grade="inadequate"),
                AgreedGrade(la_id=la.id, audit_id=good.id, section_code="F", grade="inadequate")])
    db.commit()
    action = proposed(app, db)
    assert (action.audit_id, action.action_type, action.section_code, action.grade_before) == (
        good.id, ActionType.REAUDIT, "F", "inadequate")
    assert good.overall_grade == "good"


def test_assigning_emails_the_owner_and_sets_the_due_date_in_working_days(app, db, world, weak_audit):
    action = proposed(app, db)
    coordinator, owner = world.user("coordinator"), world.user("manager")
    service.assign_action(db, action, coordinator, app.config, owner_id=owner.id, team="Team North")
    db.commit()
    assert action.status == ActionStatus.OPEN
    assert action.due_date == service.due_date_for(db, action.la_id)  # 20 working days from today by default
    [email] = messages(db, "action_assigned")
    assert json.loads(email.recipients) == [owner.email]
    assert "NM-100123" in email.subject and email.status == MessageStatus.QUEUED
    # Reassigning tells the new owner and keeps the history.
    service.assign_action(db, action, coordinator, app.config, owner_id=coordinator.id, team="")
    db.commit()
    assert len(messages(db, "action_assigned")) == 2
    details = [row.detail for row in db.exec(select(ActionChange).order_by(ActionChange.at)).all()]
    assert details[-1].startswith(f"Reassigned from {owner.display_name} to {coordinator.display_name}")


def test_an_owner_must_be_staff_of_the_la_and_someone_must_own_it(app, db, world, weak_audit):
    action = proposed(app, db)
    with pytest.raises(service.ActionError, match="Choose an owner"):
        service.assign_action(db, action, world.user("coordinator"), app.config, owner_id=world.user("auditor", "other").id, team="")
    with pytest.raises(service.ActionError, match="Choose an owner, or enter the team"):
        service.assign_action(db, action, world.user("coordinator"), app.config, owner_id=None, team=" ")


def test_closing_needs_a_note_without_personal_data(app, db, world, weak_audit):
    action = proposed(app, db)
    coordinator = world.user("coordinator")
    action.action_type = ActionType.AMEND_PLAN
    with pytest.raises(service.ActionError) as refusal:
        service.close_action(db, action, coordinator, "Amended for Jane Smith, DOB 01/02/2015")
    assert refusal.value.field == "note"
    with pytest.raises(service.ActionError, match="Enter what was done"):
        service.close_action(db, action, coordinator, "  ")
    service.close_action(db, action, coordinator, "Section F rewritten with the SENCo; outcomes now measurable.")
    assert action.status == ActionStatus.CLOSED
    with pytest.raises(service.ActionError, match="closed"):
        service.edit_action(db, action, coordinator, "amend_plan", "Again", None)


def test_the_re_audit_is_allocated_when_the_plan_is_amended_and_closes_the_action_with_the_grade_change(
        app, db, world, weak_audit, second_auditor):
    action = proposed(app, db)
    coordinator = world.user("coordinator")
    with pytest.raises(service.ActionError, match="Assign the action"):
        service.mark_plan_amended(db, action, coordinator, second_auditor.id, StaffMail(db, app.config))
    service.assign_action(db, action, coordinator, app.config, owner_id=coordinator.id, team="Team North")
    # The first auditor may not re-audit their own audit.
    assert [user.id for user in service.reaudit_candidates(db, action)] == [second_auditor.id]
    reaudit = service.mark_plan_amended(db, action, coordinator, second_auditor.id, StaffMail(db, app.config))
    db.commit()
    assert (reaudit.kind, reaudit.plan_id, reaudit.cycle_id) == (AssignmentKind.REAUDIT, weak_audit_plan(db, weak_audit), action.cycle_id)
    assert action.status == ActionStatus.REAUDIT
    [email] = [message for message in messages(db, "assignment") if message.assignment_id == reaudit.id]
    assert json.loads(email.recipients) == [second_auditor.email]
    # The action cannot be closed by hand while its re-audit is under way.
    with pytest.raises(service.ActionError, match="re-audit is under way"):
        service.close_action(db, action, coordinator, "Done")

    submit(db, reaudit, second_auditor)  # Good everywhere now
    db.commit()
    outcome = actions_propose_job(get_engine(app), app.config)
    assert outcome.summary == "closed after re-audit 1"
    db.expire_all()
    action = db.get(Action, action.id)
    assert (action.status, action.grade_before, action.grade_after) == (ActionStatus.CLOSED, "inadequate", "good")
    assert action.closing_note == "Re-audited: Inadequate → Good"
    assert db.exec(select(Action)).all() == [action]  # the good re-audit proposes nothing


def weak_audit_plan(db, audit):
    return db.get(Assignment, audit.assignment_id).plan_id


def _cycle(db, assignment):
    return db.get(AuditCycle, assignment.cycle_id)


def test_owners_are_reminded_before_the_due_date_and_chased_when_overdue_once_per_date(app, db, world, weak_audit):
    action = proposed(app, db)
    owner = world.user("manager")
    service.assign_action(db, action, world.user("coordinator"), app.config, owner_id=owner.id, team="")
    action.due_date = date(2026, 11, 20)  # a Friday
    db.add(action)
    db.commit()
    engine = get_engine(app)
    at = lambda day: datetime(day.year, day.month, day.day, 9, 0, tzinfo=timezone.utc)  # noqa: E731
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 16))).summary == "Nothing to chase"  # 4 days before
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 17))).summary == "action_reminder 1"  # 3 before
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 18))).summary == "Nothing to chase"  # already sent
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 20))).summary == "Nothing to chase"  # due day
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 23))).summary == "action_overdue 1"  # 1 working day late
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 24))).summary == "Nothing to chase"
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 27))).summary == "action_overdue 1"  # 5 working days late
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 27))).summary == "Nothing to chase"  # a rerun
    assert actions_chase_job(engine, app.config, now=at(date(2026, 11, 28))).summary == "Nothing to chase"  # Saturday
    [reminder] = messages(db, "action_reminder")
    assert "in 3 working days" in reminder.body_text
    first, overdue = messages(db, "action_overdue")
    assert "overdue by 1 working day." in first.body_text and first.idempotency_key == f"action:{action.id}:overdue:2026-11-20"
    assert "overdue by 5 working days" in overdue.body_text
    assert overdue.idempotency_key == f"action:{action.id}:overdue:2026-11-27"


def test_the_weekly_review_keeps_each_date_and_never_overwrites_it(app, db, world, weak_audit):
    action = proposed(app, db)
    monday = date(2026, 11, 2)
    assert record_reviews(db, action.la_id, monday, []) == 1
    action.status = ActionStatus.CLOSED
    action.closed_at = datetime(2026, 11, 3, 12, tzinfo=timezone.utc)
    db.add(action)
    assert record_reviews(db, action.la_id, monday, []) == 0  # the first status on that date stays
    assert record_reviews(db, action.la_id, monday + timedelta(days=7), []) == 1
    db.commit()
    reviews = db.exec(select(ActionReview).order_by(ActionReview.review_date)).all()
    assert [(row.review_date, row.status, row.rag) for row in reviews] == [
        (monday, "proposed", "amber"), (monday + timedelta(days=7), "closed", "green")]


def test_the_weekly_summary_goes_to_coordinators_once_a_week(app, db, world, weak_audit):
    proposed(app, db)
    now = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)  # a Monday
    assert "summary" not in actions_weekly_job(get_engine(app), app.config, now=now - timedelta(days=1)).summary  # Sunday
    first = actions_weekly_job(get_engine(app), app.config, now=now)
    assert "summary 1" in first.summary
    again = actions_weekly_job(get_engine(app), app.config, now=now)
    assert "summary" not in again.summary
    [email] = messages(db, "action_summary")
    assert json.loads(email.recipients) == [world.user("coordinator").email]
    assert "Proposed, waiting for an owner: 1" in email.body_text


def test_a_theme_becomes_one_action_for_the_whole_service(app, db, world, weak_audit):
    cycle = _cycle(db, db.get(Assignment, weak_audit.assignment_id))
    themes = service.cycle_themes(db, cycle)  # one audited plan: everything it missed is 100%
    assert themes and all(theme.plans == 1 and theme.audited == 1 for theme in themes)
    action = service.raise_theme_action(db, cycle, themes[0].criterion_id, "training", world.user("coordinator"))
    assert (action.plan_id, action.action_type, action.cycle_id) == (None, ActionType.TRAINING, cycle.id)
    assert "missed in 1 of 1 plans" in action.summary
    with pytest.raises(service.ActionError, match="process or template change, or training"):
        service.raise_theme_action(db, cycle, themes[0].criterion_id, "reaudit", world.user("coordinator"))


def test_the_board_counts_and_shows_grade_changes(app, db, world, weak_audit):
    action = proposed(app, db)
    action.grade_after, action.status, action.closed_at = "good", ActionStatus.CLOSED, datetime.now(timezone.utc)
    db.add(action)
    board = service.board_for(db, action.la_id)
    assert [(row.label, row.counts["closed"]) for row in board.by_type] == [("Amend and re-audit", 1)]
    assert [row.action.id for row in board.grade_changes] == [action.id]
