"""What people (and jobs) do with the outbox: send a failed message again, cancel one, resolve an
alert, purge old message content, test the transport.

Every change is a conditional UPDATE on the status it expects, so it can never race the
dispatcher into overwriting a final status: a message being sent cannot be cancelled, and one
that was sent meanwhile cannot be sent again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import func, select, update
from sqlmodel import Session

from ..auth.models import User
from ..cycles.models import ACTIVE_STATUSES, HELD_STATUSES, Assignment, AssignmentStatus
from ..refusals import Refused
from .models import FAILED_STATUSES, FINAL_STATUSES, UNSENT_STATUSES, WAITING_STATUSES, Alert, MessageStatus, OutboxMessage
from .outbox import queue_message
from .throttle import forget_old_sends


class OutboxActionRefused(Refused):
    """The message is not in a state that allows this; the message says why, for the user."""


def can_retry(message: OutboxMessage) -> bool:
    return message.status in FAILED_STATUSES and message.purged_at is None


def can_cancel(message: OutboxMessage) -> bool:
    return message.status in WAITING_STATUSES


# What an email about an assignment needs of it to still be true when sent again: a chase is about
# work still owed; an allocation email about a plan the auditor still holds.
STILL_TRUE_WHEN = {
    **dict.fromkeys(("reminder", "due_today", "overdue", "escalation"), ACTIVE_STATUSES),
    **dict.fromkeys(("assignment", "reassignment", "moderation_assignment"), HELD_STATUSES),
}


def retry_message(session: Session, message: OutboxMessage, user: User, now: datetime) -> None:
    """Queue a failed message again, with a fresh give-up window; its failure alert is resolved.
    Refused when the assignment it is about has moved on, so nobody is chased for work they no longer owe."""
    needed = STILL_TRUE_WHEN.get(message.kind)
    if needed is not None and message.assignment_id is not None:
        status = session.execute(select(Assignment.status).where(Assignment.id == message.assignment_id)).scalar()
        if status is not None and status not in needed:
            raise OutboxActionRefused(
                f"The audit this email is about is now {AssignmentStatus(status).replace('_', ' ')}, so sending it "
                "again would mislead its reader. It stays on record as failed."
            )
    retried = _change(
        session, message, (OutboxMessage.status.in_(FAILED_STATUSES), OutboxMessage.purged_at.is_(None)),
        status=MessageStatus.QUEUED, next_attempt_at=now, requeued_at=now, failed_at=None,
    )
    if not retried:
        raise OutboxActionRefused("Only a failed message whose content has not yet been deleted can be sent again.")
    session.execute(
        update(Alert)
        .where(Alert.outbox_message_id == message.id, Alert.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=user.id)
    )


def cancel_message(session: Session, message: OutboxMessage) -> None:
    if not _change(session, message, (OutboxMessage.status.in_(WAITING_STATUSES),), status=MessageStatus.CANCELLED):
        raise OutboxActionRefused("Only a message that is waiting to be sent can be cancelled.")


def resolve_alert(session: Session, alert: Alert, user: User, now: datetime) -> None:
    """Mark the alert dealt with. Resolving it twice keeps the first resolution."""
    session.execute(
        update(Alert).where(Alert.id == alert.id, Alert.resolved_at.is_(None)).values(resolved_at=now, resolved_by_id=user.id)
    )
    session.flush()
    session.refresh(alert)


def purge_expired(session: Session, now: datetime, retention_days: int) -> int:
    """Delete the content and addresses of messages that reached a final status and were queued more
    than `retention_days` ago; status, timestamps, key and provider ids stay. Returns how many.
    Also forgets the rate limit's records of sends older than a day."""
    forget_old_sends(session, now)
    purged = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(FINAL_STATUSES),
            OutboxMessage.purged_at.is_(None),
            OutboxMessage.created_at <= now - timedelta(days=retention_days),
        )
        .values(recipients="[]", subject="", body_html="", body_text="", purged_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.flush()
    return purged


def status_counts(session: Session, *where) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count()).where(*where).group_by(OutboxMessage.status)
    ).all()
    return {status: count for status, count in rows}


def unsent_counts(session: Session) -> dict[str, int]:
    """How many messages are queued, retrying or being sent (those left out say nothing)."""
    return status_counts(session, OutboxMessage.status.in_(UNSENT_STATUSES))


def health(session: Session, transport_name: str, now: datetime, warning: str | None = None) -> dict[str, Any]:
    """For /healthz: the transport, what is waiting or being sent, and what failed in the last day;
    status "warning" (with the warning) when mail is not being delivered."""
    unsent = unsent_counts(session)
    failed = status_counts(session, OutboxMessage.status.in_(FAILED_STATUSES), OutboxMessage.failed_at > now - timedelta(days=1))
    return {
        "status": "warning" if warning else "ok",
        **({"warning": warning} if warning else {}),
        "transport": transport_name,
        "queued": unsent.get(MessageStatus.QUEUED, 0),
        "retrying": unsent.get(MessageStatus.RETRYING, 0),
        "sending": unsent.get(MessageStatus.SENDING, 0),
        "failed_last_24h": sum(failed.values()),
    }


def queue_test_message(session: Session, to: str, config: Mapping[str, Any], transport_description: str,
                       now: datetime) -> uuid.UUID:
    """Queue a `test_message` for `mail test` (of no LA, so only admins see it); its outbox id."""
    key = f"mail-test:{uuid.uuid4()}"
    context = {
        "service_name": config["SERVICE_NAME"],
        "la": {"name": config["SERVICE_NAME"], "contact_email": None},
        "transport": transport_description,
        "sent_at": now,
    }
    queue_message(session, kind="test_message", to=[to], context=context, key=key, la_id=None)
    return session.execute(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)).scalar_one()


def _change(session: Session, message: OutboxMessage, expected, **values) -> bool:
    """Update the message only if it is still in the expected state; whether it was."""
    changed = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id, *expected).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.flush()
    session.refresh(message)
    return changed
