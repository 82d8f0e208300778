"""Microsoft 365 through Graph, with Microsoft played by `responses`: exact calls, failures, crash safety.

OrderedRegistry makes every test state the whole conversation in order; assert_all_requests_are_fired
makes it state nothing that did not happen. Nothing reaches the network.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
import time_machine
from responses import matchers
from responses.registries import OrderedRegistry

from audit_workflow.notifications.transports.base import (
    OutgoingEmail,
    PermanentFailure,
    SendReceipt,
    TemporaryFailure,
)
from audit_workflow.notifications.transports.graph import IDEMPOTENCY_KEY_PROPERTY, GraphSettings, GraphTransport

TENANT = "11111111-2222-3333-4444-555555555555"
MAILBOX = "ehcp-audit@council.example.gov.uk"
DRAFT_ID = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AVb1Ef5xhP0uB3nwsVjzfBgAAAGcBBQAA="
EMAIL = OutgoingEmail(
    key="assignment:3f1c:assigned",
    to=["auditor@council.example.gov.uk"],
    subject="3 EHCP audits assigned to you",
    html="<p>Hello</p>",
    text="Hello",
    reply_to="send.qa@council.example.gov.uk",
)


class FakeMicrosoft:
    """Registers Microsoft's side of the conversation, one expected call at a time."""

    def __init__(self, mock: responses.RequestsMock, authority_host: str, endpoint: str):
        self.mock = mock
        self.authority = f"{authority_host}/{TENANT}"
        self.scope = f"{endpoint}/.default"
        self.mailbox = f"{endpoint}/v1.0/users/{MAILBOX}"
        self.token_endpoint = f"{self.authority}/oauth2/v2.0/token"

    def sign_in(self, token: str = "token-1", expires_in: int = 3599):
        """msal reads the tenant's OpenID configuration once, then asks for a token."""
        self.openid_configuration()
        return self.token(token, expires_in)

    def openid_configuration(self):
        self.mock.get(
            f"{self.authority}/v2.0/.well-known/openid-configuration",
            json={
                "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
                "token_endpoint": self.token_endpoint,
                "issuer": f"{self.authority}/v2.0",
            },
        )

    def token(self, token: str, expires_in: int = 3599):
        return self.mock.post(
            self.token_endpoint, json={"token_type": "Bearer", "expires_in": expires_in, "access_token": token}
        )

    def create_draft(self, status: int = 201, **kwargs):
        if status == 201:
            kwargs["json"] = {"id": DRAFT_ID, "isDraft": True}
        return self.mock.post(f"{self.mailbox}/mailFolders/Drafts/messages", status=status, **kwargs)

    def send_draft(self, status: int = 202, **kwargs):
        return self.mock.post(f"{self.mailbox}/messages/{DRAFT_ID}/send", status=status, **kwargs)

    def get_message(self, status: int = 200, **kwargs):
        return self.mock.get(
            f"{self.mailbox}/messages/{DRAFT_ID}", status=status,
            match=[matchers.query_param_matcher({"$select": "isDraft"})], **kwargs,
        )

    def search_sent_items(self, found_ids: list[str]):
        key_filter = (
            f"singleValueExtendedProperties/Any(ep: ep/id eq '{IDEMPOTENCY_KEY_PROPERTY}'"
            f" and ep/value eq '{EMAIL.key}')"
        )
        return self.mock.get(
            f"{self.mailbox}/mailFolders/SentItems/messages",
            match=[matchers.query_param_matcher({"$filter": key_filter, "$select": "id", "$top": "1"})],
            json={"value": [{"id": found} for found in found_ids]},
        )


def _transport(authority_host: str = "https://login.microsoftonline.com",
               endpoint: str = "https://graph.microsoft.com") -> GraphTransport:
    return GraphTransport(GraphSettings(
        tenant_id=TENANT, client_id="client-id", client_secret="client-secret", sender=MAILBOX,
        endpoint=endpoint, authority_host=authority_host,
    ))


@pytest.fixture
def microsoft():
    with responses.RequestsMock(registry=OrderedRegistry, assert_all_requests_are_fired=True) as mock:
        yield FakeMicrosoft(mock, "https://login.microsoftonline.com", "https://graph.microsoft.com")


def _graph_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def test_a_new_message_is_drafted_recorded_then_sent(microsoft):
    token = microsoft.sign_in()
    draft = microsoft.create_draft()
    send = microsoft.send_draft()
    recorded = []

    receipt = _transport().send(EMAIL, on_draft_created=lambda draft_id: recorded.append((draft_id, send.call_count)))

    assert receipt.provider_id == DRAFT_ID
    assert recorded == [(DRAFT_ID, 0)], "the draft id must be recorded before the send"
    assert parse_qs(token.calls[0].request.body) == {
        "client_id": ["client-id"], "client_secret": ["client-secret"], "grant_type": ["client_credentials"],
        "client_info": ["1"], "scope": ["https://graph.microsoft.com/.default"],
    }
    draft_request = draft.calls[0].request
    assert json.loads(draft_request.body) == {
        "subject": EMAIL.subject,
        "body": {"contentType": "HTML", "content": EMAIL.html},
        "importance": "normal",
        "flag": {"flagStatus": "notFlagged"},
        "isReadReceiptRequested": False,
        "isDeliveryReceiptRequested": False,
        "toRecipients": [{"emailAddress": {"address": "auditor@council.example.gov.uk"}}],
        "ccRecipients": [],
        "bccRecipients": [],
        "replyTo": [{"emailAddress": {"address": "send.qa@council.example.gov.uk"}}],
        "singleValueExtendedProperties": [{"id": IDEMPOTENCY_KEY_PROPERTY, "value": EMAIL.key}],
    }
    send_request = send.calls[0].request
    assert not send_request.body
    for graph_request in (draft_request, send_request):
        assert graph_request.headers["Authorization"] == "Bearer token-1"
        assert graph_request.headers["Prefer"] == 'IdType="ImmutableId"'


def test_the_token_is_reused_until_it_nears_expiry(microsoft):
    microsoft.sign_in()
    for _ in range(2):
        microsoft.create_draft()
        microsoft.send_draft()
    transport = _transport()
    transport.send(EMAIL)
    transport.send(EMAIL)  # no second token request: OrderedRegistry would refuse it


def test_throttling_is_temporary_with_retry_after_and_nothing_is_recorded(microsoft):
    microsoft.sign_in()
    microsoft.create_draft(status=429, headers={"Retry-After": "30"},
                           json=_graph_error("ApplicationThrottled", "Too many requests"))
    recorded = []

    with pytest.raises(TemporaryFailure) as failure:
        _transport().send(EMAIL, on_draft_created=recorded.append)

    assert (failure.value.status, failure.value.retry_after) == (429, 30)
    assert "ApplicationThrottled" in failure.value.message
    assert recorded == []


def test_throttled_send_after_the_draft_keeps_the_recorded_draft(microsoft):
    microsoft.sign_in()
    microsoft.create_draft()
    microsoft.send_draft(status=429, headers={"Retry-After": "30"})
    recorded = []

    with pytest.raises(TemporaryFailure) as failure:
        _transport().send(EMAIL, on_draft_created=recorded.append)

    assert failure.value.retry_after == 30
    assert recorded == [DRAFT_ID]


def test_a_server_error_is_temporary(microsoft):
    microsoft.sign_in()
    microsoft.create_draft(status=503, json=_graph_error("ServiceUnavailable", "Try later"))

    with pytest.raises(TemporaryFailure) as failure:
        _transport().send(EMAIL)

    assert (failure.value.status, failure.value.retry_after) == (503, None)


@pytest.mark.parametrize("error", [requests.exceptions.ConnectTimeout(), requests.exceptions.ConnectionError()])
def test_timeouts_and_lost_connections_are_temporary(microsoft, error):
    microsoft.sign_in()
    microsoft.create_draft(status=0, body=error)

    with pytest.raises(TemporaryFailure) as failure:
        _transport().send(EMAIL)

    assert failure.value.status is None


def test_a_refused_message_is_permanent_and_its_reason_names_no_one(microsoft):
    microsoft.sign_in()
    microsoft.create_draft(status=400, json=_graph_error(
        "ErrorInvalidRecipients", "The recipient auditor@council.example.gov.uk is not valid."))

    with pytest.raises(PermanentFailure) as failure:
        _transport().send(EMAIL)

    assert failure.value.status == 400
    assert failure.value.message == "Microsoft Graph answered 400 (ErrorInvalidRecipients)"
    assert failure.value.__cause__ is None and failure.value.__suppress_context__


def test_a_token_that_expires_in_flight_is_renewed_and_the_call_repeated(microsoft):
    with time_machine.travel(datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc), tick=False) as clock:
        microsoft.sign_in("token-1", expires_in=3599)

        def expired(request):
            clock.shift(timedelta(hours=2))
            return 401, {}, json.dumps(_graph_error("InvalidAuthenticationToken", "Lifetime validation failed"))

        microsoft.mock.add_callback(responses.POST, f"{microsoft.mailbox}/mailFolders/Drafts/messages", expired)
        microsoft.token("token-2")
        draft = microsoft.create_draft()
        send = microsoft.send_draft()

        assert _transport().send(EMAIL).provider_id == DRAFT_ID

    assert draft.calls[0].request.headers["Authorization"] == "Bearer token-2"
    assert send.calls[0].request.headers["Authorization"] == "Bearer token-2"


def test_a_401_on_a_live_token_drops_it_and_the_next_attempt_gets_a_new_one(microsoft):
    microsoft.sign_in("token-1")
    microsoft.create_draft(status=401, json=_graph_error("InvalidAuthenticationToken", "Revoked"))
    microsoft.token("token-2")
    draft = microsoft.create_draft()
    microsoft.send_draft()
    transport = _transport()

    with pytest.raises(TemporaryFailure) as failure:
        transport.send(EMAIL)
    assert failure.value.status == 401

    assert transport.send(EMAIL).provider_id == DRAFT_ID
    assert draft.calls[0].request.headers["Authorization"] == "Bearer token-2"


def test_a_401_on_a_brand_new_token_is_permanent(microsoft):
    microsoft.sign_in("token-1")
    microsoft.create_draft(status=401)
    microsoft.token("token-2")
    microsoft.create_draft(status=401)
    transport = _transport()

    with pytest.raises(TemporaryFailure):
        transport.send(EMAIL)
    with pytest.raises(PermanentFailure) as failure:
        transport.send(EMAIL)
    assert failure.value.status == 401


@pytest.mark.parametrize("authority_host", ["https://login.microsoftonline.com", "https://login.example.test"])
def test_a_token_refused_by_the_authority_is_temporary(authority_host):
    with responses.RequestsMock(registry=OrderedRegistry, assert_all_requests_are_fired=True) as mock:
        fake = FakeMicrosoft(mock, authority_host, "https://graph.microsoft.com")
        fake.openid_configuration()
        mock.post(fake.token_endpoint, status=401, json={"error": "invalid_client", "error_description": "Bad"})
        if authority_host == "https://login.microsoftonline.com":
            # On an error msal looks for the host's aliases; it never does for a host it does not know.
            mock.get("https://login.microsoftonline.com/common/discovery/instance", json={"metadata": []})

        with pytest.raises(TemporaryFailure) as failure:
            _transport(authority_host).send(EMAIL)

    assert failure.value.message == "Microsoft 365 did not issue an access token (invalid_client)"


@pytest.mark.parametrize("status", [400, 500])
def test_an_unreadable_authority_configuration_is_temporary(status):
    with responses.RequestsMock(registry=OrderedRegistry, assert_all_requests_are_fired=True) as mock:
        fake = FakeMicrosoft(mock, "https://login.example.test", "https://graph.example.test")
        mock.get(f"{fake.authority}/v2.0/.well-known/openid-configuration", status=status, json={"error": "x"})

        with pytest.raises(TemporaryFailure, match="sign-in authority's configuration"):
            _transport("https://login.example.test", "https://graph.example.test").send(EMAIL)


def test_an_error_recording_the_draft_stops_the_send(microsoft):
    microsoft.sign_in()
    microsoft.create_draft()

    def database_down(draft_id):
        raise RuntimeError("database unavailable")

    with pytest.raises(RuntimeError, match="database unavailable"):
        _transport().send(EMAIL, on_draft_created=database_down)


# --- After a crash: the dispatcher passes the draft id it recorded -----------------------------

RECORDED = replace(EMAIL, draft_id=DRAFT_ID)


def test_a_recorded_draft_that_was_sent_is_not_sent_again(microsoft):
    microsoft.sign_in()
    microsoft.get_message(json={"id": DRAFT_ID, "isDraft": False})

    assert _transport().send(RECORDED).provider_id == DRAFT_ID


def test_a_recorded_draft_still_waiting_is_sent_without_a_new_draft(microsoft):
    microsoft.sign_in()
    microsoft.get_message(json={"id": DRAFT_ID, "isDraft": True})
    microsoft.send_draft()
    recorded = []

    assert _transport().send(RECORDED, on_draft_created=recorded.append).provider_id == DRAFT_ID
    assert recorded == []


def test_a_vanished_draft_found_in_sent_items_is_not_sent_again(microsoft):
    microsoft.sign_in()
    microsoft.get_message(status=404, json=_graph_error("ErrorItemNotFound", "Not found"))
    microsoft.search_sent_items(["sent-copy-id"])

    assert _transport().send(RECORDED).provider_id == "sent-copy-id"


def test_a_vanished_draft_not_in_sent_items_is_drafted_again(microsoft):
    microsoft.sign_in()
    microsoft.get_message(status=404)
    microsoft.search_sent_items([])
    microsoft.create_draft()
    microsoft.send_draft()
    recorded = []

    _transport().send(RECORDED, on_draft_created=recorded.append)
    assert recorded == [DRAFT_ID]


@pytest.mark.parametrize(("is_draft", "sent"), [(False, True), (True, False)])
def test_find_sent_reads_the_recorded_draft(microsoft, is_draft, sent):
    microsoft.sign_in()
    microsoft.get_message(json={"id": DRAFT_ID, "isDraft": is_draft})

    assert _transport().find_sent(RECORDED) == (SendReceipt(DRAFT_ID) if sent else None)


@pytest.mark.parametrize("found", [["sent-copy-id"], []])
def test_find_sent_looks_in_sent_items_when_the_draft_is_gone(microsoft, found):
    microsoft.sign_in()
    microsoft.get_message(status=404)
    microsoft.search_sent_items(found)

    assert _transport().find_sent(RECORDED) == (SendReceipt("sent-copy-id") if found else None)


def test_find_sent_without_a_draft_searches_sent_items_by_key(microsoft):
    microsoft.sign_in()
    microsoft.search_sent_items(["sent-copy-id"])

    assert _transport().find_sent(EMAIL).provider_id == "sent-copy-id"


def test_find_sent_reports_an_unreachable_graph_as_temporary(microsoft):
    microsoft.sign_in()
    microsoft.get_message(status=503)

    with pytest.raises(TemporaryFailure):
        _transport().find_sent(RECORDED)


# --- National clouds and test doubles: only the configured hosts ---------------------------------

def test_a_custom_authority_and_endpoint_are_the_only_hosts_contacted():
    authority_host, endpoint = "https://login.example.test", "https://graph.example.test"
    with responses.RequestsMock(registry=OrderedRegistry, assert_all_requests_are_fired=True) as mock:
        fake = FakeMicrosoft(mock, authority_host, endpoint)
        token = fake.sign_in()
        fake.create_draft()
        fake.send_draft()

        _transport(authority_host, endpoint).send(EMAIL)
        urls = [call.request.url for call in mock.calls]

    assert {urlparse(url).hostname for url in urls} == {"login.example.test", "graph.example.test"}
    assert not any("discovery" in url for url in urls)
    assert parse_qs(token.calls[0].request.body)["scope"] == ["https://graph.example.test/.default"]


def test_describe_names_the_mailbox_and_endpoint_but_no_secret():
    description = _transport().describe()
    assert MAILBOX in description and "graph.microsoft.com" in description
    assert "client-secret" not in description and "client-secret" not in repr(_transport().settings)


def test_settings_come_from_the_app_config():
    config = {
        "GRAPH_TENANT_ID": TENANT, "GRAPH_CLIENT_ID": "cid", "GRAPH_CLIENT_SECRET": "secret",
        "GRAPH_SENDER": MAILBOX, "GRAPH_ENDPOINT": "https://graph.microsoft.us",
        "GRAPH_AUTHORITY_HOST": "https://login.microsoftonline.us",
    }
    settings = GraphSettings.from_config(config)
    assert (settings.sender, settings.endpoint, settings.authority_host) == (
        MAILBOX, "https://graph.microsoft.us", "https://login.microsoftonline.us")
