"""Mail transports: the development mailbox, an SMTP relay, or Microsoft 365 (Graph)."""

from __future__ import annotations

from typing import Any, Mapping

from .base import Transport
from .devmail import DevMailTransport
from .graph import GraphSettings, GraphTransport, shared_sign_in
from .smtp import SmtpSettings, SmtpTransport


def build_transport(config: Mapping[str, Any]) -> Transport:
    """The transport MAIL_TRANSPORT names, configured from the app's settings."""
    name = config["MAIL_TRANSPORT"]
    if name == "devmail":
        return DevMailTransport()
    if name == "smtp":
        return SmtpTransport(SmtpSettings.from_config(config))
    if name == "graph":
        settings = GraphSettings.from_config(config)
        return GraphTransport(settings, sign_in=shared_sign_in(settings))
    raise ValueError(f"MAIL_TRANSPORT must be devmail, smtp or graph, not {name!r}")
