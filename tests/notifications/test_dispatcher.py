"""The dispatcher's claims and outcomes against a scripted transport, on the suite's database.

The helpers at the top (a recording transport, bulk-queued rows, a settable clock) are shared by
the other dispatcher, throttle and outbox tests in this folder.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Callable

import pytest
import time_machine
from sqlalchemy import insert, select, update
from sqlmodel import Session, SQLModel

from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine, make_engine
from audit_workflow.notifications.delivery import Delivery
from audit_workflow.notifications.dispatcher import claim_due, dispatch_due
from audit_workflow.notifications.models import Alert, MessageStatus, OutboxMessage
from audit_workflow.notifications.throttle import MailboxLimits
from audit_workflow.notifications.transports.base import (
    OutgoingEmail,
    PermanentFailure,
    SendReceipt,
    TemporaryFailure,
)
from tests.conftest import POSTGRES_URL

START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
FAST = MailboxLimits(rate_per_minute=600_000, recipients_per_day=10_000_000, concurrent_requests=4)

Outcome = SendReceipt | Exception | Callable[[OutgoingEmail], SendReceipt]


class RecordingTransport:
    """Answers every send with the next scripted outcome for its key (default: accepted), and
    records each send with the time it was made. Safe to share between dispatcher threads."""

    def __init__(self, script: dict[str, list[Outcome]] | None = None, clock=utcnow):
        self.script = {key: list(outcomes) for key, outcomes in (script or {}).items()}
        self.clock = clock
        self.sends: list[tuple[str, datetime]] = []
        self._lock = threading.Lock()

    def send(self, email: OutgoingEmail, *, on_draft_created=None) -> SendReceipt:
        with self._lock:
            self.sends.append((email.key, self.clock()))
            planned = self.script.get(email.key)
            outcome = planned.pop(0) if planned else SendReceipt(f"provider:{email.key}")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome(email) if callable(outcome) else outcome

    def find_sent(self, email):
        return None

    def describe(self) -> str:
        return "a recording transport"

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.sends]


def fake_delivery(transport, limits: MailboxLimits | None = FAST) -> Delivery:
    return Delivery("fake", transport, mailbox="ehcp-audit@council.example.gov.uk", limits=limits,
                    longest_send=timedelta(seconds=30))


def add_messages(engine, count: int, *, la_id=None, kind: str = "reminder", prefix: str = "msg", **fields) -> list[str]:
    """`count` queued messages (bulk-inserted; the catalogue is not needed here), due now; their keys."""
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(), "la_id": la_id, "idempotency_key": f"{prefix}:{index:05d}", "kind": kind,
            "recipients": json.dumps([f"person{index}@council.example.gov.uk"]), "subject": f"Subject {index}",
            "body_html": "<p>Hello</p>", "body_text": "Hello", "status": MessageStatus.QUEUED, "attempts": 0,
            "next_attempt_at": now, "created_at": now, **fields,
        }
        for index in range(count)
    ]
    with Session(engine) as session:
        session.execute(insert(OutboxMessage), rows)
        session.commit()
    return [row["idempotency_key"] for row in rows]


def message(engine, key: str) -> OutboxMessage:
    with Session(engine) as session:
        return session.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).scalar_one()


def statuses(engine) -> Counter:
    with Session(engine) as session:
        return Counter(session.execute(select(OutboxMessage.status)).scalars())


def alerts(engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.execute(select(Alert).order_by(Alert.created_at)).scalars())


@pytest.fixture
def engine(app):
    return get_engine(app)


@pytest.fixture
def config(app):
    return app.config


@pytest.fixture
def clock():
    """A stopped clock that only moves when a dispatcher sleeps (or the test shifts it)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# --- Sending and recording -----------------------------------------------------------------------


def test_a_due_message_is_sent_once_and_recorded(engine, config, world):
    la = world.las["own"]
    [key] = add_messages(engine, 1, la_id=la.id)
    transport = RecordingTransport()
    seen = []
    transport.script[key] = [lambda email: seen.append(email) or SendReceipt("provider-1")]

    assert dispatch_due(engine, config, delivery=fake_delivery(transport)) == {"sent": 1}

    sent = message(engine, key)
    assert (sent.status, sent.attempts, sent.provider_id) == ("sent", 1, "provider-1")
    assert sent.sent_at is not None and sent.claimed_by is None and sent.claim_expires_at is None
    assert seen[0].to == ["person0@council.example.gov.uk"] and seen[0].key == key
    assert seen[0].reply_to == la.contact_email  # replies reach the LA's team, not the service mailbox
    assert dispatch_due(engine, config, delivery=fake_delivery(transport)) == {}
    assert transport.keys == [key]


def test_only_due_waiting_messages_and_expired_claims_are_claimed(engine):
    now = utcnow()
    due = add_messages(engine, 1, prefix="due")
    later = add_messages(engine, 1, prefix="later", next_attempt_at=now + timedelta(minutes=5))
    retry_due = add_messages(engine, 1, prefix="retry", status="retrying", attempts=1)
    abandoned = add_messages(engine, 1, prefix="abandoned", status="sending", claimed_by="dead",
                             claim_expires_at=now - timedelta(seconds=1))
    busy = add_messages(engine, 1, prefix="busy", status="sending", claimed_by="alive",
                        claim_expires_at=now + timedelta(minutes=5))
    final = [add_messages(engine, 1, prefix=status, status=status)[0]
             for status in ("sent", "permanent_failure", "technical_failure", "blocked", "cancelled")]

    claimed = claim_due(engine, utcnow(), "me", timedelta(minutes=1), size=100)

    assert sorted(m.key for m in claimed) == sorted(due + retry_due + abandoned)
    assert {message(engine, key).claimed_by for key in due + retry_due + abandoned} == {"me"}
    assert message(engine, later[0]).status == "queued"
    assert message(engine, busy[0]).claimed_by == "alive"
    assert [message(engine, key).status for key in final] == ["sent", "permanent_failure", "technical_failure", "blocked", "cancelled"]


def test_an_outcome_never_overwrites_a_final_status(engine, config):
    """A message cancelled (or taken over) while being sent keeps what it became."""
    [key] = add_messages(engine, 1)

    def cancelled_meanwhile(email):
        with Session(engine) as session:
            session.execute(update(OutboxMessage).values(status="cancelled", claimed_by=None))
            session.commit()
        return SendReceipt("provider-1")

    transport = RecordingTransport({key: [cancelled_meanwhile]})
    assert dispatch_due(engine, config, delivery=fake_delivery(transport)) == {}
    assert (message(engine, key).status, message(engine, key).attempts) == ("cancelled", 0)


def test_the_draft_id_is_committed_before_the_draft_is_sent(engine, config):
    [key] = add_messages(engine, 1)
    committed_before_send = []

    class DraftingTransport(RecordingTransport):
        def send(self, email, *, on_draft_created=None):
            on_draft_created("draft-1")
            committed_before_send.append(message(engine, key).draft_id)  # read on another connection
            return SendReceipt("draft-1")

    dispatch_due(engine, config, delivery=fake_delivery(DraftingTransport()))
    assert committed_before_send == ["draft-1"]
    assert message(engine, key).draft_id == "draft-1"


def test_a_run_that_lost_its_claim_does_not_send(engine, config):
    [key] = add_messages(engine, 1)
    sent = []

    class DraftingTransport(RecordingTransport):
        def send(self, email, *, on_draft_created=None):
            with Session(engine) as session:  # another dispatcher took the message over
                session.execute(update(OutboxMessage).values(claimed_by="someone-else"))
                session.commit()
            on_draft_created("draft-1")
            sent.append(email.key)
            return SendReceipt("draft-1")

    assert dispatch_due(engine, config, delivery=fake_delivery(DraftingTransport())) == {}
    assert sent == []
    assert (message(engine, key).claimed_by, message(engine, key).draft_id) == ("someone-else", None)


def test_a_recorded_draft_id_is_passed_back_to_the_transport(engine, config):
    [key] = add_messages(engine, 1, status="sending", claimed_by="dead", draft_id="draft-7",
                         claim_expires_at=utcnow() - timedelta(seconds=1))
    seen = []
    transport = RecordingTransport({key: [lambda email: seen.append(email.draft_id) or SendReceipt("draft-7")]})

    assert dispatch_due(engine, config, delivery=fake_delivery(transport)) == {"sent": 1}
    assert seen == ["draft-7"]


def test_a_limit_caps_the_run(engine, config):
    add_messages(engine, 10)
    transport = RecordingTransport()
    assert dispatch_due(engine, config, limit=3, delivery=fake_delivery(transport)) == {"sent": 3}
    assert statuses(engine) == {"sent": 3, "queued": 7}


def test_a_permanent_failure_alerts_the_las_coordinators_by_role_not_address(engine, config, world):
    la = world.las["own"]
    [key] = add_messages(engine, 1, la_id=la.id, kind="reminder")
    transport = RecordingTransport({key: [PermanentFailure("Microsoft Graph answered 400 (ErrorInvalidRecipients)", status=400)]})

    assert dispatch_due(engine, config, delivery=fake_delivery(transport)) == {"permanent_failure": 1}

    failed = message(engine, key)
    assert (failed.status, failed.attempts, failed.last_error) == (
        "permanent_failure", 1, "Microsoft Graph answered 400 (ErrorInvalidRecipients)")
    [alert] = alerts(engine)
    assert (alert.la_id, alert.audience, alert.kind, alert.outbox_message_id) == (la.id, "coordinator", "message_failed", failed.id)
    assert "reminder email to the auditor" in alert.message and "ErrorInvalidRecipients" in alert.message
    assert "@" not in alert.message
    assert dispatch_due(engine, config, delivery=fake_delivery(transport)) == {}  # no retry
    assert len(transport.sends) == 1


def test_a_message_of_no_la_alerts_the_admins(engine, config):
    [key] = add_messages(engine, 1, kind="test_message")
    dispatch_due(engine, config, delivery=fake_delivery(RecordingTransport({key: [PermanentFailure("refused", 550)]})))
    assert [(alert.la_id, alert.audience) for alert in alerts(engine)] == [(None, "admin")]


@pytest.mark.parametrize(("error", "status"), [(OSError("connection reset"), "retrying"), (KeyError("bug"), "permanent_failure")])
def test_an_unexpected_error_from_the_transport_is_recorded_not_left_claimed(engine, config, error, status):
    [key] = add_messages(engine, 1)
    dispatch_due(engine, config, delivery=fake_delivery(RecordingTransport({key: [error]})))
    recorded = message(engine, key)
    assert (recorded.status, recorded.claimed_by) == (status, None)
    assert recorded.last_error == f"unexpected error in the mail transport ({type(error).__name__})"


def test_now_sets_the_runs_clock(engine, config):
    """A run told it is five hours later sees a failure past its deadline, which after the schedule's
    13 attempts (retry.scheduled_attempts for four hours) is a technical failure."""
    [key] = add_messages(engine, 1, attempts=12)
    transport = RecordingTransport({key: [TemporaryFailure("Microsoft Graph answered 503", status=503)]})
    dispatch_due(engine, config, now=utcnow() + timedelta(hours=5), delivery=fake_delivery(transport))
    assert message(engine, key).status == "technical_failure"


def test_after_an_outage_longer_than_the_give_up_window_a_message_gets_its_full_schedule(engine, config, clock):
    """Queued, then nothing ran for five hours: the first try is not the last. The message is tried
    13 times from then, at back-off intervals, before it is given up."""
    [key] = add_messages(engine, 1)
    clock.shift(timedelta(hours=5))
    resumed_at = utcnow()
    transport = RecordingTransport({key: [TemporaryFailure("Microsoft Graph answered 503", status=503)] * 20})
    dispatch_due(engine, config, until_empty=True, max_seconds=None, delivery=fake_delivery(transport), sleep=clock.shift)
    assert message(engine, key).status == "technical_failure"
    tries = [at for _, at in transport.sends]
    assert len(tries) == 13
    assert tries[0] == resumed_at
    assert all(later > earlier for earlier, later in zip(tries, tries[1:]))  # spaced by back-off, not at once


def test_a_claim_lasts_one_send_and_a_message_taken_over_meanwhile_is_skipped(engine, config, clock):
    """A batch is claimed for one send (5 s of throttle wait + a 30 s send), not for the whole batch,
    so a killed dispatcher strands its untried messages only that long. A message whose claim ran out
    while an earlier one was sent, and which another dispatcher took, is left to that dispatcher."""
    first, second = add_messages(engine, 2)
    seen = {}

    def slow_send(email):
        seen["second_claim_expires_at"] = message(engine, second).claim_expires_at
        clock.shift(timedelta(minutes=1))
        seen["taken"] = claim_due(engine, utcnow(), "another-dispatcher", timedelta(minutes=5), 1,
                                  only_id=message(engine, second).id)
        return SendReceipt("provider:first")

    transport = RecordingTransport({first: [slow_send]})
    dispatch_due(engine, config, delivery=fake_delivery(transport, limits=None))

    assert seen["second_claim_expires_at"].replace(tzinfo=timezone.utc) == START + timedelta(seconds=35)
    assert [claimed.key for claimed in seen["taken"]] == [second]
    assert transport.keys == [first]
    assert (message(engine, second).status, message(engine, second).claimed_by) == ("sending", "another-dispatcher")


# --- docs/checks.md#check-3: exclusive claims ------------------------------------------------------

# SQLite always; PostgreSQL when the suite runs on it (CI's second pass), so both are raced in CI.
@pytest.fixture(params=["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def claim_engine(request, database_url, tmp_path):
    """The same 1,000-row race on SQLite and on PostgreSQL, whichever the suite runs on."""
    if request.param == "postgresql":
        request.getfixturevalue("app")  # the suite's PostgreSQL database, emptied after the test
        engine = make_engine(database_url)
    elif database_url.startswith("sqlite"):
        request.getfixturevalue("app")
        engine = make_engine(database_url)
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_four_dispatchers_send_each_of_1000_messages_exactly_once(claim_engine, config):
    """Only the claim keeps them apart here: no rate limit (test_throttle races that separately)."""
    keys = add_messages(claim_engine, 1000)
    transport = RecordingTransport()
    results, errors = [], []
    start = threading.Barrier(4)

    def dispatcher():
        try:
            start.wait()
            results.append(dispatch_due(claim_engine, config, max_seconds=None, delivery=fake_delivery(transport, limits=None)))
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(transport.sends) == 1000
    assert sorted(transport.keys) == keys
    assert sum(result.get("sent", 0) for result in results) == 1000
    assert statuses(claim_engine) == {"sent": 1000}
    assert all(result.get("sent", 0) < 1000 for result in results), "one dispatcher did all the work: no race was tested"
