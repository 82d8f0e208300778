"""docs/checks.md#check-4 and docs/checks.md#check-6 through the real Graph transport (Microsoft played by fake_graph through
responses), on a clock that moves only when the dispatcher sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import responses

from audit_workflow.notifications.dispatcher import dispatch_due
from tests.conftest import sign_in
from tests.notifications.fake_graph import FakeGraph, Reply, unavailable
from tests.notifications.test_dispatcher import (  # noqa: F401  (fixtures)
    START,
    add_messages,
    alerts,
    clock,
    config,
    engine,
    message,
    statuses,
)
from tests.notifications.test_graph_backlog import graph_config

GRAPH = "https://graph.example.test"


@pytest.fixture
def graph(config):
    """A fake Microsoft, and the app's settings pointing at it."""
    fake = FakeGraph(base_url=GRAPH)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake, graph_config(config, GRAPH)


def scripted_sends(*outcomes):
    """A fault hook answering the 1st, 2nd, ... POST /send with these: a Reply, an exception to
    raise, or None to let it through."""
    remaining = list(outcomes)

    def fault(request):
        if not request.is_send or not remaining:
            return None
        outcome = remaining.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return fault


def test_a_503_then_a_timeout_then_202_is_three_attempts_ending_sent(engine, clock, graph, world):
    fake, settings = graph
    [key] = add_messages(engine, 1, la_id=world.las["own"].id)
    fake.fault = scripted_sends(unavailable(), requests.exceptions.ConnectTimeout("fake: no answer"), None)

    counts = dispatch_due(engine, settings, until_empty=True, max_seconds=None, sleep=clock.shift)

    assert counts == {"retrying": 2, "sent": 1}
    sent = message(engine, key)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 3, None)
    assert fake.sent_keys() == {key: 1}
    assert len(fake.requests(lambda r: r.is_draft)) == 1  # later attempts sent the recorded draft
    attempts = [r.at for r in fake.requests(lambda r: r.is_send)]
    assert len(attempts) == 2  # the timed-out request never reached Graph
    assert alerts(engine) == []


def test_a_send_accepted_but_unanswered_is_not_sent_again(engine, clock, graph):
    """Graph took the message, the reply was lost: the next attempt finds the draft sent."""
    fake, settings = graph
    [key] = add_messages(engine, 1)

    replies_lost = []

    def lose_the_first_reply(request, reply):
        if request.is_send and not replies_lost:
            replies_lost.append(request)
            raise requests.exceptions.ReadTimeout("fake: reply lost")

    fake.after = lose_the_first_reply
    assert dispatch_due(engine, settings, until_empty=True, max_seconds=None, sleep=clock.shift) == {"retrying": 1, "sent": 1}
    assert fake.sent_keys() == {key: 1}
    assert message(engine, key).attempts == 2


def test_a_400_is_a_permanent_failure_with_no_retry(engine, clock, graph, world):
    fake, settings = graph
    [key] = add_messages(engine, 1, la_id=world.las["own"].id, kind="overdue")
    fake.fault = lambda request: Reply(400, {"error": {"code": "ErrorInvalidRecipients", "message": "x@y is invalid"}}) if request.is_draft else None

    assert dispatch_due(engine, settings, until_empty=True, max_seconds=None, sleep=clock.shift) == {"permanent_failure": 1}

    failed = message(engine, key)
    assert (failed.status, failed.attempts) == ("permanent_failure", 1)
    assert failed.last_error == "Microsoft Graph answered 400 (ErrorInvalidRecipients)"  # Graph's text quoted an address
    assert len(fake.requests(lambda r: not r.is_sign_in)) == 1
    [alert] = alerts(engine)
    assert alert.audience == "coordinator" and "overdue email to the auditor" in alert.message


def test_a_message_that_keeps_failing_is_given_up_at_the_deadline_and_alerted(app, client, engine, clock, graph, world):
    """docs/checks.md#check-6: four hours of 503s (MAIL_GIVE_UP_HOURS), then technical_failure and an alert that
    the LA's coordinators see; nothing is left queued, retrying or sending, not even a message a
    dead dispatcher had claimed."""
    fake, settings = graph
    la = world.las["own"]
    [key] = add_messages(engine, 1, la_id=la.id, kind="due_today", prefix="failing")
    [orphan] = add_messages(engine, 1, la_id=la.id, kind="reminder", prefix="orphan", status="sending",
                            claimed_by="dead-dispatcher", claim_expires_at=START + timedelta(minutes=10))
    fake.fault = lambda request: unavailable() if not request.is_sign_in else None

    dispatch_due(engine, settings, until_empty=True, max_seconds=None, sleep=clock.shift)

    assert statuses(engine) == {"technical_failure": 2}
    failed = message(engine, key)
    deadline = failed.created_at + timedelta(hours=settings["MAIL_GIVE_UP_HOURS"])
    # The last try is timed for the deadline, not a back-off after it; if the orphan's last try falls due
    # at the same moment and takes the mailbox's slot first, this one waits one slot of the rate limit.
    slot = timedelta(minutes=1) / settings["MAIL_RATE_PER_MINUTE"]
    assert deadline <= failed.failed_at <= deadline + slot
    assert failed.attempts >= 8  # exponential back-off, capped at 30 minutes
    assert failed.last_error.startswith("not sent within 4 hours; last error: Microsoft Graph answered 503")
    assert message(engine, orphan).failed_at <= deadline + timedelta(minutes=30)
    assert [a.audience for a in alerts(engine)] == ["coordinator", "coordinator"]

    sign_in(client, world.user("coordinator"))
    page = client.get("/alerts").get_data(as_text=True)
    assert "The due today email to the auditor could not be sent: not sent within 4 hours" in page


def test_back_off_grows_between_attempts(engine, clock, graph):
    fake, settings = graph
    add_messages(engine, 1)
    fake.fault = lambda request: unavailable() if request.is_draft else None
    dispatch_due(engine, settings, until_empty=True, max_seconds=None, sleep=clock.shift)

    tries = [r.at for r in fake.requests(lambda r: r.is_draft)]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(tries, tries[1:])]
    assert max(gaps) <= 1800  # the cap
    assert sum(gaps[5:]) / len(gaps[5:]) > sum(gaps[:3]) / 3  # later waits are longer on average


def test_dispatch_runs_of_one_process_reuse_one_access_token(engine, clock, graph, world):
    """The scheduler's dispatch job runs every 30 seconds: it signs in once, not once a run."""
    fake, settings = graph
    add_messages(engine, 1, la_id=world.las["own"].id, prefix="first")
    dispatch_due(engine, settings, sleep=clock.shift)
    add_messages(engine, 1, la_id=world.las["own"].id, prefix="second")
    dispatch_due(engine, settings, sleep=clock.shift)

    assert statuses(engine) == {"sent": 2}
    assert len(fake.requests(lambda request: request.path.endswith("/token"))) == 1
