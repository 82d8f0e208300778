"""The action pages as coordinators and managers use them: every change redirects, or re-renders
with the reason and a 400; managers read the same pages without the controls."""

from __future__ import annotations

import pytest
from sqlmodel import select

from audit_workflow.actions.jobs import actions_propose_job
from audit_workflow.actions.kinds import ActionStatus
from audit_workflow.actions.models import Action, ActionSettings
from audit_workflow.cycles.models import Assignment, AssignmentKind
from audit_workflow.db import get_engine
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def action(app, db, weak_audit) -> Action:
    actions_propose_job(get_engine(app), app.config)
    db.expire_all()
    return db.exec(select(Action)).one()


def post(client, path, data, form_page):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_page)})


def fresh(db):
    """End the test's read, so that what the requests wrote since is seen."""
    db.commit()
    db.expire_all()
    return db


def test_the_coordinator_assigns_and_closes_an_action(client, db, world, action):
    sign_in(client, world.user("coordinator"))
    page = client.get("/actions").get_data(as_text=True)
    assert "NM-100123" in page and "Proposed" in page
    show = f"/actions/{action.id}"
    response = post(client, f"{show}/assign", {"owner": str(world.user("manager").id), "team": "Team North"}, show)
    assert response.status_code == 302
    page = client.get(show).get_data(as_text=True)
    assert "Assigned to Manager Kent, Team North" in page
    assert "The plan has been amended" in page  # a re-audit action


def test_the_action_page_links_to_the_plans_record(client, db, world, action):
    sign_in(client, world.user("coordinator"))
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert f'<a class="govuk-link" href="/plans/{action.plan_id}/record">NM-100123’s record</a>' in page
    assert "&lt;a" not in page


def test_refusals_are_shown_on_the_form_with_a_400(client, db, world, action):
    sign_in(client, world.user("coordinator"))
    show = f"/actions/{action.id}"
    response = post(client, f"{show}/assign", {"owner": "", "team": ""}, show)
    assert response.status_code == 400
    assert "Choose an owner, or enter the team" in response.get_data(as_text=True)
    response = post(client, f"{show}/close", {"note": "Amended; DOB 01/02/2015 corrected"}, show)
    assert response.status_code == 400
    assert "This service must not hold a child" in response.get_data(as_text=True)
    response = post(client, f"{show}/amended", {"auditor": str(world.user("auditor").id)}, show)
    assert response.status_code == 400  # proposed, not yet assigned; and the first auditor is not a choice
    assert fresh(db).get(Action, action.id).status == ActionStatus.PROPOSED


def test_marking_the_plan_amended_allocates_the_re_audit(client, db, world, action, second_auditor):
    sign_in(client, world.user("coordinator"))
    show = f"/actions/{action.id}"
    post(client, f"{show}/assign", {"owner": str(world.user("coordinator").id), "team": ""}, show)
    response = post(client, f"{show}/amended", {"auditor": str(second_auditor.id)}, show)
    assert response.status_code == 302
    reaudit = fresh(db).exec(select(Assignment).where(Assignment.kind == AssignmentKind.REAUDIT)).one()
    assert reaudit.auditor_id == second_auditor.id
    record = client.get(f"/plans/{reaudit.plan_id}/record").get_data(as_text=True)
    assert "First audit" in record and "Re-audit" in record and "Plan amended; re-audit allocated to Second Auditor" in record
    side_by_side = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "The audit that raised it" in side_by_side and "Inadequate" in side_by_side


def test_a_new_action_edit_and_settings(client, db, world, action):
    sign_in(client, world.user("coordinator"))
    response = post(client, "/actions/new", {"action_type": "amend_plan", "summary": "Rewrite outcomes", "system_id": "NOPE"},
                    "/actions/new")
    assert response.status_code == 400 and "There is no plan with System ID NOPE" in response.get_data(as_text=True)
    response = post(client, "/actions/new", {"action_type": "training", "summary": "Outcomes training for writers", "system_id": ""},
                    "/actions/new")
    assert response.status_code == 302
    new = fresh(db).exec(select(Action).where(Action.action_type == "training")).one()
    edit = f"/actions/{new.id}/edit"
    response = post(client, edit, {"action_type": "training", "summary": "Outcomes training, both teams",
                                   "due_date": ["1", "2", "2027"]}, edit)
    assert response.status_code == 302
    assert (fresh(db).get(Action, new.id).summary, str(db.get(Action, new.id).due_date)) == ("Outcomes training, both teams", "2027-02-01")
    response = post(client, "/actions/settings", {"due_working_days": "0", "remind_days_before": "3", "overdue_interval_days": "5",
                                                  "theme_percent": "30"}, "/actions/settings")
    assert response.status_code == 400 and "between 1 and 200 working days" in response.get_data(as_text=True)
    response = post(client, "/actions/settings", {"due_working_days": "10", "remind_days_before": "2", "overdue_interval_days": "4",
                                                  "theme_percent": "25"}, "/actions/settings")
    assert response.status_code == 302
    settings = fresh(db).exec(select(ActionSettings)).one()
    assert (settings.due_working_days, settings.theme_share) == (10, 0.25)


def test_managers_read_the_board_themes_record_and_export_without_controls(client, db, world, action):
    sign_in(client, world.user("manager"))
    show = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "Close the action" not in show and "NM-100123" in show
    assert "Amend and re-audit" in client.get("/actions/board").get_data(as_text=True)
    themes = client.get("/actions/themes").get_data(as_text=True)
    assert "of 1" in themes and "Raise an action" not in themes
    export = client.get("/actions/export.csv")
    assert export.mimetype == "text/csv" and "NM-100123,Amend and re-audit,proposed" in export.get_data(as_text=True)
    found = client.get("/plans/record?system_id=NM-100123")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/plans/{action.plan_id}/record")
    assert client.get("/plans/record?system_id=NOPE").status_code == 302
    assert client.get("/").status_code == 200


def test_the_coordinator_raises_a_theme_for_the_whole_service(client, db, world, action):
    sign_in(client, world.user("coordinator"))
    cycle_id = action.cycle_id
    response = post(client, f"/cycles/{cycle_id}/themes", {"criterion": "F-G-01", "action_type": "process_change"}, "/actions/themes")
    assert response.status_code == 302
    assert fresh(db).exec(select(Action).where(Action.plan_id.is_(None))).one().action_type == "process_change"
    response = post(client, f"/cycles/{cycle_id}/themes", {"criterion": "NOT-A-THEME", "action_type": "training"}, "/actions/themes")
    assert response.status_code == 400



def test_a_plans_record_shows_the_agreed_grade_and_who_answered_feedback_but_keeps_moderation_blind(
        client, db, world, action):
    from datetime import datetime, timezone

    from audit_workflow.audits.models import Audit
    from audit_workflow.cycles.models import AuditCycle
    from audit_workflow.feedback import service as feedback
    from audit_workflow.feedback.models import FeedbackInvitation, FeedbackResponse
    from audit_workflow.moderation.models import AgreedGrade
    from audit_workflow.plans.models import Plan
    from tests.factories import make_assignment

    first = db.get(Audit, action.audit_id)
    primary = db.get(Assignment, first.assignment_id)
    la_id, cycle_id, plan_id = primary.la_id, primary.cycle_id, primary.plan_id
    db.add(AgreedGrade(la_id=la_id, audit_id=first.id, section_code="overall", grade="requires_improvement"))
    invitation = FeedbackInvitation(la_id=la_id, cycle_id=cycle_id, plan_id=plan_id, respondent_type="parent_carer",
                                    closes_at=datetime(2027, 1, 1, tzinfo=timezone.utc))
    db.add(invitation)
    db.flush()
    version = feedback.active_questionnaire(db, la_id, feedback.questionnaire_key("parent_carer"))
    db.add(FeedbackResponse(la_id=la_id, invitation_id=invitation.id, cycle_id=cycle_id, plan_id=plan_id,
                            respondent_type="parent_carer", questionnaire_version_id=version.id))
    db.commit()
    sign_in(client, world.user("coordinator"))
    page = client.get(f"/plans/{action.plan_id}/record").get_data(as_text=True)
    audits = page[page.index('data-testid="record-audits"'):page.index('data-testid="record-feedback"')]
    assert "Inadequate" in audits and "Requires improvement" in audits  # the agreed grade beside the auditor's
    feedback_rows = page[page.index('data-testid="record-feedback"'):]
    assert "Parent carer" in feedback_rows and feedback_rows.count(">1<") == 2  # asked once, answered once

    # A coordinator who holds the plan's moderation, not yet submitted, sees no grade of the first audit.
    fresh(db)
    make_assignment(db, db.get(AuditCycle, cycle_id), db.get(Plan, plan_id), world.user("coordinator"),
                    kind=AssignmentKind.MODERATION)
    db.commit()
    page = client.get(f"/plans/{action.plan_id}/record").get_data(as_text=True)
    audits = page[page.index('data-testid="record-audits"'):page.index('data-testid="record-feedback"')]
    assert "blind moderation" in audits and "Inadequate" not in audits
