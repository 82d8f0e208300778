"""The staff side: a cycle's feedback settings and contacts, results, the status command, and
answering with a family on the phone (coordinators and forum volunteers)."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

from sqlmodel import select

from audit_workflow.clock import utcnow
from audit_workflow.feedback import service
from audit_workflow.feedback.models import FeedbackContact, FeedbackResponse
from audit_workflow.feedback.rules import FeedbackSettings
from tests.conftest import csrf_token
from tests.feedback.helpers import feedback_cycle, invitation_with_link, sampled_plan

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_a_coordinator_chooses_who_to_ask_and_adds_a_contact(sign_in_as, db, world):
    cycle = feedback_cycle(db, world.las["own"])
    sampled_plan(db, cycle, world.las["own"], "FB-0001")
    db.commit()
    client = sign_in_as("coordinator")
    page = f"/cycles/{cycle.id}/feedback"

    saved = client.post(f"{page}/settings", data={"respondent_types": ["parent_carer", "setting"], "invite_after_days": "3",
                                                  "remind_after_days": "5", "open_days": "21", "csrf_token": csrf_token(client, page)})
    added = client.post(f"{page}/contacts", data={"system_id": "FB-0001", "respondent_type": "setting",
                                                  "email": "SENCO@School.example", "mobile": "", "csrf_token": csrf_token(client, page)})

    assert saved.status_code == 302 and added.status_code == 302
    db.expire_all()
    assert service.cycle_settings(cycle) == FeedbackSettings(("parent_carer", "setting"), 3, 5, 21)
    assert db.exec(select(FeedbackContact.email)).all() == ["senco@school.example"]
    assert "Schools and settings" in client.get(page).get_data(as_text=True)


def test_a_contact_for_a_type_the_cycle_does_not_ask_is_refused_on_the_field(sign_in_as, db, world):
    cycle = feedback_cycle(db, world.las["own"], feedback_settings=FeedbackSettings(("parent_carer",)).to_json())
    sampled_plan(db, cycle, world.las["own"], "FB-0001")
    db.commit()
    client = sign_in_as("coordinator")
    page = f"/cycles/{cycle.id}/feedback"

    response = client.post(f"{page}/contacts", data={"system_id": "FB-0001", "respondent_type": "setting",
                                                     "email": "senco@school.example", "csrf_token": csrf_token(client, page)})

    assert response.status_code == 400
    assert "This cycle does not ask schools and settings" in response.get_data(as_text=True)


def test_contacts_upload_and_a_bad_file_is_explained(sign_in_as, db, world):
    cycle = feedback_cycle(db, world.las["own"])
    sampled_plan(db, cycle, world.las["own"], "FB-0001")
    db.commit()
    client = sign_in_as("coordinator")
    page = f"/cycles/{cycle.id}/feedback"

    def upload(text: str):
        return client.post(f"{page}/contacts/upload", data={"csrf_token": csrf_token(client, page),
                                                            "file": (io.BytesIO(text.encode()), "contacts.csv")},
                           content_type="multipart/form-data")

    bad = upload("system_id,respondent_type,email\nFB-0001,parent_carer,not-an-email\n")
    good = upload("system_id,respondent_type,email,mobile\nFB-0001,parent_carer,family@example.org,07700 900123\n")

    assert bad.status_code == 400 and "Line 2: enter an email address" in bad.get_data(as_text=True)
    assert good.status_code == 302
    db.expire_all()
    assert db.exec(select(FeedbackContact.mobile)).all() == ["07700900123"]


def _answered(db, cycle, plan, number: int, answer: str, comment: str | None = None):
    invitation, _token = invitation_with_link(db, cycle, plan, email=f"family{number}@example.org")
    _visit_token, visit = service.start_visit(db, invitation, "answer", utcnow())
    questionnaire = service.describe_visit(db, visit).questionnaire
    for question in questionnaire.questions:
        service.save_answer(db, visit, question.id, answer)
    if comment:
        service.save_comment(db, visit, comment)
    return service.submit(db, visit, utcnow())


def test_results_show_rates_counts_and_comments_to_managers_and_the_status_command_prints_json(
        sign_in_as, db, world, runner):
    la = world.las["own"]
    cycle = feedback_cycle(db, la)
    plan = sampled_plan(db, cycle, la, "FB-0001")
    for number in range(6):
        _answered(db, cycle, plan, number, "agree" if number < 4 else "disagree", comment="Clear and useful" if number == 0 else None)
    invitation_with_link(db, cycle, plan, email="silent@example.org")
    invitation_with_link(db, cycle, plan, respondent_type="setting", email="school@example.org")
    db.commit()

    page = sign_in_as("manager").get(f"/cycles/{cycle.id}/feedback/results").get_data(as_text=True)
    assert "85.7%" in page  # 6 of 7 parents and carers
    assert "4 (67%)" in page and "2 (33%)" in page
    assert "Clear and useful" in page

    result = runner.invoke(args=["feedback", "status", str(cycle.id), "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["invited"] == {"parent_carer": 7, "young_person": 0, "setting": 1}
    assert status["answered"] == {"parent_carer": 6, "young_person": 0, "setting": 0}
    assert status["rate"] == {"parent_carer": 0.857, "young_person": None, "setting": 0.0}
    assert status["questions"][0]["counts"]["agree"] == 4
    assert "Clear and useful" not in result.output


def test_the_status_command_explains_a_bad_cycle_id(runner):
    result = runner.invoke(args=["feedback", "status", "not-a-cycle"])
    assert result.exit_code == 1 and "is not a cycle id" in result.output


def test_a_forum_volunteer_enters_answers_from_a_phone_call_marked_as_helped(sign_in_as, db, world):
    la = world.las["own"]
    cycle = feedback_cycle(db, la)
    plan = sampled_plan(db, cycle, la, "FB-0001")
    invitation, _token = invitation_with_link(db, cycle, plan)
    db.commit()
    client = sign_in_as("volunteer")

    listing = client.get("/feedback/help").get_data(as_text=True)
    assert service.reference(invitation.id) in listing
    started = client.post(f"/feedback/help/{invitation.id}", data={"csrf_token": CSRF.search(listing).group(1)})
    assert started.headers["Location"].endswith("/feedback")
    assert "answers given on the phone" in client.get("/feedback").get_data(as_text=True)
    for number in range(1, 7):
        page = client.get(f"/feedback/question/{number}").get_data(as_text=True)
        client.post(f"/feedback/question/{number}", data={"answer": "agree", "csrf_token": CSRF.search(page).group(1)})
    check = client.get("/feedback/check").get_data(as_text=True)
    client.post("/feedback/check", data={"csrf_token": CSRF.search(check).group(1)})

    db.expire_all()
    assert db.exec(select(FeedbackResponse)).one().answered_with_help
    assert client.get("/cycles").status_code == 403  # and nothing else


def test_the_purge_job_appears_on_the_admin_scheduler_page(app, sign_in_as, db, world):
    from audit_workflow.db import get_engine
    from audit_workflow.scheduler.jobs import run_and_record

    run_and_record(get_engine(app), app.config, "feedback_purge", "test")
    page = sign_in_as("admin").get("/admin/scheduler").get_data(as_text=True)
    assert "feedback_purge" in page and "Deleted 0 feedback contacts" in page


def test_invitation_timing_follows_the_settings(db, world):
    la = world.las["own"]
    cycle = feedback_cycle(db, la)
    now = utcnow()
    sampled_plan(db, cycle, la, "FB-0001", auditor=world.user("auditor"), submitted_at=now - timedelta(days=2))
    service.add_contact(db, cycle, "FB-0001", "parent_carer", "family@example.org", None, None)
    mail = service.mail_settings({"BASE_URL": "https://audit.example", "SERVICE_NAME": "EHCP audit"})
    assert service.send_due_invitations(db, mail, now)["invitations"] == 0

    service.save_settings(db, cycle, FeedbackSettings(("parent_carer",), invite_after_days=2))
    assert service.send_due_invitations(db, mail, now)["invitations"] == 1
