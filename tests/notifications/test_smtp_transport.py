"""SMTP against a real aiosmtpd server on 127.0.0.1: plain, STARTTLS with a throwaway certificate,
AUTH, and the relay's refusals."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from audit_workflow.notifications.transports.base import OutgoingEmail, PermanentFailure, TemporaryFailure
from audit_workflow.notifications.transports.smtp import SmtpSettings, SmtpTransport, message_id_for
from tests.conftest import free_port

SENDER = "ehcp-audit@council.example.gov.uk"
EMAIL = OutgoingEmail(
    key="assignment:3f1c:reminder:2026-12-01",
    to=["auditor@council.example.gov.uk", "second@council.example.gov.uk"],
    subject="Reminder: audit of NM-100123 due 1 December 2026",
    html="<p>Your audit of <strong>NM-100123</strong> is due.</p>",
    text="Your audit of NM-100123 is due.",
    reply_to="send.qa@council.example.gov.uk",
)


@dataclass
class Relay:
    """What the test SMTP server received, and how it should answer."""

    received: list = field(default_factory=list)
    refuse_recipients_with: str | None = None
    refuse_data_with: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients_with:
            return self.refuse_recipients_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data_with:
            return self.refuse_data_with
        self.received.append((envelope, session))
        return "250 Message accepted"


@contextmanager
def smtp_server(relay: Relay, **smtp_parameters):
    controller = Controller(relay, hostname="127.0.0.1", port=free_port(), **smtp_parameters)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def _transport(port: int, **settings) -> SmtpTransport:
    tls_context = settings.pop("tls_context", None)
    return SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, timeout_seconds=5, **settings),
                         tls_context=tls_context)


def _parsed(relay: Relay) -> email.message.EmailMessage:
    envelope, _ = relay.received[0]
    return email.message_from_bytes(envelope.original_content, policy=email.policy.default)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, and a client context that trusts only it."""
    pytest.importorskip("cryptography", reason="needs the cryptography package to make a certificate")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    return server_context, ssl.create_default_context(cafile=str(cert_file))


def _authenticator(server, session, envelope, mechanism, auth_data):
    accepted = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"relay-user", b"relay-pass")
    # handled=False: aiosmtpd itself answers 535 to a refused login.
    return AuthResult(success=accepted, handled=False, auth_data=auth_data)


def test_a_message_arrives_with_its_headers_and_both_parts():
    relay = Relay()
    with smtp_server(relay) as port:
        receipt = _transport(port).send(EMAIL)

    envelope, _ = relay.received[0]
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == EMAIL.to
    message = _parsed(relay)
    assert message["From"] == SENDER
    assert message["To"] == "auditor@council.example.gov.uk, second@council.example.gov.uk"
    assert message["Reply-To"] == EMAIL.reply_to
    assert message["Subject"] == EMAIL.subject
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"]
    assert message["Message-ID"] == message_id_for(EMAIL.key, SENDER) == receipt.provider_id
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == EMAIL.text
    assert message.get_body(("html",)).get_content().strip() == EMAIL.html


def test_the_message_id_follows_the_key_and_hides_it():
    first, again = message_id_for(EMAIL.key, SENDER), message_id_for(EMAIL.key, SENDER)
    assert first == again != message_id_for("assignment:other", SENDER)
    assert first.endswith("@council.example.gov.uk>") and EMAIL.key not in first


def test_starttls_and_login(certificate):
    server_context, client_context = certificate
    relay = Relay()
    with smtp_server(relay, tls_context=server_context, require_starttls=True,
                     authenticator=_authenticator, auth_required=True) as port:
        _transport(port, starttls=True, username="relay-user", password="relay-pass",
                   tls_context=client_context).send(EMAIL)

    _, session = relay.received[0]
    assert session.ssl is not None, "the message should have travelled over TLS"
    assert session.auth_data.login == b"relay-user"
    assert _parsed(relay)["Subject"] == EMAIL.subject


def test_an_untrusted_certificate_is_refused(certificate):
    server_context, _ = certificate
    with smtp_server(Relay(), tls_context=server_context, require_starttls=True) as port:
        with pytest.raises(TemporaryFailure) as failure:
            _transport(port, starttls=True).send(EMAIL)  # the system trust store does not know it
    assert "SSL" in failure.value.message


ALLOW_LOGIN_WITHOUT_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@ALLOW_LOGIN_WITHOUT_TLS
def test_login_without_tls_when_the_relay_allows_it():
    relay = Relay()
    with smtp_server(relay, authenticator=_authenticator, auth_required=True, auth_require_tls=False) as port:
        _transport(port, username="relay-user", password="relay-pass").send(EMAIL)
    assert relay.received[0][1].auth_data.login == b"relay-user"


@ALLOW_LOGIN_WITHOUT_TLS
def test_a_refused_login_is_temporary():
    with smtp_server(Relay(), authenticator=_authenticator, auth_required=True, auth_require_tls=False) as port:
        with pytest.raises(TemporaryFailure) as failure:
            _transport(port, username="relay-user", password="wrong").send(EMAIL)
    assert failure.value.status == 535
    assert "wrong" not in failure.value.message


def test_recipients_refused_permanently_is_permanent_and_names_no_one():
    relay = Relay(refuse_recipients_with="550 5.1.1 <auditor@council.example.gov.uk>: no such user")
    with smtp_server(relay) as port:
        with pytest.raises(PermanentFailure) as failure:
            _transport(port).send(EMAIL)
    assert failure.value.status == 550
    assert "@" not in failure.value.message


def test_recipients_refused_for_now_is_temporary():
    with smtp_server(Relay(refuse_recipients_with="450 4.2.1 mailbox busy")) as port:
        with pytest.raises(TemporaryFailure) as failure:
            _transport(port).send(EMAIL)
    assert failure.value.status == 450


@pytest.mark.parametrize(("reply", "failure_type"), [
    ("451 4.3.0 try again later", TemporaryFailure),
    ("554 5.6.0 message rejected", PermanentFailure),
])
def test_the_relays_answer_to_the_message_decides(reply, failure_type):
    with smtp_server(Relay(refuse_data_with=reply)) as port:
        with pytest.raises(failure_type) as failure:
            _transport(port).send(EMAIL)
    assert failure.value.status == int(reply[:3])


def test_no_relay_listening_is_temporary():
    with pytest.raises(TemporaryFailure) as failure:
        _transport(free_port()).send(EMAIL)
    assert failure.value.status is None


def test_find_sent_cannot_tell_and_describe_keeps_the_password_out():
    transport = _transport(25, starttls=True, username="relay-user", password="relay-pass")
    assert transport.find_sent(replace(EMAIL, draft_id="anything")) is None
    assert "relay-user" in transport.describe() and "relay-pass" not in transport.describe()
    assert "relay-pass" not in repr(transport.settings)


def test_settings_come_from_the_app_config():
    settings = SmtpSettings.from_config({
        "SMTP_HOST": "smtp.council.example.gov.uk", "SMTP_PORT": "587", "SMTP_STARTTLS": True,
        "SMTP_USERNAME": "user", "SMTP_PASSWORD": "pass", "SMTP_TIMEOUT_SECONDS": 30, "MAIL_FROM": SENDER,
    })
    assert (settings.host, settings.port, settings.starttls, settings.sender) == (
        "smtp.council.example.gov.uk", 587, True, SENDER)
