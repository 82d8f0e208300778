"""The development mailbox: the outbox row itself is the delivered message, shown at /dev/mailbox."""

from __future__ import annotations

from .base import DraftRecorder, OutgoingEmail, SendReceipt


class DevMailTransport:
    def send(self, email: OutgoingEmail, *, on_draft_created: DraftRecorder | None = None) -> SendReceipt:
        return SendReceipt(provider_id=f"devmail:{email.key}")

    def find_sent(self, email: OutgoingEmail) -> SendReceipt | None:
        return None  # nothing leaves the database, so "sending" again is harmless

    def describe(self) -> str:
        return "the development mailbox (kept in the database, shown to admins at /dev/mailbox)"
