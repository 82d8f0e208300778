"""The outbox's use cases: queueing once per key, the retention purge, an admin's retry and cancel,
and the give-up window's setting."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from audit_workflow.clock import utcnow
from audit_workflow.cycles.models import AssignmentStatus
from audit_workflow.notifications.catalogue import sample_context
from audit_workflow.notifications.dispatcher import dispatch_due
from audit_workflow.notifications.models import Alert, MailSendSlot, MessageStatus, OutboxMessage
from audit_workflow.notifications.outbox import MessageToQueue, queue_message, queue_messages
from audit_workflow.notifications.service import (
    OutboxActionRefused,
    cancel_message,
    purge_expired,
    retry_message,
)
from audit_workflow.notifications.transports.base import TemporaryFailure
from tests.factories import make_assignment, make_cycle, make_plan
from tests.notifications.test_dispatcher import (  # noqa: F401  (fixtures)
    RecordingTransport,
    add_messages,
    config,
    engine,
    fake_delivery,
    message,
)

AUDITOR = "auditor@886.example.gov.uk"


def _queue(db, key: str, la_id, kind: str = "reminder", to: str = AUDITOR) -> OutboxMessage:
    queue_message(db, kind=kind, to=[to], context=sample_context(kind), key=key, la_id=la_id)
    db.commit()
    return db.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()


# --- Queueing ----------------------------------------------------------------------------------------


def test_the_same_key_is_queued_once(db, world):
    la_id = world.las["own"].id
    assert queue_message(db, kind="reminder", to=[AUDITOR], context=sample_context("reminder"), key="k:1", la_id=la_id)
    assert not queue_message(db, kind="reminder", to=["someone@else.example"], context=sample_context("reminder"),
                             key="k:1", la_id=la_id)
    db.commit()
    [queued] = db.exec(select(OutboxMessage)).all()
    assert json.loads(queued.recipients) == [AUDITOR]


def test_a_message_rolls_back_with_the_change_that_caused_it(db, world):
    queue_message(db, kind="reminder", to=[AUDITOR], context=sample_context("reminder"), key="k:1", la_id=world.las["own"].id)
    db.rollback()
    assert db.exec(select(OutboxMessage)).all() == []


def test_a_blocked_message_keeps_no_body_and_alerts_the_las_coordinators(db, world):
    context = sample_context("reminder")
    context["recipient"]["display_name"] = "Priya Shah re child DOB 03/04/2015"

    assert not queue_message(db, kind="reminder", to=[AUDITOR], context=context, key="k:1", la_id=world.las["own"].id)
    db.commit()

    blocked = db.exec(select(OutboxMessage)).one()
    assert (blocked.status, blocked.body_html, blocked.body_text) == ("blocked", "", "")
    assert blocked.last_error == "privacy guard: date_of_birth"
    [alert] = db.exec(select(Alert)).all()
    assert (alert.la_id, alert.audience, alert.kind, alert.outbox_message_id) == (
        world.las["own"].id, "coordinator", "message_blocked", blocked.id)
    assert alert.message.startswith("A reminder email to the auditor was blocked before sending")
    assert "03/04/2015" not in alert.message and "Priya" not in alert.message


@pytest.mark.parametrize(("kind", "opening"), [("assignment", "An assignment email"), ("escalation", "An escalation email"),
                                               ("reminder", "A reminder email")])
def test_the_blocked_alert_reads_as_english(db, world, kind, opening):
    context = sample_context(kind)
    context["recipient"]["display_name"] = "Priya Shah re child DOB 03/04/2015"
    queue_message(db, kind=kind, to=[AUDITOR], context=context, key="k:1", la_id=world.las["own"].id)
    assert db.exec(select(Alert)).one().message.startswith(opening)


def test_a_batch_is_queued_in_one_go_each_key_once_each_message_guarded(db, world):
    la_id = world.las["own"].id
    queue_message(db, kind="reminder", to=[AUDITOR], context=sample_context("reminder"), key="k:1", la_id=la_id)
    personal = sample_context("overdue")
    personal["recipient"]["display_name"] = "Priya Shah re child DOB 03/04/2015"
    batch = [MessageToQueue("reminder", [AUDITOR], sample_context("reminder"), "k:1", la_id),  # already queued
             MessageToQueue("due_today", [AUDITOR, AUDITOR], sample_context("due_today"), "k:2", la_id),
             MessageToQueue("overdue", [AUDITOR], personal, "k:3", la_id)]

    assert queue_messages(db, batch) == {"k:2"}
    assert queue_messages(db, batch) == set()  # a rerun adds nothing
    db.commit()

    by_key = {message.idempotency_key: message for message in db.exec(select(OutboxMessage)).all()}
    assert {key: message.status for key, message in by_key.items()} == {"k:1": "queued", "k:2": "queued", "k:3": "blocked"}
    assert json.loads(by_key["k:2"].recipients) == [AUDITOR]
    assert by_key["k:2"].subject.startswith("Due today")
    assert (by_key["k:3"].body_text, by_key["k:3"].last_error) == ("", "privacy guard: date_of_birth")
    [alert] = db.exec(select(Alert)).all()
    assert (alert.kind, alert.outbox_message_id) == ("message_blocked", by_key["k:3"].id)


# --- Retention --------------------------------------------------------------------------------------


@pytest.mark.parametrize("retention_days", [7, 30])
def test_content_and_addresses_go_after_the_retention_period_but_status_times_and_key_stay(db, world, retention_days):
    la_id = world.las["own"].id
    sent = _queue(db, "k:sent", la_id)
    sent.status, sent.attempts, sent.sent_at, sent.provider_id = MessageStatus.SENT, 1, utcnow(), "graph-id-1"
    refused = _queue(db, "k:refused", la_id)
    refused.status, refused.failed_at, refused.last_error = MessageStatus.PERMANENT_FAILURE, utcnow(), "Graph answered 400"
    waiting = _queue(db, "k:waiting", la_id)
    waiting.status = MessageStatus.RETRYING
    db.add_all([sent, refused, waiting])
    db.commit()
    before = {row.idempotency_key: (row.created_at, row.sent_at, row.failed_at) for row in (sent, refused)}

    oldest_just_inside = sent.created_at + timedelta(days=retention_days) - timedelta(seconds=1)
    assert purge_expired(db, oldest_just_inside, retention_days) == 0
    assert purge_expired(db, refused.created_at + timedelta(days=retention_days), retention_days) == 2
    db.commit()

    for key in ("k:sent", "k:refused"):
        purged = db.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
        db.refresh(purged)
        assert (purged.recipients, purged.subject, purged.body_html, purged.body_text) == ("[]", "", "", "")
        assert purged.purged_at is not None
        assert (purged.created_at, purged.sent_at, purged.failed_at) == before[key]
    db.refresh(sent)
    assert (sent.status, sent.attempts, sent.provider_id) == ("sent", 1, "graph-id-1")
    db.refresh(refused)
    assert (refused.status, refused.last_error) == ("permanent_failure", "Graph answered 400")
    db.refresh(waiting)
    assert waiting.purged_at is None and AUDITOR in waiting.recipients  # still to be sent: kept


def test_the_purge_also_forgets_sends_that_left_the_rolling_day(db):
    now = utcnow()
    db.add_all([MailSendSlot(mailbox="m", started_at=now - timedelta(hours=25), recipients=1),
                MailSendSlot(mailbox="m", started_at=now - timedelta(hours=23), recipients=1)])
    db.commit()
    purge_expired(db, now, 7)
    db.commit()
    assert [slot.started_at for slot in db.exec(select(MailSendSlot)).all()] == [now - timedelta(hours=23)]


def test_a_purged_message_cannot_be_sent_again(db, world):
    failed = _queue(db, "k:1", world.las["own"].id)
    failed.status = MessageStatus.TECHNICAL_FAILURE
    db.add(failed)
    db.commit()
    purge_expired(db, utcnow() + timedelta(days=8), 7)
    db.commit()
    db.refresh(failed)
    with pytest.raises(OutboxActionRefused, match="not yet been deleted"):
        retry_message(db, failed, world.user("admin"), utcnow())


# --- Retry and cancel -------------------------------------------------------------------------------


def test_sending_a_failed_message_again_opens_a_new_window_and_resolves_its_alert(db, world):
    failed = _queue(db, "k:1", world.las["own"].id)
    failed.status, failed.failed_at = MessageStatus.PERMANENT_FAILURE, utcnow()
    db.add_all([failed, Alert(la_id=failed.la_id, audience="coordinator", kind="message_failed", message="refused",
                              outbox_message_id=failed.id)])
    db.commit()
    admin, now = world.user("admin"), utcnow()

    retry_message(db, failed, admin, now)
    db.commit()

    assert (failed.status, failed.requeued_at, failed.next_attempt_at, failed.failed_at) == ("queued", now, now, None)
    alert = db.exec(select(Alert)).one()
    assert (alert.resolved_at, alert.resolved_by_id) == (now, admin.id)
    with pytest.raises(OutboxActionRefused, match="Only a failed message"):
        retry_message(db, failed, admin, now)


@pytest.mark.parametrize("kind, assignment_status, refused", [
    ("reminder", AssignmentStatus.SUBMITTED, True),
    ("overdue", AssignmentStatus.WITHDRAWN, True),
    ("reassignment", AssignmentStatus.DECLINED, True),
    ("assignment", AssignmentStatus.SUBMITTED, False),  # they still hold the plan
    ("reminder", AssignmentStatus.IN_PROGRESS, False),
    ("withdrawal", AssignmentStatus.WITHDRAWN, False),  # about the withdrawn assignment by design
])
def test_a_failed_email_about_an_assignment_that_has_moved_on_is_not_sent_again(db, world, kind, assignment_status,
                                                                                 refused):
    la = world.las["own"]
    assignment = make_assignment(db, make_cycle(db, la), make_plan(db, la), world.user("auditor"), status=assignment_status)
    queue_message(db, kind=kind, to=[AUDITOR], context=sample_context(kind), key="k:1", la_id=la.id,
                  assignment_id=assignment.id)
    failed = db.exec(select(OutboxMessage)).one()
    failed.status = MessageStatus.TECHNICAL_FAILURE
    db.commit()

    if refused:
        with pytest.raises(OutboxActionRefused, match=f"now {assignment_status.replace('_', ' ')}"):
            retry_message(db, failed, world.user("admin"), utcnow())
        assert failed.status == MessageStatus.TECHNICAL_FAILURE
    else:
        retry_message(db, failed, world.user("admin"), utcnow())
        assert failed.status == MessageStatus.QUEUED


@pytest.mark.parametrize("status", ["sending", "sent", "blocked", "cancelled", "permanent_failure"])
def test_only_a_waiting_message_can_be_cancelled(db, world, status):
    message = _queue(db, "k:1", world.las["own"].id)
    message.status = status
    db.add(message)
    db.commit()
    with pytest.raises(OutboxActionRefused, match="waiting to be sent"):
        cancel_message(db, message)
    assert message.status == status


@pytest.mark.parametrize("status", ["queued", "retrying"])
def test_a_waiting_message_is_cancelled_and_never_sent(db, world, engine, config, status):
    message = _queue(db, "k:1", world.las["own"].id)
    message.status = status
    db.add(message)
    db.commit()
    cancel_message(db, message)
    db.commit()
    transport = RecordingTransport()
    assert dispatch_due(engine, config, delivery=fake_delivery(transport)) == {}
    assert (message.status, transport.sends) == ("cancelled", [])


# --- The give-up window -----------------------------------------------------------------------------


@pytest.mark.parametrize(("give_up_hours", "age_hours", "status"), [(1, 0.5, "retrying"), (1, 1.5, "technical_failure"),
                                                                    (24, 5, "retrying")])
def test_the_give_up_window_is_a_setting(engine, config, give_up_hours, age_hours, status):
    # Twenty attempts made: more than the back-off schedule makes in any of these windows.
    [key] = add_messages(engine, 1, created_at=utcnow() - timedelta(hours=age_hours), attempts=20)
    transport = RecordingTransport({key: [TemporaryFailure("Microsoft Graph answered 503", status=503)]})
    dispatch_due(engine, {**config, "MAIL_GIVE_UP_HOURS": give_up_hours}, delivery=fake_delivery(transport))
    assert message(engine, key).status == status
