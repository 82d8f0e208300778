"""Queueing email: the one way any part of the service sends a message.

queue_message() renders the message, runs the privacy guard, and adds the outbox row to the
caller's session, so the message commits or rolls back with the change that caused it. The
idempotency key is unique: queueing the same key again is a no-op, so a retried job or a double
click can never send twice.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Mapping

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from ..clock import utcnow
from .catalogue import message_kind, render_message
from .models import Alert, MessageStatus, OutboxMessage
from .privacy import check_message


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(OutboxMessage)


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
    """Queue one email in the caller's transaction. True if queued now, False if the key already was.

    A message the privacy guard refuses is recorded as blocked (without its body) and the LA's
    coordinators are alerted (admins, for a message of no LA), who can fix what it came from; it is
    never sent.
    """
    rendered = render_message(kind, context)
    violations = check_message(rendered, context)
    now = utcnow()
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "la_id": la_id,
        "idempotency_key": key,
        "kind": kind,
        "recipients": json.dumps(sorted(set(to))),
        "subject": rendered.subject,
        "body_html": rendered.html,
        "body_text": rendered.text,
        "status": MessageStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "assignment_id": assignment_id,
    }
    if violations:
        reasons = "; ".join(sorted({violation.rule for violation in violations}))
        row.update(status=MessageStatus.BLOCKED, body_html="", body_text="", last_error=f"privacy guard: {reasons}", failed_at=now)
    statement = (
        _insert(session).values(**row).on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )
    # RETURNING, not rowcount: through the ORM, PostgreSQL's driver reports a rowcount of -1 here.
    inserted = session.connection().execute(statement).first() is not None
    if inserted and violations:
        session.add(
            Alert(
                la_id=la_id, audience="coordinator" if la_id else "admin", kind="message_blocked",
                outbox_message_id=row["id"], message=blocked_alert_text(kind, reasons),
            )
        )
    return inserted and not violations


def blocked_alert_text(kind: str, reasons: str) -> str:
    """E.g. "An assignment email to the auditor was blocked before sending: ...". Names no one."""
    message = message_kind(kind)
    label = message.name.replace("_", " ")
    article = "An" if label[0] in "aeiou" else "A"
    return (f"{article} {label} email to the {message.audience.replace('_', ' ')} was blocked before sending because "
            f"it looked like it contained personal data ({reasons}). Check the names and text it is made from, "
            "such as the cycle's name, and correct them.")
