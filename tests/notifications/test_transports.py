"""Choosing the transport from the settings, and the development mailbox."""

from __future__ import annotations

import pytest
import responses

from audit_workflow.notifications.transports import build_transport
from audit_workflow.notifications.transports.base import OutgoingEmail, SendReceipt
from audit_workflow.notifications.transports.devmail import DevMailTransport
from audit_workflow.notifications.transports.graph import GraphTransport
from audit_workflow.notifications.transports.smtp import SmtpTransport

CONFIG = {
    "MAIL_FROM": "ehcp-audit@example.gov.uk",
    "SMTP_HOST": "localhost", "SMTP_PORT": 25, "SMTP_STARTTLS": False, "SMTP_USERNAME": "", "SMTP_PASSWORD": "",
    "SMTP_TIMEOUT_SECONDS": 30,
    "GRAPH_TENANT_ID": "tenant", "GRAPH_CLIENT_ID": "client", "GRAPH_CLIENT_SECRET": "secret",
    "GRAPH_SENDER": "ehcp-audit@example.gov.uk", "GRAPH_ENDPOINT": "https://graph.microsoft.com",
    "GRAPH_AUTHORITY_HOST": "https://login.microsoftonline.com",
}


@pytest.mark.parametrize(("name", "transport_type"), [
    ("devmail", DevMailTransport), ("smtp", SmtpTransport), ("graph", GraphTransport),
])
def test_the_setting_chooses_the_transport_without_contacting_it(name, transport_type):
    with responses.RequestsMock() as mock:  # refuses any request
        assert isinstance(build_transport({**CONFIG, "MAIL_TRANSPORT": name}), transport_type)
        assert len(mock.calls) == 0


def test_an_unknown_transport_is_a_configuration_error():
    with pytest.raises(ValueError, match="MAIL_TRANSPORT must be devmail, smtp or graph"):
        build_transport({**CONFIG, "MAIL_TRANSPORT": "carrier-pigeon"})


def test_the_development_mailbox_only_acknowledges():
    email = OutgoingEmail(key="assignment:1:assigned", to=["a@example.gov.uk"], subject="S", html="<p>H</p>", text="H")
    transport = DevMailTransport()
    assert transport.send(email) == SendReceipt("devmail:assignment:1:assigned")
    assert transport.find_sent(email) is None
    assert "development mailbox" in transport.describe()
