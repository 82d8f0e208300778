"""The configured way out: the transport MAIL_TRANSPORT names, the mailbox it sends as, and that
mailbox's limits. Building it contacts nobody; the transport signs in on its first send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping

from .throttle import MailboxLimits
from .transports import build_transport
from .transports.base import Transport

# A send is a handful of requests or SMTP commands (Graph: token, look-up, draft, send), each bounded
# by the transport's timeout; this many timeouts is the longest one send can take.
TIMEOUTS_PER_SEND = 8


@dataclass(frozen=True)
class Delivery:
    name: str  # devmail, smtp or graph
    transport: Transport
    mailbox: str  # whose limits apply: the Graph sender or the SMTP From address
    limits: MailboxLimits | None  # None: nothing leaves the database, so there is nothing to pace
    longest_send: timedelta


MAIL_NOT_DELIVERED = "Mail is not being delivered: MAIL_TRANSPORT is devmail, the development mailbox, outside demo mode"


def undelivered_warning(config: Mapping[str, Any]) -> str | None:
    """A warning when email goes nowhere: the development mailbox on a service not in demo mode."""
    if config["MAIL_TRANSPORT"] == "devmail" and not config["DEMO_MODE"]:
        return MAIL_NOT_DELIVERED
    return None


def delivery_from_config(config: Mapping[str, Any]) -> Delivery:
    name = config["MAIL_TRANSPORT"]
    transport = build_transport(config)
    if name == "devmail":
        # Sending is a no-op (the outbox row is the delivered message).
        return Delivery(name, transport, mailbox="devmail", limits=None, longest_send=timedelta(seconds=1))
    mailbox, timeout = (
        (config["GRAPH_SENDER"], config["GRAPH_TIMEOUT_SECONDS"]) if name == "graph"
        else (config["MAIL_FROM"], config["SMTP_TIMEOUT_SECONDS"])
    )
    return Delivery(
        name, transport, mailbox=mailbox.lower(), limits=MailboxLimits.from_config(config),
        longest_send=timedelta(seconds=TIMEOUTS_PER_SEND * float(timeout)),
    )
