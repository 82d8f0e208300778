"""The issue's done-when: with `graph` configured against Microsoft's endpoints (played by
responses and tests/notifications/fake_graph.py), a backlog of 1,000 assignment emails drains
through 429s with Retry-After, 503s, a send that times out after Graph accepted it and an access
token that stops working, with none lost, none doubled, and no request made before a Retry-After
had passed. The clock moves only when the dispatcher sleeps, so hours of back-off take no time."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import requests
import responses
from sqlalchemy import insert
from sqlmodel import Session

from audit_workflow.clock import utcnow
from audit_workflow.notifications.catalogue import render_message, sample_context
from audit_workflow.notifications.dispatcher import dispatch_due
from audit_workflow.notifications.models import MessageStatus, OutboxMessage
from tests.notifications.fake_graph import MAILBOX, TENANT, FakeGraph, Reply, throttled, unavailable
from tests.notifications.test_dispatcher import clock, config, engine, statuses  # noqa: F401  (fixtures)

GRAPH = "https://graph.example.test"
BACKLOG = 1000


def graph_config(config, base_url: str, **overrides) -> dict:
    return {
        **config, "MAIL_TRANSPORT": "graph", "GRAPH_TENANT_ID": TENANT, "GRAPH_CLIENT_ID": "client-id",
        "GRAPH_CLIENT_SECRET": "client-secret", "GRAPH_SENDER": MAILBOX, "GRAPH_ENDPOINT": base_url,
        "GRAPH_AUTHORITY_HOST": base_url, **overrides,
    }


def queue_assignment_backlog(engine, la_id, count: int) -> list[str]:
    """`count` assignment emails as queue_message writes them (rendered once: rendering is not under test)."""
    rendered = render_message("assignment", sample_context("assignment"))
    now = utcnow()
    rows = [
        {"id": uuid.uuid4(), "la_id": la_id, "idempotency_key": f"assignment:{index:04d}:assigned", "kind": "assignment",
         "recipients": json.dumps([f"auditor{index}@council.example.gov.uk"]), "subject": rendered.subject,
         "body_html": rendered.html, "body_text": rendered.text, "status": MessageStatus.QUEUED,
         "next_attempt_at": now, "created_at": now}
        for index in range(count)
    ]
    with Session(engine) as session:
        session.execute(insert(OutboxMessage), rows)
        session.commit()
    return [row["idempotency_key"] for row in rows]


class Weather:
    """Graph's bad day, by request number: throttling, outages, a lost reply and a dead token."""

    def __init__(self, fake: FakeGraph):
        self.fake = fake
        self.graph_requests = 0
        self.sends = 0

    def fault(self, request) -> Reply | None:
        if request.is_sign_in:
            return None
        self.graph_requests += 1
        number = self.graph_requests
        if number % 97 == 0:
            return throttled(30)
        if number % 151 == 0:
            return unavailable(retry_after=12)
        if number % 89 == 0:
            return unavailable()
        if number == 700:
            self.fake.valid_tokens.clear()  # the access token stops working from here on
        return None

    def after(self, request, reply: Reply) -> None:
        if request.is_send and reply.status == 202:
            self.sends += 1
            if self.sends == 400:  # Graph accepted it, but the reply never arrived
                raise requests.exceptions.ReadTimeout("fake: reply lost")


def test_a_backlog_of_1000_drains_through_microsofts_limits_with_none_lost_or_doubled(engine, config, clock, world):
    keys = queue_assignment_backlog(engine, world.las["own"].id, BACKLOG)
    fake = FakeGraph(base_url=GRAPH)
    weather = Weather(fake)
    fake.fault, fake.after = weather.fault, weather.after
    settings = graph_config(config, GRAPH, MAIL_RATE_PER_MINUTE=60_000)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        counts = dispatch_due(engine, settings, until_empty=True, max_seconds=None, sleep=clock.shift)

    assert statuses(engine) == {"sent": BACKLOG}
    assert counts["sent"] == BACKLOG and counts["retrying"] > 20
    assert fake.sent_keys() == {key: 1 for key in keys}  # none lost, none doubled

    # Nothing reached Graph while a Retry-After it had given was still running.
    held_until = None
    for request, reply in fake.log:
        if request.is_sign_in:
            continue
        assert held_until is None or request.at >= held_until, f"{request.method} {request.path} before Retry-After ended"
        if "Retry-After" in reply.headers:
            held_until = max(held_until or request.at, request.at + timedelta(seconds=int(reply.headers["Retry-After"])))

    throttles = [request for request, reply in fake.log if reply.status == 429]
    assert len(throttles) >= 10
    refused_tokens = [request for request, reply in fake.log if reply.status == 401]
    assert len(refused_tokens) == 1  # one failure, then a new token
    assert len(fake.requests(lambda request: request.path.endswith("/token"))) == 2
