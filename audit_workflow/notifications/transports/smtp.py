"""Email through an SMTP relay: multipart text + HTML, optional STARTTLS and login.

Crash safety is weaker than with Microsoft Graph: SMTP has no drafts and no way to ask the relay
whether a message was accepted, so if the process dies after the relay accepted the DATA but before
the dispatcher recorded it, the message is sent again on restart (find_sent() always answers
None). The Message-ID is derived from the idempotency key, so such a duplicate carries the same
Message-ID and many mail systems and clients show it once.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Mapping

from .base import DraftRecorder, OutgoingEmail, PermanentFailure, SendReceipt, TemporaryFailure, TransportFailure


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_seconds: float = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        return cls(
            host=config["SMTP_HOST"],
            sender=config["MAIL_FROM"],
            port=int(config["SMTP_PORT"]),
            starttls=bool(config["SMTP_STARTTLS"]),
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            timeout_seconds=float(config["SMTP_TIMEOUT_SECONDS"]),
        )


def message_id_for(key: str, sender: str) -> str:
    """The same idempotency key always gives the same Message-ID; hashed, so the key stays private."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class SmtpTransport:
    def __init__(self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None):
        self.settings = settings
        # Certificates are checked against the system's trust store unless a context is given.
        self._tls_context = tls_context or ssl.create_default_context()

    def send(self, email: OutgoingEmail, *, on_draft_created: DraftRecorder | None = None) -> SendReceipt:
        message = self._compose(email)
        settings = self.settings
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as relay:
                if settings.starttls:
                    relay.starttls(context=self._tls_context)
                if settings.username:
                    relay.login(settings.username, settings.password)
                # Recipients the relay refuses while accepting others are not retried: the message
                # went out, and sending it again would duplicate it for everyone else.
                relay.send_message(message, from_addr=settings.sender, to_addrs=email.to)
        except (smtplib.SMTPException, OSError) as error:
            raise _failure_from(error) from None
        return SendReceipt(provider_id=message["Message-ID"])

    def find_sent(self, email: OutgoingEmail) -> SendReceipt | None:
        return None  # an SMTP relay cannot be asked what it accepted

    def describe(self) -> str:
        settings = self.settings
        security = "STARTTLS" if settings.starttls else "no TLS"
        login = f", signing in as {settings.username}" if settings.username else ""
        return f"SMTP relay {settings.host}:{settings.port} ({security}{login}), from {settings.sender}"

    def _compose(self, email: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = ", ".join(email.to)
        if email.reply_to:
            message["Reply-To"] = email.reply_to
        message["Subject"] = email.subject
        message["Date"] = format_datetime(datetime.now(timezone.utc))
        message["Message-ID"] = message_id_for(email.key, self.settings.sender)
        # RFC 3834: out-of-office replies and other robots should not answer an automatic message.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message


def _failure_from(error: smtplib.SMTPException | OSError) -> TransportFailure:
    """A 5xx refusal of this message is permanent. Everything else is temporary: 4xx replies, lost
    connections, TLS problems and refused logins (the relay's or our configuration's fault, not the
    message's; the dispatcher's give-up deadline turns a lasting one into an alert).

    Only reply codes go into the message: the relay's own text often quotes addresses."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        summary = f"the SMTP relay refused every recipient (replies {', '.join(map(str, codes))})"
        if all(code >= 500 for code in codes):
            return PermanentFailure(summary, status=codes[-1])
        return TemporaryFailure(summary, status=codes[0])
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return TemporaryFailure(f"the SMTP relay refused our login (reply {error.smtp_code})", status=error.smtp_code)
    if isinstance(error, smtplib.SMTPResponseException):
        summary = f"the SMTP relay answered {error.smtp_code} ({type(error).__name__})"
        if error.smtp_code >= 500:
            return PermanentFailure(summary, status=error.smtp_code)
        return TemporaryFailure(summary, status=error.smtp_code)
    return TemporaryFailure(f"could not talk to the SMTP relay ({type(error).__name__})")
