"""The admin pages: the outbox (status, attempts, last error, send again, cancel), the development
mailbox with each email's rendered HTML, and the alerts coordinators and admins see."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import select

from audit_workflow.db import get_engine
from audit_workflow.notifications.catalogue import render_message, sample_context
from audit_workflow.notifications.dispatcher import dispatch_due
from audit_workflow.notifications.models import Alert, MessageStatus, OutboxMessage
from audit_workflow.notifications.outbox import queue_message
from tests.conftest import csrf_token, sign_in

AUDITOR = "auditor@886.example.gov.uk"


def _add(db, world, key: str, la: str | None = "own", kind: str = "reminder", **fields) -> OutboxMessage:
    message = OutboxMessage(
        la_id=world.las[la].id if la else None, idempotency_key=key, kind=kind, recipients=f'["{AUDITOR}"]',
        subject=f"Reminder {key}", body_html=f"<p>Body of {key}</p>", body_text=f"Body of {key}", **fields,
    )
    db.add(message)
    db.commit()
    return message


def _rows(page: str) -> list[str]:
    """The outbox table's rows, as the words a person reads."""
    body = page.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in body.split("</tr>")[:-1]]


def _post(client, path: str, page: str):
    return client.post(path, data={"csrf_token": csrf_token(client, page)})


# --- Outbox ----------------------------------------------------------------------------------------


def test_the_outbox_lists_status_attempts_last_error_and_the_action_each_allows(db, world, sign_in_as):
    _add(db, world, "k:refused", status="permanent_failure", attempts=1, last_error="Microsoft Graph answered 400 (ErrorInvalidRecipients)")
    _add(db, world, "k:retrying", status="retrying", attempts=3, last_error="Microsoft Graph answered 503")
    _add(db, world, "k:sent", status="sent", attempts=2)
    _add(db, world, "k:no-la", la=None, kind="test_message", status="sent", attempts=1)
    _add(db, world, "k:other-la", la="other", status="permanent_failure", last_error="Other LA's error")

    page = sign_in_as("admin").get("/outbox").get_data(as_text=True)

    rows = _rows(page)
    assert len(rows) == 4  # own LA's and those of no LA; never another LA's
    assert any("Refused 1 Microsoft Graph answered 400 (ErrorInvalidRecipients) Send again reminder email" in row for row in rows)
    assert any("Retrying 3 Microsoft Graph answered 503 Cancel reminder email" in row for row in rows)
    assert sum("Sent 2" in row and "Send again" not in row and "Cancel" not in row for row in rows) == 1
    assert "Other LA's error" not in page
    assert "All (4)" in page and "Refused (1)" in page and "Retrying (1)" in page and "Sent (2)" in page
    assert "Body of" not in page  # bodies are not for the outbox


def test_the_outbox_filters_by_status_and_ignores_nonsense(db, world, sign_in_as):
    _add(db, world, "k:refused", status="permanent_failure")
    _add(db, world, "k:sent", status="sent")
    client = sign_in_as("admin")

    refused = client.get("/outbox?status=permanent_failure").get_data(as_text=True)
    assert len(_rows(refused)) == 1 and "Refused emails, newest first" in refused
    for nonsense in ("?status=<script>", "?page=abc", "?page=-3", "?page=99999999999999999999999"):
        response = client.get(f"/outbox{nonsense}")
        assert response.status_code == 200, nonsense
    assert "There are no emails." in client.get("/outbox?page=99999999999999999999999").get_data(as_text=True)


def test_send_again_from_the_list_requeues_the_message_and_resolves_its_alert(db, world, sign_in_as):
    failed = _add(db, world, "k:1", status="technical_failure", attempts=9, last_error="not sent within 4 hours")
    db.add(Alert(la_id=failed.la_id, audience="coordinator", kind="message_failed", message="could not be sent",
                 outbox_message_id=failed.id))
    db.commit()
    client = sign_in_as("admin")

    response = _post(client, f"/outbox/{failed.id}/retry", "/outbox")

    assert response.status_code == 302 and response.location.endswith(f"/outbox/{failed.id}")
    db.refresh(failed)
    assert (failed.status, failed.requeued_at is not None) == ("queued", True)
    assert db.exec(select(Alert)).one().resolved_by_id == world.user("admin").id
    page = client.get(response.location).get_data(as_text=True)
    assert "The email will be sent again." in page and "Cancel this email" in page


def test_cancel_stops_a_waiting_message(db, world, sign_in_as):
    waiting = _add(db, world, "k:1", status="queued")
    client = sign_in_as("admin")
    assert _post(client, f"/outbox/{waiting.id}/cancel", f"/outbox/{waiting.id}").status_code == 302
    db.refresh(waiting)
    assert waiting.status == "cancelled"
    assert dispatch_due(get_engine(client.application), client.application.config) == {}


@pytest.mark.parametrize(("status", "action", "refusal"), [
    ("sent", "retry", "Only a failed message whose content has not yet been deleted can be sent again."),
    ("sending", "cancel", "Only a message that is waiting to be sent can be cancelled."),
])
def test_an_action_the_message_no_longer_allows_is_refused_with_a_reason(db, world, sign_in_as, status, action, refusal):
    """The page was loaded while the action was allowed; the dispatcher moved the message on since."""
    message = _add(db, world, "k:1", status="permanent_failure" if action == "retry" else "queued")
    client = sign_in_as("admin")
    token = csrf_token(client, f"/outbox/{message.id}")
    message.status = status
    db.add(message)
    db.commit()

    response = client.post(f"/outbox/{message.id}/{action}", data={"csrf_token": token})

    assert response.status_code == 409
    assert refusal in response.get_data(as_text=True)
    db.refresh(message)
    assert message.status == status


def test_another_las_message_is_not_found(db, world, sign_in_as):
    theirs = _add(db, world, "k:1", la="other", status="permanent_failure")
    client = sign_in_as("admin")
    token = csrf_token(client, "/outbox")
    assert client.get(f"/outbox/{theirs.id}").status_code == 404
    assert client.post(f"/outbox/{theirs.id}/retry", data={"csrf_token": token}).status_code == 404
    db.refresh(theirs)
    assert theirs.status == "permanent_failure"


def test_a_message_page_shows_its_history_but_not_its_body(db, world, sign_in_as):
    message = _add(db, world, "assignment:1:reminder:2026-12-01", status="retrying", attempts=2,
                   last_error="Microsoft Graph answered 429")
    page = sign_in_as("admin").get(f"/outbox/{message.id}").get_data(as_text=True)
    for shown in ("Retrying", AUDITOR, "Reminder assignment:1:reminder:2026-12-01", "Microsoft Graph answered 429",
                  "assignment:1:reminder:2026-12-01"):
        assert shown in page
    assert "Body of" not in page


# --- Development mailbox -------------------------------------------------------------------------


def test_the_development_mailbox_shows_what_was_sent_with_its_rendered_html(app, db, world, sign_in_as):
    app.config["DEMO_MODE"] = True
    context = sample_context("assignment")
    queue_message(db, kind="assignment", to=[AUDITOR], context=context, key="allocation:1", la_id=world.las["own"].id)
    db.commit()
    assert dispatch_due(get_engine(app), app.config) == {"sent": 1}
    sent = db.exec(select(OutboxMessage)).one()
    rendered = render_message("assignment", context)
    client = sign_in_as("admin")

    mailbox = client.get("/dev/mailbox").get_data(as_text=True)
    assert AUDITOR in mailbox and html.escape(rendered.subject) in mailbox

    page = client.get(f"/dev/mailbox/{sent.id}").get_data(as_text=True)
    frame = re.search(r'<iframe[^>]* sandbox srcdoc="([^"]*)"', page)
    assert frame and html.unescape(frame[1]) == rendered.html  # the HTML as sent, sandboxed
    assert html.unescape(re.search(r'<pre class="govuk-body">(.*?)</pre>', page, re.DOTALL)[1]) == rendered.text
    assert "Read it in the development mailbox" in client.get(f"/outbox/{sent.id}").get_data(as_text=True)


def test_only_devmail_messages_still_kept_are_in_the_development_mailbox(app, db, world, sign_in_as):
    app.config["DEMO_MODE"] = True
    through_smtp = _add(db, world, "k:smtp", status="sent", provider_id="<abc@council.example.gov.uk>")
    purged = _add(db, world, "k:purged", status="sent", provider_id="devmail:k:purged")
    purged.purged_at = purged.created_at
    db.add(purged)
    db.commit()
    client = sign_in_as("admin")

    assert "The development mailbox is empty." in client.get("/dev/mailbox").get_data(as_text=True)
    assert client.get(f"/dev/mailbox/{through_smtp.id}").status_code == 404
    assert client.get(f"/dev/mailbox/{purged.id}").status_code == 404


# --- Alerts ------------------------------------------------------------------------------------------


def _alert(db, world, message: str, audience: str = "coordinator", la: str | None = "own") -> Alert:
    alert = Alert(la_id=world.las[la].id if la else None, audience=audience, kind="message_failed", message=message)
    db.add(alert)
    db.commit()
    return alert


def test_coordinators_see_their_las_failures_and_admins_also_blocked_and_no_la_ones(app, db, world, sign_in_as):
    _alert(db, world, "Coordinator alert, own LA")
    _alert(db, world, "Admin alert, own LA", audience="admin")
    _alert(db, world, "Admin alert, no LA", audience="admin", la=None)
    _alert(db, world, "Coordinator alert, other LA", la="other")

    coordinator_page = sign_in_as("coordinator").get("/alerts").get_data(as_text=True)
    assert "Coordinator alert, own LA" in coordinator_page
    assert "Admin alert" not in coordinator_page and "other LA" not in coordinator_page

    admin = app.test_client()
    sign_in(admin, world.user("admin"))
    admin_page = admin.get("/alerts").get_data(as_text=True)
    assert all(text in admin_page for text in ("Coordinator alert, own LA", "Admin alert, own LA", "Admin alert, no LA"))
    assert "other LA" not in admin_page


def test_resolving_an_alert_moves_it_to_resolved(db, world, sign_in_as):
    alert = _alert(db, world, "The reminder email to the auditor was refused")
    client = sign_in_as("coordinator")

    response = _post(client, f"/alerts/{alert.id}/resolve", "/alerts")

    assert response.status_code == 302
    page = client.get("/alerts").get_data(as_text=True)
    assert "There are no open alerts." in page and "Resolved recently" in page and "Alert marked as resolved." in page
    db.refresh(alert)
    assert alert.resolved_by_id == world.user("coordinator").id


def test_a_coordinator_cannot_resolve_an_admin_alert(db, world, sign_in_as):
    alert = _alert(db, world, "blocked", audience="admin")
    client = sign_in_as("coordinator")
    assert client.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": csrf_token(client, "/alerts")}).status_code == 404
    db.refresh(alert)
    assert alert.resolved_at is None


def test_the_health_check_counts_waiting_and_failed_mail(app, db, world, client):
    app.config["DEMO_MODE"] = True  # where the development mailbox is no warning
    _add(db, world, "k:queued", status="queued")
    _add(db, world, "k:retrying", status="retrying")
    _add(db, world, "k:sending", status="sending")
    failed = _add(db, world, "k:failed", status="permanent_failure")
    failed.failed_at = failed.created_at
    db.add(failed)
    db.commit()
    assert client.get("/healthz").get_json()["mail"] == {"status": "ok", "transport": "devmail", "queued": 1, "retrying": 1,
                                                        "sending": 1, "failed_last_24h": 1}


def test_status_tags_cover_every_status():
    from audit_workflow.web.filters import STATUS_TAGS

    assert set(MessageStatus) <= set(STATUS_TAGS)


def test_the_outbox_counts_messages_being_sent(db, world, sign_in_as):
    _add(db, world, "k:sending", status="sending")
    db.commit()
    assert "Sending (1)" in sign_in_as("admin").get("/outbox").get_data(as_text=True)


@pytest.mark.parametrize(("demo_mode", "warned"), [(False, True), (True, False)])
def test_the_outbox_and_scheduler_pages_warn_that_devmail_outside_demo_mode_delivers_nothing(app, sign_in_as, demo_mode,
                                                                                            warned):
    app.config["DEMO_MODE"] = demo_mode
    admin = sign_in_as("admin")
    for path in ("/outbox", "/admin/scheduler"):
        assert ("Mail is not being delivered" in admin.get(path).get_data(as_text=True)) is warned, path


def test_the_development_mailbox_is_closed_outside_demo_mode(app, db, world, sign_in_as):
    delivered = _add(db, world, "k:devmail", status="sent", provider_id="devmail:k:devmail")
    db.commit()
    admin = sign_in_as("admin")
    for path in ("/dev/mailbox", f"/dev/mailbox/{delivered.id}"):
        response = admin.get(path)
        page = response.get_data(as_text=True)
        assert "only open in demo mode" in page and "Reminder k:devmail" not in page and "Body of" not in page
    assert "Read it in the development mailbox" not in admin.get(f"/outbox/{delivered.id}").get_data(as_text=True)


def test_a_blocked_email_is_shown_to_the_las_coordinators_on_their_home_and_alerts_pages(app, db, world, sign_in_as):
    context = sample_context("assignment")
    context["recipient"]["display_name"] = "Priya Shah re child DOB 03/04/2015"
    queue_message(db, kind="assignment", to=[AUDITOR], context=context, key="k:blocked", la_id=world.las["own"].id)
    db.commit()

    coordinator = sign_in_as("coordinator")
    for path in ("/", "/alerts"):
        page = html.unescape(coordinator.get(path).get_data(as_text=True))
        assert "An assignment email to the auditor was blocked before sending" in page, path
    auditor = app.test_client()
    sign_in(auditor, world.user("auditor"))
    assert "was blocked" not in auditor.get("/").get_data(as_text=True)


def test_the_home_page_shows_the_newest_alerts_and_how_many_more(db, world, sign_in_as):
    for number in range(5):
        _alert(db, world, f"Coordinator alert {number}")
    page = sign_in_as("coordinator").get("/").get_data(as_text=True)
    assert "Emails that need your attention" in page and "and 2 more" in page
