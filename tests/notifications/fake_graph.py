"""Microsoft's side of sending mail, for the dispatcher tests: a tenant's sign-in endpoints and one
mailbox's Graph API (drafts, /send, message look-up, Sent Items search), keeping a log of every
request and every send.

One fake, two ways in: `install(mock)` answers through `responses` in this process (the backlog
test); `serve_https(...)` answers real HTTPS on 127.0.0.1 for a dispatcher run as a subprocess (the
crash test). msal accepts only https authorities, so the server has its own throwaway certificate,
which the subprocess trusts through REQUESTS_CA_BUNDLE.

Failures are injected with `fault` (answer a request with an error instead) and `after` (act once a
request has been handled: raise a timeout, or hang so the test can kill the dispatcher).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import ssl
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from audit_workflow.clock import utcnow

TENANT = "11111111-2222-3333-4444-555555555555"
MAILBOX = "ehcp-audit@council.example.gov.uk"
KEY_IN_FILTER = re.compile(r"ep/value eq '((?:[^']|'')*)'")


@dataclass(frozen=True)
class GraphRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    token: str | None
    at: dt.datetime

    @property
    def is_sign_in(self) -> bool:
        return not self.path.startswith("/v1.0/")

    @property
    def is_send(self) -> bool:
        return self.method == "POST" and self.path.endswith("/send")

    @property
    def is_draft(self) -> bool:
        return self.method == "POST" and self.path.endswith("/mailFolders/Drafts/messages")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Draft:
    key: str
    to: list[str]
    sent: bool = False


@dataclass
class FakeGraph:
    base_url: str  # the authority host and the Graph endpoint (the same for the HTTPS server)
    clock: Callable[[], dt.datetime] = utcnow
    fault: Callable[[GraphRequest], Reply | None] = lambda request: None
    after: Callable[[GraphRequest, Reply], None] = lambda request, reply: None
    drafts: dict[str, Draft] = field(default_factory=dict)
    sends: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (idempotency key, when)
    log: list[tuple[GraphRequest, Reply]] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what the tests read ---

    def sent_keys(self) -> Counter:
        return Counter(key for key, _ in self.sends)

    def requests(self, predicate: Callable[[GraphRequest], bool] = lambda request: True) -> list[GraphRequest]:
        return [request for request, _ in self.log if predicate(request)]

    def revoke_tokens(self) -> None:
        """Every access token issued so far stops working (expiry, revocation): Graph answers 401."""
        with self.lock:
            self.valid_tokens.clear()

    # --- the API ---

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | str | None) -> Reply:
        parts = urlsplit(url)
        authorization = headers.get("Authorization") or headers.get("authorization") or ""
        request = GraphRequest(
            method=method, path=unquote(parts.path), query={k: v[0] for k, v in parse_qs(parts.query).items()},
            body=_json_or_form(body), token=authorization.removeprefix("Bearer ") or None, at=self.clock(),
        )
        with self.lock:
            reply = self.fault(request) or self._answer(request)
            self.log.append((request, reply))
        self.after(request, reply)
        return reply

    def _answer(self, request: GraphRequest) -> Reply:
        authority = f"{self.base_url}/{TENANT}"
        if request.path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            return Reply(200, {"authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                               "token_endpoint": f"{authority}/oauth2/v2.0/token", "issuer": f"{authority}/v2.0"})
        if request.path == f"/{TENANT}/oauth2/v2.0/token":
            token = f"token-{uuid.uuid4().hex[:8]}"
            self.valid_tokens.add(token)
            return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})
        mailbox_path = f"/v1.0/users/{MAILBOX}"
        if not request.path.startswith(mailbox_path):
            return _error(404, "ErrorInvalidUser")
        if request.token not in self.valid_tokens:
            return _error(401, "InvalidAuthenticationToken")
        return self._mailbox(request, request.path.removeprefix(mailbox_path))

    def _mailbox(self, request: GraphRequest, path: str) -> Reply:
        if request.method == "POST" and path == "/mailFolders/Drafts/messages":
            draft_id = f"AAMk{uuid.uuid4().hex}="
            message = request.body
            key = next(p["value"] for p in message["singleValueExtendedProperties"])
            self.drafts[draft_id] = Draft(key, [r["emailAddress"]["address"] for r in message["toRecipients"]])
            return Reply(201, {"id": draft_id, "isDraft": True})
        if match := re.fullmatch(r"/messages/([^/]+)/send", path):
            draft = self.drafts.get(match[1])
            if draft is None or draft.sent:
                return _error(404, "ErrorItemNotFound")
            draft.sent = True
            self.sends.append((draft.key, request.at))
            return Reply(202)
        if match := re.fullmatch(r"/messages/([^/]+)", path):
            draft = self.drafts.get(match[1])
            return Reply(200, {"id": match[1], "isDraft": not draft.sent}) if draft else _error(404, "ErrorItemNotFound")
        if path == "/mailFolders/SentItems/messages":
            key = KEY_IN_FILTER.search(request.query["$filter"])[1].replace("''", "'")
            found = [{"id": draft_id} for draft_id, draft in self.drafts.items() if draft.sent and draft.key == key]
            return Reply(200, {"value": found[:1]})
        return _error(400, "ErrorInvalidRequest")

    # --- ways in ---

    def install(self, mock) -> None:
        """Answer every request to base_url through a `responses` mock."""
        def callback(prepared):
            reply = self.handle(prepared.method, prepared.url, dict(prepared.headers), prepared.body)
            return reply.status, reply.headers, "" if reply.body is None else json.dumps(reply.body)

        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(re.escape(self.base_url) + r"/.*"), callback=callback)


def _json_or_form(body: bytes | str | None) -> Any:
    if not body:
        return None
    text = body.decode() if isinstance(body, bytes) else body
    try:
        return json.loads(text)
    except ValueError:
        return {key: values[0] for key, values in parse_qs(text).items()}


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": "Fake Graph refused the request"}}, headers or {})


def throttled(seconds: int) -> Reply:
    return _error(429, "ApplicationThrottled", {"Retry-After": str(seconds)})


def unavailable(retry_after: int | None = None) -> Reply:
    return _error(503, "ServiceUnavailable", {"Retry-After": str(retry_after)} if retry_after else None)


# --- HTTPS on 127.0.0.1 ------------------------------------------------------------------------------


def write_certificate(folder: Path, valid_for: dt.timedelta = dt.timedelta(hours=1)) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) PEM files. The benchmarks use it too."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-graph.test")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + valid_for)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "fake-graph.pem", folder / "fake-graph.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_file, key_file


@contextmanager
def serve_https(folder: Path) -> Iterator[tuple[FakeGraph, Path]]:
    """A FakeGraph on https://127.0.0.1:<free port>, and the certificate file clients must trust."""
    certificate_file, key_file = write_certificate(folder)
    holder: dict[str, FakeGraph] = {}

    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = holder["fake"].handle(self.command, f"{holder['fake'].base_url}{self.path}", dict(self.headers), body)
            content = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            for name, value in {**reply.headers, "Content-Type": "application/json", "Content-Length": str(len(content))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = _serve

        def log_message(self, *args):  # the fake's own log is the record
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    holder["fake"] = FakeGraph(base_url=f"https://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["fake"], certificate_file
    finally:
        server.shutdown()
        server.server_close()
