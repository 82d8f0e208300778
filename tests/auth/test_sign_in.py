"""Local sign-in and sessions: docs/checks.md#check-14 and docs/checks.md#check-16 (ASVS 7.2-7.4)."""

from datetime import timedelta

import time_machine
from sqlmodel import select

from audit_workflow.auth.service import set_active
from audit_workflow.auth.models import UserSession
from audit_workflow.clock import utcnow
from tests.conftest import TEST_PASSWORD, csrf_token, sign_in


def test_sign_in_with_a_local_account_reaches_the_home_page(client, world):
    sign_in(client, world.user("coordinator"))
    page = client.get("/")
    assert page.status_code == 200
    assert "Kent" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_the_same_message_as_an_unknown_email(client, world):
    token = csrf_token(client)
    wrong = client.post("/sign-in", data={"email": world.user("auditor").email, "password": "nope", "csrf_token": token})
    unknown = client.post("/sign-in", data={"email": "nobody@example.gov.uk", "password": "nope", "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "Enter a correct email address and password" in wrong.get_data(as_text=True)
    assert "Enter a correct email address and password" in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_post_without_a_csrf_token_is_refused(client, world):
    response = client.post("/sign-in", data={"email": world.user("auditor").email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


def test_sign_out_without_a_csrf_token_is_refused(client, world):
    sign_in(client, world.user("auditor"))
    assert client.post("/sign-out").status_code == 400
    assert client.get("/").status_code == 200


def test_signing_in_again_starts_a_new_session_id(client, world, db):
    sign_in(client, world.user("auditor"))
    first = client.get_cookie("session").value
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, world.user("auditor"))
    assert client.get_cookie("session").value != first
    sessions = db.exec(select(UserSession)).all()
    assert len(sessions) == 2
    assert [s.end_reason for s in sessions if s.ended_at] == ["signed_out"]


def test_replaying_the_cookie_after_sign_out_gets_401(client, world):
    sign_in(client, world.user("coordinator"))
    stolen = client.get_cookie("session").value
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    client.set_cookie("session", stolen)
    assert client.get("/").status_code == 401


def test_idle_timeout_ends_the_session(client, world):
    sign_in(client, world.user("manager"))
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        assert client.get("/").status_code == 401
    assert client.get("/").status_code == 302  # ended for good: back to sign in


def test_activity_keeps_the_session_alive_until_the_absolute_timeout(client, world):
    sign_in(client, world.user("manager"))
    start = utcnow()
    for minutes in range(25, 12 * 60, 25):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/").status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert client.get("/").status_code == 401


def test_disabling_a_user_ends_their_sessions(client, world, db):
    user = world.user("auditor")
    sign_in(client, user)
    set_active(db, db.merge(user), False)
    db.commit()
    assert client.get("/").status_code == 401


def test_sign_in_attempts_are_rate_limited(client, world, app):
    email = world.user("auditor").email
    token = csrf_token(client)
    for _ in range(app.config["SIGNIN_MAX_ATTEMPTS"]):
        assert client.post("/sign-in", data={"email": email, "password": "wrong", "csrf_token": token}).status_code == 401
    blocked = client.post("/sign-in", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.get_data(as_text=True)


def test_after_sign_in_the_user_returns_only_to_a_page_on_this_site(client, world):
    token = csrf_token(client)
    data = {"email": world.user("auditor").email, "password": TEST_PASSWORD, "csrf_token": token}
    response = client.post("/sign-in?next=https://evil.example/steal", data=data)
    assert response.headers["Location"] == "/"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    response = client.post("/sign-in?next=/privacy", data={**data, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/privacy"


def test_a_signed_out_visitor_is_sent_to_sign_in(client, world):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
