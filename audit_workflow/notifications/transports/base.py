"""What every mail transport offers the dispatcher, and how it reports failure.

The draft-id handshake (crash safety, docs/checks.md#check-1). For each outbox row the dispatcher calls

    receipt = transport.send(email, on_draft_created=record_draft_id)

with `email.draft_id` set to the row's recorded draft id (None on a first attempt).

- A transport that works with drafts (Microsoft Graph) creates the draft, calls
  `on_draft_created(draft_id)` and only then sends. The callback must make the id durable
  (commit it) before returning; if it raises, nothing is sent and its exception propagates.
- Given a recorded draft id, `send` first finds out what became of that attempt: already sent
  (the receipt is returned and nothing is sent again), still a draft (that draft is sent), or
  gone (a new draft is made). So the dispatcher simply calls `send` again after a crash or an
  uncertain failure, passing the draft id it recorded.
- `find_sent(email)` answers the same question without sending: a receipt if the provider shows
  the message went out, None if there is no such evidence. SMTP and the development mailbox can
  never show it, so for them None means "unknown" and resending may duplicate.

Failures are TemporaryFailure (retry later, not before `retry_after` seconds when given) or
PermanentFailure (mark the message failed). Their messages never carry addresses or content:
they are stored in the outbox and logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

DraftRecorder = Callable[[str], None]


@dataclass(frozen=True)
class OutgoingEmail:
    key: str  # the outbox idempotency key: the same message always has the same key
    to: list[str]
    subject: str
    html: str
    text: str
    reply_to: str | None = None
    draft_id: str | None = None  # the provider's draft recorded by an earlier attempt


@dataclass(frozen=True)
class SendReceipt:
    provider_id: str | None  # the provider's id for the sent message, if it gives one


class TransportFailure(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class TemporaryFailure(TransportFailure):
    """Try again later; `retry_after` is the provider's minimum wait in seconds, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message, status)
        self.retry_after = retry_after


class PermanentFailure(TransportFailure):
    """The provider refused this message; sending it again would fail the same way."""


class Transport(Protocol):
    def send(self, email: OutgoingEmail, *, on_draft_created: DraftRecorder | None = None) -> SendReceipt:
        """Send once, or confirm an earlier attempt already did; raise a TransportFailure otherwise."""
        ...

    def find_sent(self, email: OutgoingEmail) -> SendReceipt | None:
        """A receipt if the provider shows this message was sent, else None (may raise TemporaryFailure)."""
        ...

    def describe(self) -> str:
        """Where mail goes, for admins and `mail test`; never a secret."""
        ...
