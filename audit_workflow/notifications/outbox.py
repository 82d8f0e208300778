"""Queueing email: the one way any part of the service sends a message.

queue_message() (one) and queue_messages() (a batch, in one INSERT) render each message, run the
privacy guard, and add the outbox rows to the caller's session, so the message commits or rolls back with the change that caused it. The
idempotency key is unique: queueing the same key again is a no-op, so a retried job or a double
click can never send twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from sqlmodel import Session

from ..clock import utcnow
from ..db import dialect_insert
from .catalogue import message_kind, render_message
from .models import Alert, MessageStatus, OutboxMessage
from .privacy import check_message


def queue_message(
    session: Session,
    *,
    kind: str,
    to: list[str],
    context: Mapping[str, Any],
    key: str,
    la_id: uuid.UUID | None,
    assignment_id: uuid.UUID | None = None,
) -> bool:
    """Queue one email in the caller's transaction. True if queued now to be sent; False if the key
    already was, or the privacy guard blocked it.

    A message the privacy guard refuses is recorded as blocked (without its body) and the LA's
    coordinators are alerted (admins, for a message of no LA), who can fix what it came from; it is
    never sent.
    """
    return key in queue_messages(session, [MessageToQueue(kind, to, context, key, la_id, assignment_id)])


def blocked_alert_text(kind: str, reasons: str) -> str:
    """E.g. "An assignment email to the auditor was blocked before sending: ...". Names no one."""
    message = message_kind(kind)
    label = message.name.replace("_", " ")
    article = "An" if label[0] in "aeiou" else "A"
    return (f"{article} {label} email to the {message.audience.replace('_', ' ')} was blocked before sending because "
            f"it looked like it contained personal data ({reasons}). Check the names and text it is made from, "
            "such as the cycle's name, and correct them.")


@dataclass(frozen=True)
class MessageToQueue:
    """One email for queue_messages(): what queue_message() takes, as a value."""

    kind: str
    to: list[str]
    context: Mapping[str, Any]
    key: str
    la_id: uuid.UUID | None
    assignment_id: uuid.UUID | None = None


def queue_messages(session: Session, messages: list[MessageToQueue]) -> set[str]:
    """Queue many emails in the caller's transaction with one multi-row INSERT ... ON CONFLICT DO
    NOTHING: one statement instead of one per message, which was a third of a chase tick's cost
    (benchmarks: tick). Each message is still rendered and checked by the privacy guard on its own,
    and a blocked one is recorded and alerted exactly as queue_message() does. The keys of the
    messages queued now to be sent (not those already queued, nor those blocked)."""
    if not messages:
        return set()
    now = utcnow()
    rows, blocked = [], {}
    for message in messages:
        rendered = render_message(message.kind, message.context)
        violations = check_message(rendered, message.context)
        row = {"id": uuid.uuid4(), "la_id": message.la_id, "idempotency_key": message.key, "kind": message.kind,
               "recipients": json.dumps(sorted(set(message.to))), "subject": rendered.subject,
               "body_html": rendered.html, "body_text": rendered.text, "status": MessageStatus.QUEUED, "attempts": 0,
               "next_attempt_at": now, "created_at": now, "assignment_id": message.assignment_id,
               "last_error": None, "failed_at": None}  # every row has every column: one VALUES list
        if violations:
            blocked[message.key] = "; ".join(sorted({violation.rule for violation in violations}))
            row.update(status=MessageStatus.BLOCKED, body_html="", body_text="",
                       last_error=f"privacy guard: {blocked[message.key]}", failed_at=now)
        rows.append(row)
    statement = (dialect_insert(session, OutboxMessage).values(rows).on_conflict_do_nothing(index_elements=["idempotency_key"])
                 .returning(OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.kind, OutboxMessage.la_id))
    # RETURNING, not rowcount: through the ORM, PostgreSQL's driver reports a rowcount of -1 here.
    inserted = session.connection().execute(statement).all()
    for message_id, key, kind, la_id in inserted:
        if key in blocked:
            session.add(Alert(la_id=la_id, audience="coordinator" if la_id else "admin", kind="message_blocked",
                              outbox_message_id=message_id, message=blocked_alert_text(kind, blocked[key])))
    return {key for _, key, _, _ in inserted if key not in blocked}
