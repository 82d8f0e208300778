"""The dispatcher: takes due messages from the outbox and hands them to the configured transport.

dispatch_due() is a plain function: the scheduler's dispatch job, `audit-workflow mail dispatch`
and the tests call it, as many at once as they like. Each message passes through short
transactions, never one long one:

1. Claim. Due rows (queued or retrying whose next_attempt_at has come, or sending whose claim has
   expired because their dispatcher died) become `sending`, claimed by this run until
   claim_expires_at, in one UPDATE ... WHERE id IN (SELECT ... LIMIT n) ... RETURNING. PostgreSQL
   skips rows another dispatcher is claiming (FOR UPDATE SKIP LOCKED); SQLite takes its write lock
   up front. The claim commits before anything is sent. The lease covers one message's send (plus
   a short throttle wait), not the batch's: a killed dispatcher strands its untried rows only that
   long.
2. Send, outside any transaction, once the mailbox throttle grants a slot. Just before the send
   the claim is renewed for one more send; a renewal that finds the row no longer ours (our lease
   ran out while earlier messages of the batch were sent, and another run took it) skips it.
   Through Graph the transport creates a draft and the dispatcher commits its id before the draft
   is sent.
3. Record the outcome. Every update of a claimed row says WHERE status='sending' AND
   claimed_by=<this run>: a run that lost its claim changes nothing, and no final status
   (sent, permanent_failure, technical_failure, blocked, cancelled) is ever left.

Crash safety (at least once): a killed dispatcher leaves its rows `sending` until their claim
expires; then any run claims them again. With a recorded Graph draft id the transport first finds
out what became of that draft, so a message that went is recorded as sent rather than sent twice.
Without one (no draft was recorded, or SMTP, which cannot be asked) the message is sent again: a
crash between an SMTP relay accepting a message and the commit duplicates it.

Outcomes. A temporary failure goes to `retrying` at a time from retry.next_attempt_at()
(exponential back-off with jitter, never before the provider's Retry-After, which also holds back
the whole mailbox). A permanent failure (a 4xx other than 408/429) goes to permanent_failure. A
temporary failure once MAIL_GIVE_UP_HOURS have passed since the message was queued goes to
technical_failure, but only once it has also had as many attempts as the back-off schedule makes
within that window (retry.scheduled_attempts): after an outage longer than the window, a message
still gets its full schedule of tries once delivery resumes, not one. The last retry is timed for
the deadline. Both failures raise an alert for the LA's coordinators.

Waiting. The throttle answers "not yet, wait n seconds". A run sleeps through short waits holding
its claims, and releases them before longer ones, so no row stays claimed while nothing happens.
A scheduler job's run must not sleep for long: it returns as soon as the next send lies beyond its
time budget (max_seconds) and the next tick carries on. `mail dispatch --until-empty` passes no
budget and until_empty=True, and so also sleeps until retries fall due and until other runs'
claims expire (taking over the rows of a dispatcher that died), so it returns only when no
message is queued, retrying or sending.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Callable, Mapping

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.engine import Engine

from ..authorities.models import LocalAuthority
from ..clock import utcnow
from ..db import is_sqlite, session_scope
from . import throttle
from .catalogue import message_kind
from .delivery import Delivery, delivery_from_config
from .models import FAILED_STATUSES, UNSENT_STATUSES, WAITING_STATUSES, Alert, MessageStatus, OutboxMessage
from .retry import Outcome, classify_failure, next_attempt_at, scheduled_attempts
from .transports.base import OutgoingEmail, PermanentFailure, SendReceipt, TemporaryFailure, TransportFailure

log = logging.getLogger(__name__)

CLAIM_BATCH = 4
# Throttle waits up to this long are slept with the batch still claimed; longer ones release it first.
HOLD_CLAIMS_SECONDS = 5.0
# A scheduler job's run returns rather than sleep past this, and the next tick carries on. Keep it
# below the dispatch job's interval (30 s, scheduler/runner.py), so runs never overlap, but close to
# it: between runs nothing is sent, and a backlog should drain at the mailbox's rate.
JOB_MAX_SECONDS = 25.0

Clock = Callable[[], datetime]


class ClaimLost(Exception):
    """Another dispatcher took this message over (our claim had expired): leave it to them."""


@dataclass(frozen=True)
class ClaimedMessage:
    id: uuid.UUID
    la_id: uuid.UUID | None
    kind: str
    key: str
    recipients: list[str]
    subject: str
    html: str
    text: str
    draft_id: str | None
    attempts: int  # before this one
    window_opened_at: datetime  # the give-up window runs from here
    next_attempt_at: datetime


_CLAIMED_COLUMNS = (
    OutboxMessage.id, OutboxMessage.la_id, OutboxMessage.kind, OutboxMessage.idempotency_key,
    OutboxMessage.recipients, OutboxMessage.subject, OutboxMessage.body_html, OutboxMessage.body_text,
    OutboxMessage.draft_id, OutboxMessage.attempts, func.coalesce(OutboxMessage.requeued_at, OutboxMessage.created_at),
    OutboxMessage.next_attempt_at,
)


def dispatch_due(
    engine: Engine,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    limit: int | None = None,
    worker_id: str | None = None,
    until_empty: bool = False,
    max_seconds: float | None = JOB_MAX_SECONDS,
    delivery: Delivery | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Send what is due; returns how many messages reached each status in this run.

    now: pretend the run starts then (time passes as usual from there). limit: at most this many
    messages. until_empty: also wait for retries to fall due, until nothing is queued or retrying.
    max_seconds: stop rather than sleep past this many seconds from the start (None: no limit).
    """
    run = _Run(
        engine, config, delivery or delivery_from_config(config), worker_id or _new_worker_id(),
        _clock_from(now), sleep, max_seconds,
    )
    return run.run(limit=limit, until_empty=until_empty)


def send_now(engine: Engine, config: Mapping[str, Any], message_id: uuid.UUID, *,
             delivery: Delivery | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """Send one queued message in the foreground (`mail test`), waiting for the throttle if need be."""
    run = _Run(engine, config, delivery or delivery_from_config(config), _new_worker_id(), utcnow, sleep,
               max_seconds=None, only_id=message_id)
    run.run(limit=1, until_empty=False)


def claim_due(engine: Engine, now: datetime, worker_id: str, lease: timedelta, size: int,
              only_id: uuid.UUID | None = None) -> list[ClaimedMessage]:
    """Claim up to `size` due messages for `worker_id` until now + lease, committed; oldest due first,
    then by key."""
    due = select(OutboxMessage.id).where(
        or_(
            and_(OutboxMessage.status.in_(WAITING_STATUSES), OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.claim_expires_at <= now),
        )
    )
    if only_id is not None:
        due = due.where(OutboxMessage.id == only_id)
    # The key breaks ties, so messages due at the same moment (a bulk allocation) go in the same order
    # on every database.
    due = due.order_by(OutboxMessage.next_attempt_at, OutboxMessage.idempotency_key).limit(size)
    if not is_sqlite(engine):
        due = due.with_for_update(skip_locked=True)
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(status=MessageStatus.SENDING, claimed_by=worker_id, claim_expires_at=now + lease)
        .returning(*_CLAIMED_COLUMNS)
    )
    with session_scope(engine, immediate=True) as session:
        rows = session.connection().execute(claim).all()
    messages = [ClaimedMessage(*row[:4], json.loads(row[4]), *row[5:]) for row in rows]
    return sorted(messages, key=lambda message: (message.next_attempt_at, message.key))  # RETURNING has no order


def release(engine: Engine, message_ids: list[uuid.UUID], worker_id: str) -> None:
    """Give claimed messages back unsent, due at once, for any dispatcher to claim."""
    with session_scope(engine, immediate=True) as session:
        session.connection().execute(
            _claimed_by(worker_id, message_ids).values(
                status=case((OutboxMessage.attempts == 0, MessageStatus.QUEUED), else_=MessageStatus.RETRYING),
                claimed_by=None, claim_expires_at=None,
            )
        )


def _claimed_by(worker_id: str, message_ids: list[uuid.UUID]):
    """UPDATE of these messages, only while this run still holds their claim."""
    return update(OutboxMessage).where(
        OutboxMessage.id.in_(message_ids), OutboxMessage.status == MessageStatus.SENDING,
        OutboxMessage.claimed_by == worker_id,
    )


def _new_worker_id() -> str:
    # Unique per run, even for several threads of one process: the claim is what makes a run exclusive.
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _clock_from(now: datetime | None) -> Clock:
    if now is None:
        return utcnow
    offset = now - utcnow()
    return lambda: utcnow() + offset


class _Run:
    def __init__(self, engine: Engine, config: Mapping[str, Any], delivery: Delivery, worker_id: str,
                 clock: Clock, sleep: Callable[[float], None], max_seconds: float | None,
                 only_id: uuid.UUID | None = None):
        self.engine = engine
        self.delivery = delivery
        self.worker_id = worker_id
        self.clock = clock
        self.sleep = sleep
        self.max_seconds = max_seconds
        self.only_id = only_id
        self.give_up_after = timedelta(hours=float(config["MAIL_GIVE_UP_HOURS"]))
        # Long enough for one throttle wait and one send; renewed as each message's send starts.
        self.claim_lease = timedelta(seconds=HOLD_CLAIMS_SECONDS) + delivery.longest_send
        self.attempts_before_giving_up = scheduled_attempts(self.give_up_after)
        self.started_at = clock()
        self.counts: Counter[str] = Counter()
        self.reply_to_by_la: dict[uuid.UUID | None, str | None] = {None: None}

    def run(self, *, limit: int | None, until_empty: bool) -> dict[str, int]:
        handled = 0
        while limit is None or handled < limit:
            size = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - handled)
            batch = claim_due(self.engine, self.clock(), self.worker_id, self.claim_lease, size, self.only_id)
            if not batch:
                wait = self._seconds_until_next_due() if until_empty else None
                if wait is None or not self._may_sleep(wait):
                    break
                self.sleep(wait)
                continue
            delivered, wait = self._deliver_batch(batch)
            handled += delivered
            if wait is not None:
                if not self._may_sleep(wait):
                    break
                self.sleep(wait)
        return dict(self.counts)

    def _deliver_batch(self, batch: list[ClaimedMessage]) -> tuple[int, float | None]:
        """Deliver the batch in order; on a long throttle wait, release the rest and say how long."""
        for index, message in enumerate(batch):
            permit = self._permit_for(message)
            if isinstance(permit, throttle.Wait):
                release(self.engine, [unsent.id for unsent in batch[index:]], self.worker_id)
                log.info("mail dispatcher: waiting %.1f s for the mailbox (%s)", permit.seconds, permit.reason)
                return index, permit.seconds
            if self._renew_claim(message):
                self._deliver(message, permit)
            else:
                self._record(message, None, permit)
        return len(batch), None

    def _renew_claim(self, message: ClaimedMessage) -> bool:
        """Extend our claim on the message for one send; False if it is no longer ours."""
        with session_scope(self.engine, immediate=True) as session:
            renewed = session.connection().execute(
                _claimed_by(self.worker_id, [message.id]).values(claim_expires_at=self.clock() + self.delivery.longest_send)
            ).rowcount
        if renewed != 1:
            log.info("mail dispatcher: outbox %s was taken over by another dispatcher; skipped", message.id)
        return renewed == 1

    def _permit_for(self, message: ClaimedMessage) -> throttle.SendPermit | throttle.Wait | None:
        """A throttle permit, once its moment has come; a Wait if that is further off than we may sleep
        holding claims; None when the transport has no limits."""
        limits = self.delivery.limits
        if limits is None:
            return None
        while True:
            horizon = self._sleep_allowance(HOLD_CLAIMS_SECONDS)
            now = self.clock()
            answer = throttle.request_send(
                self.engine, self.delivery.mailbox, limits, len(message.recipients), now,
                busy_for=self.delivery.longest_send, reserve_within=timedelta(seconds=horizon),
            )
            if isinstance(answer, throttle.SendPermit):
                if answer.starts_at > now:
                    self.sleep((answer.starts_at - now).total_seconds())
                return answer
            if answer.seconds > horizon:
                return answer
            self.sleep(answer.seconds)

    def _deliver(self, message: ClaimedMessage, permit: throttle.SendPermit | None) -> None:
        email = OutgoingEmail(
            key=message.key, to=message.recipients, subject=message.subject, html=message.html, text=message.text,
            reply_to=self._reply_to(message.la_id), draft_id=message.draft_id,
        )
        outcome: SendReceipt | TransportFailure | None
        try:
            outcome = self.delivery.transport.send(email, on_draft_created=partial(self._record_draft, message))
        except ClaimLost:
            outcome = None
        except TransportFailure as failure:
            outcome = failure
        except Exception as error:  # a fault in the transport must not leave the row claimed
            log.exception("mail dispatcher: unexpected %s sending outbox %s", type(error).__name__, message.id)
            reason = f"unexpected error in the mail transport ({type(error).__name__})"
            temporary = classify_failure(None, error) is Outcome.TEMPORARY
            outcome = TemporaryFailure(reason) if temporary else PermanentFailure(reason)
        self._record(message, outcome, permit)

    def _record_draft(self, message: ClaimedMessage, draft_id: str) -> None:
        """Commit the provider's draft id before the draft is sent (the crash-safety handshake)."""
        with session_scope(self.engine, immediate=True) as session:
            recorded = session.connection().execute(_claimed_by(self.worker_id, [message.id]).values(draft_id=draft_id)).rowcount
        if recorded != 1:
            raise ClaimLost(message.id)

    def _record(self, message: ClaimedMessage, outcome: SendReceipt | TransportFailure | None,
                permit: throttle.SendPermit | None) -> None:
        now = self.clock()
        with session_scope(self.engine, immediate=True) as session:
            if permit is not None:
                throttle.finish_send(session, permit)
            if outcome is None:
                return
            if isinstance(outcome, TemporaryFailure) and outcome.retry_after:
                throttle.hold_off(session, self.delivery.mailbox, now + timedelta(seconds=outcome.retry_after))
            values = self._outcome_values(message, outcome, now)
            applied = session.connection().execute(
                _claimed_by(self.worker_id, [message.id]).values(
                    attempts=OutboxMessage.attempts + 1, claimed_by=None, claim_expires_at=None, **values
                )
            ).rowcount == 1
            if applied and values["status"] in FAILED_STATUSES:
                session.add(_failure_alert(message, values["status"], values["last_error"]))
        if applied:
            self.counts[values["status"]] += 1
            log.info("outbox %s (%s): %s after %d attempt(s)%s", message.id, message.kind, values["status"],
                     message.attempts + 1, f": {values['last_error']}" if values["last_error"] else "")

    def _outcome_values(self, message: ClaimedMessage, outcome: SendReceipt | TransportFailure,
                        now: datetime) -> dict[str, Any]:
        if isinstance(outcome, SendReceipt):
            return {"status": MessageStatus.SENT, "sent_at": now, "provider_id": outcome.provider_id, "last_error": None}
        deadline = message.window_opened_at + self.give_up_after
        if isinstance(outcome, PermanentFailure):
            return {"status": MessageStatus.PERMANENT_FAILURE, "failed_at": now, "last_error": outcome.message}
        if now >= deadline and message.attempts + 1 >= self.attempts_before_giving_up:
            hours = self.give_up_after.total_seconds() / 3600
            return {"status": MessageStatus.TECHNICAL_FAILURE, "failed_at": now,
                    "last_error": f"not sent within {hours:g} hours; last error: {outcome.message}"[:1000]}
        retry_at = next_attempt_at(now, message.attempts + 1, outcome.retry_after, random)
        if deadline > now:
            # The last try falls on the deadline, unless the provider asked us to wait longer than that.
            earliest = now + timedelta(seconds=outcome.retry_after or 0)
            retry_at = max(min(retry_at, deadline), earliest)
        return {"status": MessageStatus.RETRYING, "next_attempt_at": retry_at, "last_error": outcome.message}

    def _reply_to(self, la_id: uuid.UUID | None) -> str | None:
        """Replies go to the LA's SEND quality team, not to the service's mailbox."""
        if la_id not in self.reply_to_by_la:
            with session_scope(self.engine) as session:
                la = session.get(LocalAuthority, la_id)
                self.reply_to_by_la[la_id] = la.contact_email if la else None
        return self.reply_to_by_la[la_id]

    def _seconds_until_next_due(self) -> float | None:
        """How long until the next queued or retrying message falls due, or the next claim of a
        `sending` message expires (its dispatcher may have died); None when there is neither."""
        due_at = case(
            (OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.claim_expires_at),
            else_=OutboxMessage.next_attempt_at,
        )
        query = select(func.min(due_at)).where(OutboxMessage.status.in_(UNSENT_STATUSES))
        if self.only_id is not None:
            query = query.where(OutboxMessage.id == self.only_id)
        with session_scope(self.engine) as session:
            next_due = session.execute(query).scalar_one()
        return None if next_due is None else max(0.0, (next_due - self.clock()).total_seconds())

    def _may_sleep(self, seconds: float) -> bool:
        return seconds <= self._sleep_allowance(seconds)

    def _sleep_allowance(self, wanted: float) -> float:
        """How much of `wanted` seconds this run may still sleep, within its time budget."""
        if self.max_seconds is None:
            return wanted
        return min(wanted, self.max_seconds - (self.clock() - self.started_at).total_seconds())


def _failure_alert(message: ClaimedMessage, status: str, reason: str) -> Alert:
    """Tell the LA's coordinators (admins, for messages of no LA) which message to whom failed, and why."""
    kind = message_kind(message.kind)
    label = kind.name.replace("_", " ")
    outcome = "was refused and will not be retried" if status == MessageStatus.PERMANENT_FAILURE else "could not be sent"
    return Alert(
        la_id=message.la_id,
        audience="coordinator" if message.la_id else "admin",
        kind="message_failed",
        outbox_message_id=message.id,
        message=f"The {label} email to the {kind.audience} {outcome}: {reason}"[:1000],
    )
