"""Email through Microsoft 365: Microsoft Graph, as the shared mailbox, with app-only credentials.

Authentication is O365's Account and Connection with msal underneath (client credentials; the
token is cached in the token backend and renewed by msal shortly before it expires). The msal
client and its token cache are kept per process and settings (shared_sign_in), so every dispatch
run of a process reuses one access token until it nears expiry instead of signing in each time. We build
the msal client ourselves so that tokens come only from the configured authority host, without
msal's instance discovery for hosts it does not know (national clouds, test doubles), and O365's
protocol points at the configured Graph endpoint: the service talks to those two hosts only.

Crash-safe sending (Graph's "immutable ID with sending mail"; every call carries
`Prefer: IdType="ImmutableId"`, so a message keeps its id when it moves to Sent Items):

1. POST {endpoint}/v1.0/users/{sender}/mailFolders/Drafts/messages -> 201 with the draft's id;
   the idempotency key rides along as a single-value extended property;
2. on_draft_created(id): the dispatcher commits the id;
3. POST {endpoint}/v1.0/users/{sender}/messages/{id}/send -> 202.

Given a recorded draft id, GET /messages/{id} tells what happened: isDraft false means it was sent;
404 means look in Sent Items for the key; otherwise the draft is still waiting to be sent. One
gap remains: for a short while after /send is accepted Graph may still show the message as a
draft, so a retry in that window can send it twice. The dispatcher's back-off makes that unlikely.

O365 retries nothing here (request_retries=0) and never sleeps (requests_delay=0): the dispatcher
owns retries and pacing. Graph messages have a single body, so the HTML part is sent and Exchange
derives the plain-text alternative. Use one transport per dispatcher thread: O365's Connection
keeps one requests session.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote

import msal
import requests
from msal import TokenCache
from msal.exceptions import MsalServiceError
from O365 import Account
from O365.connection import Connection, MSGraphProtocol
from O365.utils.token import BaseTokenBackend, MemoryTokenBackend

from ...app_registration import AppRegistration
from ...clock import utcnow
from ..retry import Outcome, classify_failure, parse_retry_after
from .base import DraftRecorder, OutgoingEmail, PermanentFailure, SendReceipt, TemporaryFailure, TransportFailure

DEFAULT_ENDPOINT = "https://graph.microsoft.com"
IMMUTABLE_IDS = {"Prefer": 'IdType="ImmutableId"'}
# A named MAPI string property in this service's own property set: it carries the outbox
# idempotency key, so the Sent Items copy of a message can be found by key.
IDEMPOTENCY_KEY_PROPERTY = "String {6f0c5e1e-9d54-4c3b-a0a4-3d1f6e2b8c77} Name AuditWorkflowIdempotencyKey"

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class GraphSettings(AppRegistration):
    sender: str  # the shared mailbox the service sends as
    endpoint: str = DEFAULT_ENDPOINT
    timeout_seconds: float = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GraphSettings:
        return cls(
            **cls.settings_from(config, "GRAPH"),
            sender=config["GRAPH_SENDER"],
            endpoint=config["GRAPH_ENDPOINT"],
            timeout_seconds=config.get("GRAPH_TIMEOUT_SECONDS", 30),
        )


class SignIn:
    """An msal client and its token cache, which may outlive one transport (and so one dispatch run)."""

    def __init__(self, token_backend: BaseTokenBackend | None = None):
        self.token_backend = token_backend or MemoryTokenBackend()
        self.msal_client: msal.ConfidentialClientApplication | None = None
        self.lock = threading.Lock()


_SIGN_INS: dict[GraphSettings, SignIn] = {}
_SIGN_INS_LOCK = threading.Lock()


def shared_sign_in(settings: GraphSettings) -> SignIn:
    """This process's sign-in for these settings (changed settings get a new one)."""
    with _SIGN_INS_LOCK:
        return _SIGN_INS.setdefault(settings, SignIn())


def forget_sign_ins() -> None:
    """Drop every kept sign-in (tests start from a process that has signed in to nothing)."""
    with _SIGN_INS_LOCK:
        _SIGN_INS.clear()


class _GraphProtocol(MSGraphProtocol):
    """O365's Graph protocol at the configured endpoint, which also sets the token scope."""

    def __init__(self, endpoint: str):
        self._protocol_url = f"{endpoint}/"
        self._oauth_scope_prefix = f"{endpoint}/"
        super().__init__()


class _Connection(Connection):
    """O365's Connection with an msal client for the app registration's authority, asking for the
    configured endpoint's token scope."""

    def __init__(self, credentials: tuple[str, str], *, registration: AppRegistration, token_scope: str,
                 sign_in: SignIn, **kwargs: Any):
        super().__init__(credentials, token_backend=sign_in.token_backend, **kwargs)
        self._sign_in = sign_in
        self._msal_authority = registration.authority
        self._instance_discovery = registration.instance_discovery
        self._token_scope = token_scope

    @property
    def msal_client(self) -> msal.ConfidentialClientApplication:
        if self._msal_client is None:
            with self._sign_in.lock:
                if self._sign_in.msal_client is None:
                    client_id, client_secret = self.auth
                    self._sign_in.msal_client = msal.ConfidentialClientApplication(
                        client_id,
                        client_credential=client_secret,
                        authority=self._msal_authority,
                        token_cache=self.token_backend,
                        timeout=self.timeout,
                        instance_discovery=self._instance_discovery,
                    )
            self._msal_client = self._sign_in.msal_client
        return self._msal_client

    def acquire_token(self) -> None:
        """A valid access token for the session: msal's cached one, or a new one when the cached one
        is within five minutes of expiry. Raises TemporaryFailure if none is issued: configuration
        problems are retried until the dispatcher's deadline, which raises the alert."""
        try:
            result = self.msal_client.acquire_token_for_client(scopes=[self._token_scope])
        except (ValueError, MsalServiceError):  # msal could not read the authority's OpenID configuration
            raise TemporaryFailure("could not read the Microsoft 365 sign-in authority's configuration") from None
        if "access_token" not in result:
            raise TemporaryFailure(f"Microsoft 365 did not issue an access token ({result.get('error')})")
        if self.session is not None:
            self.update_session_auth_header(access_token=result["access_token"])
        self.token_backend.save_token()

    def refresh_token(self) -> bool:
        # O365 calls this when a token expires in flight. Its own version reads the scope from the
        # cached token, which msal deletes once expired, and then fails.
        self.acquire_token()
        return True


class _Account(Account):
    connection_constructor = _Connection


class GraphTransport:
    def __init__(self, settings: GraphSettings, *, token_backend: BaseTokenBackend | None = None,
                 sign_in: SignIn | None = None):
        """sign_in: a kept msal client and token cache (shared_sign_in); by default one of its own,
        with token_backend as its cache."""
        self.settings = settings
        self._endpoint = settings.endpoint.rstrip("/")
        self._account = _Account(
            (settings.client_id, settings.client_secret),
            auth_flow_type="credentials",
            tenant_id=settings.tenant_id,
            registration=settings,
            token_scope=f"{self._endpoint}/.default",
            protocol=_GraphProtocol(self._endpoint),
            main_resource=settings.sender,
            sign_in=sign_in or SignIn(token_backend),
            timeout=settings.timeout_seconds,
            requests_delay=0,
            request_retries=0,
            default_headers=IMMUTABLE_IDS,
        )
        self._mailbox = self._account.mailbox(resource=settings.sender)
        # Set when a 401 made us drop the access token: a 401 on the next, fresh token is permanent.
        self._token_replaced_after_401 = False

    def send(self, email: OutgoingEmail, *, on_draft_created: DraftRecorder | None = None) -> SendReceipt:
        draft_id = None
        if email.draft_id is not None:
            receipt, draft_id = self._previous_attempt(email)
            if receipt is not None:
                return receipt
        if draft_id is None:
            draft_id = self._create_draft(email)
            if on_draft_created is not None:
                on_draft_created(draft_id)
        self._request("post", f"/messages/{_path_segment(draft_id)}/send")
        return SendReceipt(provider_id=draft_id)

    def find_sent(self, email: OutgoingEmail) -> SendReceipt | None:
        receipt, _ = self._previous_attempt(email)
        return receipt

    def describe(self) -> str:
        return f"Microsoft 365 (Graph at {self._endpoint}), sending as {self.settings.sender}"

    def _previous_attempt(self, email: OutgoingEmail) -> tuple[SendReceipt | None, str | None]:
        """(receipt, None) if the message went out; (None, draft id) if its draft is still waiting to
        be sent; (None, None) if there is neither."""
        if email.draft_id is not None:
            message = self._get_message(email.draft_id)
            if message is not None:
                if message.get("isDraft", True):
                    return None, email.draft_id
                return SendReceipt(provider_id=email.draft_id), None
        return self._find_in_sent_items(email.key), None

    def _create_draft(self, email: OutgoingEmail) -> str:
        draft = self._mailbox.new_message()
        draft.to.add(email.to)
        if email.reply_to:
            draft.reply_to.add(email.reply_to)
        draft.subject = email.subject
        draft.body = email.html
        draft.single_value_extended_properties.append({"id": IDEMPOTENCY_KEY_PROPERTY, "value": email.key})
        self._call(draft.save_draft)
        return draft.object_id

    def _get_message(self, message_id: str) -> dict | None:
        try:
            response = self._request("get", f"/messages/{_path_segment(message_id)}", params={"$select": "isDraft"})
        except PermanentFailure as failure:
            if failure.status == 404:
                return None
            raise
        return response.json()

    def _find_in_sent_items(self, key: str) -> SendReceipt | None:
        key_filter = (
            f"singleValueExtendedProperties/Any(ep: ep/id eq '{IDEMPOTENCY_KEY_PROPERTY}'"
            f" and ep/value eq '{_odata_string(key)}')"
        )
        response = self._request(
            "get", "/mailFolders/SentItems/messages", params={"$filter": key_filter, "$select": "id", "$top": "1"}
        )
        found = response.json().get("value", [])
        return SendReceipt(provider_id=found[0]["id"]) if found else None

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self._mailbox.build_url(path)
        return self._call(lambda: self._account.con.oauth_request(url, method, **kwargs))

    def _call(self, operation: Callable[[], T]) -> T:
        try:
            self._account.con.acquire_token()
            result = operation()
        except requests.RequestException as error:
            # `from None`: the original error quotes Graph's message, which can name recipients.
            raise self._failure_from(error) from None
        self._token_replaced_after_401 = False
        return result

    def _failure_from(self, error: requests.RequestException) -> TransportFailure:
        response = error.response
        if response is None:
            return _failure(classify_failure(None, error), f"could not reach Microsoft 365 ({type(error).__name__})")
        status = response.status_code
        outcome = classify_failure(status, None, fresh_token=self._token_replaced_after_401)
        if status == 401 and outcome is Outcome.TEMPORARY:
            self._drop_access_tokens()
        return _failure(
            outcome, f"Microsoft Graph answered {status}{_graph_error_code(response)}", status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), utcnow()),
        )

    def _drop_access_tokens(self) -> None:
        """Graph refused a token msal still trusts (revoked, or clocks apart): the next call gets a new one."""
        cache = self._account.con.token_backend
        for token in list(cache.search(TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(token)
        self._token_replaced_after_401 = True


def _failure(outcome: Outcome, message: str, *, status: int | None = None,
             retry_after: float | None = None) -> TransportFailure:
    if outcome is Outcome.TEMPORARY:
        return TemporaryFailure(message, retry_after=retry_after, status=status)
    return PermanentFailure(message, status=status)


def _graph_error_code(response: requests.Response) -> str:
    """Graph's error code (e.g. ErrorInvalidRecipients), never its message, which may quote addresses."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f" ({code})" if isinstance(code, str) else ""


def _path_segment(message_id: str) -> str:
    # Graph ids are URL-safe base64 (padding "=" included); quoting keeps any other id in its segment.
    return quote(message_id, safe="=")


def _odata_string(value: str) -> str:
    return value.replace("'", "''")
