"""`audit-workflow mail test --to ADDRESS` and `audit-workflow mail dispatch [--until-empty]`, through the
development mailbox and through a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from audit_workflow.clock import utcnow

from audit_workflow.notifications.catalogue import sample_context
from audit_workflow.notifications.models import Alert, OutboxMessage
from audit_workflow.notifications.outbox import queue_message
from tests.notifications.test_smtp_transport import Relay, smtp_server


class PickyRelay(Relay):
    """Refuses, for good, any address that starts with "refused"."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such user"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def relay(app):
    """A real SMTP server on 127.0.0.1 and the app configured to send through it, unthrottled."""
    picky = PickyRelay()
    with smtp_server(picky) as port:
        app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT_SECONDS=5,
                          MAIL_RATE_PER_MINUTE=600_000)
        yield picky


def _outbox(db) -> list[OutboxMessage]:
    db.expire_all()
    return db.exec(select(OutboxMessage).order_by(OutboxMessage.created_at)).all()


# --- mail test ---------------------------------------------------------------------------------------


def test_mail_test_through_the_development_mailbox(runner, db):
    result = runner.invoke(args=["mail", "test", "--to", "admin@council.example.gov.uk"])

    assert result.exit_code == 0, result.output
    [message] = _outbox(db)
    assert "Sending a test email through the development mailbox" in result.output
    assert f"Sent (provider reference devmail:{message.idempotency_key})." in result.output
    assert (message.kind, message.status, message.la_id) == ("test_message", "sent", None)


def test_mail_test_through_smtp_arrives_at_the_relay(runner, relay):
    result = runner.invoke(args=["mail", "test", "--to", "admin@council.example.gov.uk"])

    assert result.exit_code == 0, result.output
    assert f"Sending a test email through SMTP relay 127.0.0.1:{runner.app.config['SMTP_PORT']} (no TLS)" in result.output
    [(envelope, _)] = relay.received
    assert envelope.rcpt_tos == ["admin@council.example.gov.uk"]
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert f"Sent (provider reference {received['Message-ID']})." in result.output
    assert "through SMTP relay 127.0.0.1" in received.get_body(("plain",)).get_content()


def test_mail_test_reports_a_refusal_and_fails(runner, relay, db):
    result = runner.invoke(args=["mail", "test", "--to", "refused@council.example.gov.uk"])

    assert result.exit_code == 1
    assert "Not sent: permanent failure. the SMTP relay refused every recipient (replies 550)" in result.output
    assert relay.received == []
    assert [alert.audience for alert in db.exec(select(Alert)).all()] == ["admin"]


def test_mail_test_reports_a_relay_that_is_not_there(runner, app):
    app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_TIMEOUT_SECONDS=5)

    result = runner.invoke(args=["mail", "test", "--to", "admin@council.example.gov.uk"])

    assert result.exit_code == 1
    assert "Not sent: retrying. could not talk to the SMTP relay (ConnectionRefusedError)" in result.output
    assert "The dispatcher will try again; cancel it in the outbox if you do not want it." in result.output


@pytest.mark.parametrize("address", ["not-an-address", "@", "  "])
def test_mail_test_refuses_something_that_is_not_an_address(runner, db, address):
    result = runner.invoke(args=["mail", "test", "--to", address])
    assert result.exit_code == 2
    assert "enter an email address, like name@example.gov.uk" in result.output
    assert _outbox(db) == []


# --- mail dispatch -----------------------------------------------------------------------------------


def _queue(db, world, *addresses: str) -> None:
    for number, address in enumerate(addresses):
        queue_message(db, kind="reminder", to=[address], context=sample_context("reminder"), key=f"reminder:{number}",
                      la_id=world.las["own"].id)
    db.commit()


def test_dispatch_until_empty_sends_everything_and_prints_counts_by_final_status(runner, relay, db, world):
    _queue(db, world, "one@council.example.gov.uk", "refused@council.example.gov.uk", "two@council.example.gov.uk")

    result = runner.invoke(args=["mail", "dispatch", "--until-empty"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["permanent_failure: 1", "sent: 2", "Nothing is left to send."]
    assert sorted(address for envelope, _ in relay.received for address in envelope.rcpt_tos) == [
        "one@council.example.gov.uk", "two@council.example.gov.uk"]
    assert {json.loads(m.recipients)[0]: m.status for m in _outbox(db)}["refused@council.example.gov.uk"] == "permanent_failure"


def test_dispatch_with_nothing_due_says_so(runner, db, world):
    assert runner.invoke(args=["mail", "dispatch"]).output == "No email was due.\nNothing is left to send.\n"
    _queue(db, world, "one@council.example.gov.uk")
    assert runner.invoke(args=["mail", "dispatch"]).output == "sent: 1\nNothing is left to send.\n"
    assert runner.invoke(args=["mail", "dispatch", "--until-empty"]).output == "No email was due.\nNothing is left to send.\n"


def test_dispatch_says_what_it_left_unsent(runner, db, world):
    _queue(db, world, "one@council.example.gov.uk", "two@council.example.gov.uk")
    db.execute(update(OutboxMessage).values(next_attempt_at=utcnow() + timedelta(hours=1)))
    db.commit()
    assert runner.invoke(args=["mail", "dispatch"]).output == "No email was due.\nLeft unsent: 2 queued\n"


@pytest.mark.parametrize(("demo_mode", "warned"), [(False, True), (True, False)])
def test_serve_logs_at_start_that_devmail_outside_demo_mode_delivers_nothing(app, runner, monkeypatch, caplog,
                                                                             demo_mode, warned):
    import waitress

    monkeypatch.setattr(waitress, "serve", lambda *args, **kwargs: None)  # start, but do not block serving
    app.config["DEMO_MODE"] = demo_mode
    result = runner.invoke(args=["serve"])
    assert result.exit_code == 0, result.output
    assert ("Mail is not being delivered" in caplog.text) is warned


def test_the_demo_and_its_published_password_are_refused_outside_demo_mode(runner, db):
    from audit_workflow.auth.models import User

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "runs only in demo mode" in result.output and "AUDIT_WORKFLOW_DEMO_MODE=true" in result.output
    assert "Traceback" not in result.output
    assert db.exec(select(User).where(User.email.endswith(".demo.example"))).first() is None
