"""Workload 2: the dispatcher draining the outbox through the Graph transport to a local Graph that
answers at once, against a bare loop doing the same two calls per message with requests.post
(create the draft, send it) to the same server, from the same outbox rows, with the durable commits
crash safety needs and no more: a claim per CLAIM_BATCH messages (so no other dispatcher takes
them), the draft id before the send (so a restart asks Graph what became of it instead of sending
again), and the outcome after it (so it is not sent again): 2 + 1/CLAIM_BATCH commits a message.
Then, with the per-mailbox cap set to a rate a short run can reach, the rate the mailbox actually
saw as a share of the cap, and how many 429s it answered (it answers 429 to any send beyond the cap within 60 seconds, as Exchange Online does).
"""

from __future__ import annotations

import json
from datetime import timedelta

import requests
from sqlalchemy import select, update

from audit_workflow.clock import utcnow
from audit_workflow.notifications.dispatcher import CLAIM_BATCH, dispatch_due
from audit_workflow.notifications.models import MailSendSlot, MailThrottle, MessageStatus, OutboxMessage

from .data import RowGenerator, delete_where, insert_rows, queued_messages
from .harness import Bench, Check, Result, median_seconds, ratio_at_most
from .servers import GraphControl, fake_graph

GOAL_RATIO = 1.3
GOAL_CAP_SHARE = 0.95
CAP_PER_MINUTE = 120  # four times Exchange Online's default, so a short run sees enough sends
UNCAPPED = 10**9  # per minute and per day: the drain measures sending, not waiting
SENDER = "ehcp-audit@example.gov.uk"
OUTBOX = OutboxMessage.__table__
DURABLE_COMMITS_PER_MESSAGE = 2 + 1 / CLAIM_BATCH


def _graph_config(bench: Bench, url: str, rate_per_minute: int) -> dict:
    return {**bench.config, "MAIL_TRANSPORT": "graph", "GRAPH_TENANT_ID": "benchmark-tenant",
            "GRAPH_CLIENT_ID": "benchmark-client", "GRAPH_CLIENT_SECRET": "benchmark-secret", "GRAPH_SENDER": SENDER,
            "GRAPH_ENDPOINT": url, "GRAPH_AUTHORITY_HOST": url, "GRAPH_TIMEOUT_SECONDS": 5,
            "MAIL_RATE_PER_MINUTE": rate_per_minute, "MAIL_RECIPIENTS_PER_DAY": UNCAPPED}


class _Outbox:
    """Refills the outbox with the same queued messages, and forgets the mailbox's sending history."""

    def __init__(self, bench: Bench):
        self.engine = bench.engine

    def refill(self, count: int) -> None:
        delete_where(self.engine, OutboxMessage, OutboxMessage.idempotency_key.like("benchmark:mail:%"))
        delete_where(self.engine, MailSendSlot, MailSendSlot.mailbox == SENDER)
        delete_where(self.engine, MailThrottle, MailThrottle.mailbox == SENDER)
        with self.engine.begin() as connection:
            insert_rows(connection, OutboxMessage.__table__,
                        queued_messages(RowGenerator(count), count, utcnow() - timedelta(seconds=1)))


def _dispatch(bench: Bench, config: dict, expected: int, until_empty: bool = False) -> None:
    """until_empty: also wait for retries (a message the capped stand-in refused with a 429)."""
    counts = dispatch_due(bench.engine, config, max_seconds=None, until_empty=until_empty)
    if counts.get("sent") != expected:
        raise AssertionError(f"the dispatcher sent {counts}, not {expected} messages")


def _bare_loop(engine, url: str) -> int:
    """Send every queued benchmark message; how many were sent."""
    drafts, sent = f"{url}/v1.0/users/{SENDER}/mailFolders/Drafts/messages", 0
    waiting = (select(OUTBOX.c.id).where(OUTBOX.c.status == MessageStatus.QUEUED,
                                         OUTBOX.c.idempotency_key.like("benchmark:mail:%"))
               .order_by(OUTBOX.c.idempotency_key).limit(CLAIM_BATCH))
    claim = (update(OUTBOX).where(OUTBOX.c.id.in_(waiting.scalar_subquery())).values(status=MessageStatus.SENDING)
             .returning(OUTBOX.c.id, OUTBOX.c.recipients, OUTBOX.c.subject, OUTBOX.c.body_html))
    with requests.Session() as session:
        while True:
            with engine.begin() as connection:
                batch = connection.execute(claim).all()
            if not batch:
                return sent
            for message_id, recipients, subject, body in batch:
                draft = session.post(drafts, json={"subject": subject, "body": {"contentType": "HTML", "content": body},
                                                   "toRecipients": [{"emailAddress": {"address": address}}
                                                                    for address in json.loads(recipients)]})
                draft.raise_for_status()
                draft_id = draft.json()["id"]
                with engine.begin() as connection:
                    connection.execute(update(OUTBOX).where(OUTBOX.c.id == message_id).values(draft_id=draft_id))
                session.post(f"{url}/v1.0/users/{SENDER}/messages/{draft_id}/send").raise_for_status()
                with engine.begin() as connection:
                    connection.execute(update(OUTBOX).where(OUTBOX.c.id == message_id)
                                       .values(status=MessageStatus.SENT, sent_at=utcnow()))
                sent += 1


def _bare_drain(bench: Bench, url: str, expected: int) -> None:
    if (sent := _bare_loop(bench.engine, url)) != expected:
        raise AssertionError(f"the bare loop sent {sent}, not {expected} messages")


def measure(bench: Bench) -> list[Result]:
    outbox = _Outbox(bench)
    count = bench.scale.mail_messages
    with fake_graph(bench.workdir) as (url, graph):
        config = _graph_config(bench, url, UNCAPPED)
        ours_s = median_seconds(lambda: _dispatch(bench, config, count), bench.repeat, prepare=lambda: outbox.refill(count))
        floor_s = median_seconds(lambda: _bare_drain(bench, url, count), bench.repeat,
                                 prepare=lambda: outbox.refill(count))
        drain = ratio_at_most(Result("mail_drain", ours_s, floor_s, extra={
            "messages": count, "messages_per_s": count / ours_s,
            "floor_commits_per_message": DURABLE_COMMITS_PER_MESSAGE}), GOAL_RATIO)
        capped = _capped_run(bench, outbox, url, graph)
    return [drain, capped]


def _capped_run(bench: Bench, outbox: _Outbox, url: str, graph: GraphControl) -> Result:
    count = round(CAP_PER_MINUTE * bench.scale.mail_cap_seconds / 60)
    outbox.refill(count)
    graph.reset(rate_per_minute=CAP_PER_MINUTE)
    ours_s = median_seconds(lambda: _dispatch(bench, _graph_config(bench, url, CAP_PER_MINUTE), count, True), 1)
    graph_log = graph.log()
    achieved = graph_log.achieved_per_minute()
    share = achieved / CAP_PER_MINUTE
    # The floor: the same sends spaced exactly at the cap.
    result = Result("mail_rate_cap", ours_s, (count - 1) * 60 / CAP_PER_MINUTE, extra={
        "messages": count, "cap_per_min": CAP_PER_MINUTE, "achieved_per_min": achieved, "cap_share": share,
        "http_429": graph_log.refused})
    result.checks += [Check(f"cap share >= {GOAL_CAP_SHARE:.0%}", share >= GOAL_CAP_SHARE),
                      Check("no 429s", graph_log.refused == 0)]
    return result
