"""The questionnaire a family opens from its link: token swap, one question per page, check
answers, submit once, friendly 410s, rate limits and headers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from audit_workflow.feedback.models import FeedbackAnswer, FeedbackInvitation, FeedbackResponse, FeedbackVisit
from audit_workflow.feedback.rules import FAILED_PER_ADDRESS, PER_TOKEN, token_hash
from tests.conftest import sign_in
from tests.feedback.helpers import feedback_cycle, invitation_with_link, sampled_plan

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _csrf(page: str) -> str:
    return CSRF.search(page).group(1)


def _setup(db, world, **kwargs):
    la = world.las["own"]
    cycle = feedback_cycle(db, la)
    plan = sampled_plan(db, cycle, la)
    invitation, token = invitation_with_link(db, cycle, plan, **kwargs)
    db.commit()
    return invitation, token


def _answer_everything(client, answer="agree", comment="The plan was clear."):
    page = client.get("/feedback/question/1").get_data(as_text=True)
    number = 1
    while True:
        response = client.post(f"/feedback/question/{number}", data={"answer": answer, "csrf_token": _csrf(page)})
        assert response.status_code == 302
        if "/comment" in response.headers["Location"]:
            break
        number += 1
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    page = client.get("/feedback/comment").get_data(as_text=True)
    response = client.post("/feedback/comment", data={"comment": comment, "csrf_token": _csrf(page)})
    assert response.headers["Location"].endswith("/feedback/check")
    return number


def test_the_link_is_swapped_for_a_visit_and_the_token_leaves_the_address(client, db, world):
    _invitation, token = _setup(db, world)

    response = client.get(f"/feedback/start/{token}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/feedback")
    assert token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    page = client.get("/feedback")
    assert page.status_code == 200
    assert "Your views on your child" in page.get_data(as_text=True)
    assert token not in page.get_data(as_text=True)
    visits = db.exec(select(FeedbackVisit)).all()
    assert len(visits) == 1 and visits[0].token_hash != token_hash(token)


def test_a_family_answers_every_question_checks_and_sends_once(client, db, world):
    invitation, token = _setup(db, world)
    client.get(f"/feedback/start/{token}")

    questions = _answer_everything(client)
    check = client.get("/feedback/check").get_data(as_text=True)
    assert check.count(">Change<") == questions + 1
    assert "The plan was clear." in check
    sent = client.post("/feedback/check", data={"csrf_token": _csrf(check)})
    assert sent.headers["Location"].endswith("/feedback/done")
    assert "Answers sent" in client.get("/feedback/done").get_data(as_text=True)

    db.expire_all()
    response = db.exec(select(FeedbackResponse)).one()
    assert response.invitation_id == invitation.id and not response.answered_with_help
    assert {a.answer for a in db.exec(select(FeedbackAnswer)).all()} == {"agree"}
    assert len(db.exec(select(FeedbackAnswer)).all()) == questions

    again = client.get(f"/feedback/start/{token}")
    assert again.status_code == 410
    assert "You have already answered" in again.get_data(as_text=True)


def test_a_second_submission_from_another_tab_gets_410_and_the_first_answer_stays(app, db, world):
    _invitation, token = _setup(db, world)
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        client.get(f"/feedback/start/{token}")
    _answer_everything(first, answer="agree")
    _answer_everything(second, answer="disagree")
    second_page = second.get("/feedback/check").get_data(as_text=True)
    first.post("/feedback/check", data={"csrf_token": _csrf(first.get("/feedback/check").get_data(as_text=True))})

    late = second.post("/feedback/check", data={"csrf_token": _csrf(second_page)})

    assert late.status_code == 410
    db.expire_all()
    assert {a.answer for a in db.exec(select(FeedbackAnswer)).all()} == {"agree"}


def test_change_links_return_to_check_answers(client, db, world):
    _invitation, token = _setup(db, world)
    client.get(f"/feedback/start/{token}")
    _answer_everything(client)
    page = client.get("/feedback/question/2?change=1").get_data(as_text=True)

    response = client.post("/feedback/question/2?change=1", data={"answer": "dont_know", "csrf_token": _csrf(page)})

    assert response.headers["Location"].endswith("/feedback/check")
    assert "Don&#39;t know" in client.get("/feedback/check").get_data(as_text=True)


def test_no_answer_chosen_gets_an_error_not_a_crash(client, db, world):
    _invitation, token = _setup(db, world)
    client.get(f"/feedback/start/{token}")
    page = client.get("/feedback/question/1").get_data(as_text=True)

    response = client.post("/feedback/question/1", data={"csrf_token": _csrf(page)})

    assert response.status_code == 400
    assert "Choose one of the answers" in response.get_data(as_text=True)


def test_each_family_sees_its_own_answer_chosen_and_its_own_error(app, db, world):
    """A question's radios are rendered once per questionnaire version and chosen answer: one
    family's answer or error never shows on another's page."""
    invitation, token = _setup(db, world)
    la = world.las["own"]
    from audit_workflow.cycles.models import AuditCycle
    cycle = db.get(AuditCycle, invitation.cycle_id)
    _other, other_token = invitation_with_link(db, cycle, sampled_plan(db, cycle, la, "FB-0002"), email="another@example.org")
    db.commit()
    first, second = app.test_client(), app.test_client()
    first.get(f"/feedback/start/{token}")
    second.get(f"/feedback/start/{other_token}")
    page = first.get("/feedback/question/1").get_data(as_text=True)
    first.post("/feedback/question/1", data={"answer": "disagree", "csrf_token": _csrf(page)})

    again = first.get("/feedback/question/1").get_data(as_text=True)
    others = second.get("/feedback/question/1").get_data(as_text=True)
    refused = second.post("/feedback/question/1", data={"csrf_token": _csrf(others)})

    assert re.search(r'value="disagree"\s+checked', again)
    assert " checked" not in others and "Choose one of the answers" not in others
    assert refused.status_code == 400 and "Choose one of the answers" in refused.get_data(as_text=True)
    assert "Choose one of the answers" not in first.get("/feedback/question/1").get_data(as_text=True)


def test_a_comment_with_personal_details_is_refused_on_the_field(client, db, world):
    _invitation, token = _setup(db, world)
    client.get(f"/feedback/start/{token}")
    page = client.get("/feedback/comment").get_data(as_text=True)

    response = client.post("/feedback/comment", data={"comment": "My son, date of birth 3/4/2015, lives at SW1A 1AA",
                                                      "csrf_token": _csrf(page)})

    assert response.status_code == 400
    assert "Take out" in response.get_data(as_text=True)
    assert "SW1A" not in db.exec(select(FeedbackVisit)).one().draft


def test_expired_and_opted_out_links_get_friendly_410_pages(client, db, world):
    past = datetime.now(timezone.utc) - timedelta(days=40)
    _invitation, token = _setup(db, world, invited_at=past, closes_at=past + timedelta(days=28))

    response = client.get(f"/feedback/start/{token}")

    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_opting_out_stops_the_link(client, db, world):
    invitation, token = _setup(db, world)
    client.get(f"/feedback/start/{token}")
    page = client.get("/feedback/opt-out").get_data(as_text=True)

    client.post("/feedback/opt-out", data={"csrf_token": _csrf(page)})

    db.expire_all()
    assert db.get(FeedbackInvitation, invitation.id).opted_out_at is not None
    assert client.get(f"/feedback/start/{token}").status_code == 410


def test_pages_without_a_visit_say_what_to_do(client, db, world):
    response = client.get("/feedback/question/1")
    assert response.status_code == 410
    assert "Open the link in your email again" in response.get_data(as_text=True)


def test_an_unknown_token_is_404_and_guessing_is_limited_per_address(client, db, world):
    statuses = [client.get(f"/feedback/start/guess{n}").status_code for n in range(FAILED_PER_ADDRESS.requests + 2)]
    assert statuses[0] == 404
    assert statuses[-1] == 429


def test_one_link_opened_too_often_is_limited_but_another_family_on_the_same_address_is_not(client, db, world):
    _invitation, token = _setup(db, world)
    statuses = [client.get(f"/feedback/start/{token}").status_code for _ in range(PER_TOKEN.requests + 1)]
    assert statuses[-1] == 429

    la = world.las["own"]
    cycle = db.exec(select(FeedbackInvitation)).first().cycle_id
    from audit_workflow.cycles.models import AuditCycle
    _other, other_token = invitation_with_link(db, db.get(AuditCycle, cycle), sampled_plan(db, db.get(AuditCycle, cycle), la, "FB-0002"),
                                               email="another@example.org")
    db.commit()
    assert client.get(f"/feedback/start/{other_token}").status_code == 302


def test_public_pages_show_no_staff_navigation_even_to_signed_in_staff(client, db, world):
    _invitation, token = _setup(db, world)
    sign_in(client, world.user("coordinator"))
    client.get(f"/feedback/start/{token}")

    page = client.get("/feedback").get_data(as_text=True)

    assert "Sign out" not in page and "Family feedback</a>" not in page
    assert "govuk-service-navigation__list" not in page


def test_the_easy_read_version_asks_the_same_questions(client, db, world):
    _invitation, token = _setup(db, world, respondent_type="young_person")
    client.get(f"/feedback/start/{token}")
    page = client.get("/feedback").get_data(as_text=True)
    assert "Use the easy-read version" in page

    client.post("/feedback/easy-read", data={"easy_read": "yes", "csrf_token": _csrf(page)})

    assert "What do you think of your plan?" in client.get("/feedback").get_data(as_text=True)
    assert "People asked what you think." in client.get("/feedback/question/2").get_data(as_text=True)
