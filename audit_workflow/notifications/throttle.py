"""The per-mailbox rate limit, shared by every dispatcher process through the database.

Exchange Online lets a mailbox send 30 messages a minute and to 10,000 recipients in any 24 hours,
and Graph serves 4 concurrent requests (MAIL_RATE_PER_MINUTE, MAIL_RECIPIENTS_PER_DAY,
MAIL_CONCURRENT_REQUESTS). Going over draws 429s, so every dispatcher asks here before each send:

- `mail_throttle` holds, per mailbox, the earliest moment the next send may start. Sends are spaced
  evenly, 60 / rate seconds apart, so a backlog drains smoothly instead of in bursts; a provider's
  Retry-After pushes that moment back for the whole mailbox (hold_off).
- `mail_send_slot` holds one row per send started in the last 24 hours: their recipients make the
  rolling daily count, and those still busy the count of concurrent requests. A slot stops being
  busy when its outcome is recorded (finish_send), or when its lease runs out if its dispatcher died.
  Rows older than a day no longer count; the daily retention purge deletes them (forget_old_sends).

request_send() decides under a lock on the mailbox's row (SELECT ... FOR UPDATE on PostgreSQL,
SQLite's write lock taken up front) and advances next_send_at in the same transaction, so two
dispatchers never take the same slot. It never sleeps: it answers with a permit (for now, or for a
slot a few seconds ahead) or with how long to wait, and the dispatcher decides whether to wait.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..db import is_sqlite, session_scope
from .models import MailSendSlot, MailThrottle

ROLLING_DAY = timedelta(hours=24)
# While every concurrent request is in use, look again this soon: a send takes well under a second.
BUSY_RECHECK_SECONDS = 0.2
SPACING_MARGIN = 1.02  # see MailboxLimits.spacing


@dataclass(frozen=True)
class MailboxLimits:
    rate_per_minute: int
    recipients_per_day: int
    concurrent_requests: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailboxLimits:
        return cls(
            rate_per_minute=int(config["MAIL_RATE_PER_MINUTE"]),
            recipients_per_day=int(config["MAIL_RECIPIENTS_PER_DAY"]),
            concurrent_requests=int(config["MAIL_CONCURRENT_REQUESTS"]),
        )

    @property
    def spacing(self) -> timedelta:
        # 2% over the exact interval: a send that leaves a little late must not land within the
        # provider's minute of the one after it (measured: the 121st of a run drew a 429 without it).
        return timedelta(minutes=1) / self.rate_per_minute * SPACING_MARGIN


@dataclass(frozen=True)
class SendPermit:
    slot_id: uuid.UUID
    starts_at: datetime  # the send may start then, not before


@dataclass(frozen=True)
class Wait:
    seconds: float
    reason: str  # which limit: for the log


def request_send(
    engine: Engine, mailbox: str, limits: MailboxLimits, recipients: int, now: datetime, busy_for: timedelta,
    reserve_within: timedelta = timedelta(0),
) -> SendPermit | Wait:
    """A permit for one send to `recipients` addresses, or how long to wait before asking again.

    The permit is for the mailbox's next free moment if that is at most `reserve_within` away (so a
    dispatcher asks once per send, then sleeps until its slot). `busy_for` is the longest a send
    can take: the slot counts as busy for that long unless finish_send() frees it sooner.
    """
    with session_scope(engine, immediate=True) as session:
        # Core statements on the session's connection: this runs before every send, and the ORM
        # would add nothing but time.
        connection = session.connection()
        if not is_sqlite(connection):
            # Not waiting for the WAL flush is safe here: only a PostgreSQL crash can lose a commit
            # it acknowledged, and then the lost permits (the last fraction of a second's) only make
            # the mailbox's counts short by the sends they allowed. The provider's 429 and Retry-After
            # (hold_off) still bound the rate, and no email is lost or sent twice: the outbox's
            # claim and outcome commits stay durable. It saves a disk flush on every send.
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
        starts_at = max(_lock_mailbox(connection, mailbox, now), now)
        if starts_at - now > reserve_within:
            return Wait((starts_at - now).total_seconds(), "messages per minute")
        busy, sent_today, oldest = connection.execute(
            select(
                func.count(case((MailSendSlot.busy_until > now, 1))),
                func.coalesce(func.sum(MailSendSlot.recipients), 0),
                func.min(MailSendSlot.started_at),
            ).where(MailSendSlot.mailbox == mailbox, MailSendSlot.started_at > starts_at - ROLLING_DAY)
        ).one()
        if busy >= limits.concurrent_requests:
            return Wait(BUSY_RECHECK_SECONDS, "concurrent requests")
        # A single message bigger than the whole allowance still goes once the window is empty.
        if oldest is not None and sent_today + recipients > limits.recipients_per_day:
            return Wait((oldest + ROLLING_DAY - now).total_seconds(), "recipients per day")
        connection.execute(
            update(MailThrottle).where(MailThrottle.mailbox == mailbox).values(next_send_at=starts_at + limits.spacing)
        )
        slot_id = uuid.uuid4()
        connection.execute(
            insert(MailSendSlot).values(id=slot_id, mailbox=mailbox, started_at=starts_at, recipients=recipients,
                                        busy_until=starts_at + busy_for)
        )
        return SendPermit(slot_id, starts_at)


def finish_send(session: Session, permit: SendPermit) -> None:
    """The send is over: its slot no longer counts as a concurrent request (it still counts for the day)."""
    session.connection().execute(update(MailSendSlot).where(MailSendSlot.id == permit.slot_id).values(busy_until=None))


def hold_off(session: Session, mailbox: str, until: datetime) -> None:
    """The provider asked us to wait (Retry-After): no dispatcher sends as this mailbox before `until`.
    Only ever moves the next send later, so concurrent hold-offs keep the latest."""
    session.connection().execute(
        update(MailThrottle)
        .where(MailThrottle.mailbox == mailbox, MailThrottle.next_send_at < until)
        .values(next_send_at=until)
    )


def forget_old_sends(session: Session, now: datetime) -> int:
    """Delete the records of sends that have left the rolling day (the retention purge calls this)."""
    return session.execute(delete(MailSendSlot).where(MailSendSlot.started_at <= now - ROLLING_DAY)).rowcount


def _lock_mailbox(connection: Connection, mailbox: str, now: datetime) -> datetime:
    """Lock the mailbox's row, creating it on first use; its next_send_at."""
    locked = select(MailThrottle.next_send_at).where(MailThrottle.mailbox == mailbox).with_for_update()
    next_send_at = connection.execute(locked).scalar_one_or_none()
    if next_send_at is None:
        insert_new = sqlite_insert if is_sqlite(connection) else postgresql_insert
        connection.execute(
            insert_new(MailThrottle).values(mailbox=mailbox, next_send_at=now).on_conflict_do_nothing(index_elements=["mailbox"])
        )
        next_send_at = connection.execute(locked).scalar_one()
    return next_send_at
