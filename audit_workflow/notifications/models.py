import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, Index, SQLModel

from ..modelling import actor_field, created_field, id_field


class MessageStatus(StrEnum):
    """After GOV.UK Notify's states. Graph's 202 means "accepted", which is what `sent` records."""

    QUEUED = "queued"  # Notify's "created": waiting for the dispatcher
    SENDING = "sending"  # claimed by one dispatcher
    RETRYING = "retrying"  # a temporary failure; next_attempt_at says when
    SENT = "sent"
    PERMANENT_FAILURE = "permanent_failure"  # refused by the provider (bad address, 4xx)
    TECHNICAL_FAILURE = "technical_failure"  # gave up after the retry window
    BLOCKED = "blocked"  # the privacy guard stopped it before it was queued
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset(
    {MessageStatus.SENT, MessageStatus.PERMANENT_FAILURE, MessageStatus.TECHNICAL_FAILURE,
     MessageStatus.BLOCKED, MessageStatus.CANCELLED}
)
WAITING_STATUSES = (MessageStatus.QUEUED, MessageStatus.RETRYING)  # for the dispatcher, once due
FAILED_STATUSES = (MessageStatus.PERMANENT_FAILURE, MessageStatus.TECHNICAL_FAILURE)
UNSENT_STATUSES = (*WAITING_STATUSES, MessageStatus.SENDING)  # not yet final


class OutboxMessage(SQLModel, table=True):
    """An email, written in the same transaction as the change that caused it (transactional outbox)."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: uuid.UUID = id_field()
    la_id: uuid.UUID | None = Field(default=None, foreign_key="local_authority.id", index=True, ondelete="CASCADE")
    # e.g. "assignment:<id>:reminder:2026-12-01": a retried job can never queue the same message twice.
    idempotency_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)
    # Purged after the retention period (status, timestamps and key stay).
    recipients: str = Field(default="[]", description="JSON list of addresses")
    subject: str = Field(default="", max_length=300)
    body_html: str = ""
    body_text: str = ""
    status: str = Field(default=MessageStatus.QUEUED, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = created_field()
    claimed_by: str | None = Field(default=None, max_length=100)
    claim_expires_at: datetime | None = None
    # Crash safety: the provider's draft id is recorded before the send, and looked up after a crash.
    draft_id: str | None = Field(default=None, max_length=400)
    provider_id: str | None = Field(default=None, max_length=400)
    last_error: str | None = Field(default=None, max_length=1000)
    assignment_id: uuid.UUID | None = Field(default=None, foreign_key="assignment.id", index=True, ondelete="SET NULL")
    created_at: datetime = created_field()
    # Set when an admin sends a failed message again: the give-up window starts afresh from here.
    requeued_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    purged_at: datetime | None = None


class Alert(SQLModel, table=True):
    """Something a person must act on, shown in the app: a message that failed, a blocked message."""

    __tablename__ = "alert"

    id: uuid.UUID = id_field()
    la_id: uuid.UUID | None = Field(default=None, foreign_key="local_authority.id", index=True, ondelete="CASCADE")
    audience: str = Field(max_length=20, description="the role that should see it: coordinator or admin")
    kind: str = Field(max_length=40)
    message: str = Field(max_length=1000)
    outbox_message_id: uuid.UUID | None = Field(default=None, foreign_key="outbox_message.id", ondelete="SET NULL")
    created_at: datetime = created_field()
    resolved_at: datetime | None = None
    resolved_by_id: uuid.UUID | None = actor_field()


class MailThrottle(SQLModel, table=True):
    """One row per sending mailbox: the earliest moment its next send may start (notifications/throttle.py)."""

    __tablename__ = "mail_throttle"

    mailbox: str = Field(primary_key=True, max_length=254)
    next_send_at: datetime


class MailSendSlot(SQLModel, table=True):
    """One send started from a mailbox in the last 24 hours: the rolling recipient count, and while
    busy_until lies ahead, one of the mailbox's concurrent requests."""

    __tablename__ = "mail_send_slot"
    __table_args__ = (Index("ix_mail_send_slot_mailbox_started", "mailbox", "started_at"),)

    id: uuid.UUID = id_field()
    mailbox: str = Field(max_length=254)
    started_at: datetime
    recipients: int
    # Cleared when the send is recorded; a dispatcher that died frees its slot when this passes.
    busy_until: datetime | None = None
