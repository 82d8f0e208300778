"""/healthz: status for anyone; the details (host, pid, queue counts, lease holder) only for a
signed-in admin or a request from the server itself."""

import os
import time

import pytest
from sqlalchemy import create_engine

from audit_workflow.db import ENGINE_KEY
from audit_workflow.web.views import STARTED_KEY, STARTUP_GRACE_SECONDS

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}  # a documentation address: any client that is not the server


@pytest.fixture(autouse=True)
def demo_mode(app):
    """The tests send through the development mailbox: in demo mode that is no warning."""
    app.config["DEMO_MODE"] = True


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(app, client):
    app.extensions[ENGINE_KEY] = create_engine("sqlite:////nonexistent-dir/for/health.db")
    response = client.get("/healthz", environ_base=OUTSIDE)
    assert response.status_code == 503
    assert response.json == {"status": "down", "failing": ["database"]}


def test_the_public_answer_is_the_status_and_the_names_of_failing_checks_only(client):
    # No scheduler runs in the tests, so its check fails.
    response = client.get("/healthz", environ_base=OUTSIDE)
    assert response.status_code == 200
    assert response.json == {"status": "degraded", "failing": ["scheduler"]}


@pytest.mark.parametrize("who", ["loopback", "admin"])
def test_details_are_for_the_server_itself_and_signed_in_admins(client, sign_in_as, who):
    if who == "loopback":
        answer = client.get("/healthz", environ_base={"REMOTE_ADDR": "::1"}).json
    else:
        answer = sign_in_as("admin").get("/healthz", environ_base=OUTSIDE).json
    assert answer["status"] == "degraded" and answer["failing"] == ["scheduler"]
    assert answer["pid"] == os.getpid() and answer["host"]
    assert answer["mail"]["queued"] == 0 and "lease_holder" in answer["scheduler"]


@pytest.mark.parametrize("role", ["coordinator", "manager", "auditor"])
def test_other_signed_in_users_get_the_public_answer(sign_in_as, role):
    assert set(sign_in_as(role).get("/healthz", environ_base=OUTSIDE).json) == {"status", "failing"}


def test_no_alert_in_the_first_minute_after_an_embedded_scheduler_starts(app, client):
    app.config["SCHEDULER_EMBEDDED"] = True  # as `serve` runs it; nothing has had time to run yet
    answer = client.get("/healthz").json
    assert answer["status"] == "ok" and answer["scheduler"]["status"] == "starting"

    app.extensions[STARTED_KEY] = time.monotonic() - STARTUP_GRACE_SECONDS
    answer = client.get("/healthz").json
    assert answer["status"] == "degraded" and answer["scheduler"]["status"] == "alert"


def test_the_devmail_transport_outside_demo_mode_is_a_warning(app, client):
    app.config.update(MAIL_TRANSPORT="devmail", DEMO_MODE=False)
    answer = client.get("/healthz").json
    assert "mail" in answer["failing"]
    assert answer["mail"]["status"] == "warning"
    assert answer["mail"]["warning"].startswith("Mail is not being delivered")

    app.config["DEMO_MODE"] = True
    answer = client.get("/healthz").json
    assert "mail" not in answer["failing"] and answer["mail"]["status"] == "ok"
