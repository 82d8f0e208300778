"""docs/checks.md#check-17: Entra ID sign-in through msal's auth-code flow, Microsoft mocked with `responses`."""

import base64
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from sqlmodel import select

from audit_workflow.auth.entra import APP_KEY, EntraSettings
from audit_workflow.auth.models import UserSession
from tests.conftest import csrf_token

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def _jwt(claims: dict) -> str:
    # msal does not verify the signature (the token came straight from the token endpoint over TLS).
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(claims)}.sig"


@pytest.fixture(params=["https://login.microsoftonline.com", "https://login.example-cloud.test"])
def entra_app(request, app):
    app.config.update(
        ENTRA_TENANT_ID=TENANT, ENTRA_CLIENT_ID=CLIENT_ID, ENTRA_CLIENT_SECRET="secret",
        ENTRA_AUTHORITY_HOST=request.param, ENTRA_REQUIRE_MFA=True,
    )
    app.extensions.pop(APP_KEY, None)
    return app


@pytest.fixture
def microsoft(entra_app):
    host = entra_app.config["ENTRA_AUTHORITY_HOST"]
    authority = f"{host}/{TENANT}"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{authority}/v2.0/.well-known/openid-configuration",
            json={
                "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                "token_endpoint": f"{authority}/oauth2/v2.0/token",
                "issuer": f"{authority}/v2.0",
            },
        )
        mock.authority = authority
        yield mock


def _sign_in_with(client, microsoft, **claim_overrides):
    start = client.get("/sign-in/microsoft")
    assert start.status_code == 302
    query = parse_qs(urlparse(start.headers["Location"]).query)
    assert start.headers["Location"].startswith(f"{microsoft.authority}/oauth2/v2.0/authorize")
    claims = {
        "aud": CLIENT_ID, "iss": f"{microsoft.authority}/v2.0", "tid": TENANT, "oid": "object-id-1", "sub": "subject-1",
        "preferred_username": "Coordinator@886.example.gov.uk", "amr": ["pwd", "mfa"],
        "nonce": __import__("hashlib").sha256(client_session_nonce(client).encode()).hexdigest(),
        "iat": int(time.time()), "exp": int(time.time()) + 3600,
    }
    claims.update(claim_overrides)
    microsoft.post(
        f"{microsoft.authority}/oauth2/v2.0/token",
        json={"token_type": "Bearer", "expires_in": 3600, "access_token": "at", "id_token": _jwt(claims)},
    )
    return client.get(f"/sign-in/microsoft/callback?code=the-code&state={query['state'][0]}")


def client_session_nonce(client) -> str:
    with client.session_transaction() as session:
        return session["entra_flow"]["nonce"]


def test_entra_sign_in_matches_the_user_by_email_and_binds_the_object_id(client, world, microsoft, db):
    response = _sign_in_with(client, microsoft)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    user = db.get(type(world.user("coordinator")), world.user("coordinator").id)
    db.refresh(user)
    assert user.entra_object_id == "object-id-1"
    hosts = {urlparse(call.request.url).hostname for call in microsoft.calls}
    assert hosts == {urlparse(microsoft.authority).hostname}, "no instance discovery or other hosts"


@pytest.mark.parametrize(
    "override, message",
    [
        ({"amr": ["pwd"]}, "multi-factor"),
        ({"tid": "99999999-0000-0000-0000-000000000000"}, "another organisation"),
    ],
)
def test_entra_sign_in_refused_without_mfa_or_from_another_tenant(client, world, microsoft, override, message):
    response = _sign_in_with(client, microsoft, **override)
    assert response.status_code == 403
    assert message in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("override", [{"aud": "someone-elses-app"}, {"iss": "https://evil.example/v2.0"}])
def test_entra_sign_in_refused_for_a_wrong_audience_or_issuer(client, world, microsoft, override):
    response = _sign_in_with(client, microsoft, **override)
    assert response.status_code == 403
    assert client.get("/").status_code == 302


def test_entra_sign_in_refused_for_an_unknown_user(client, world, microsoft):
    response = _sign_in_with(client, microsoft, preferred_username="stranger@886.example.gov.uk", oid="other")
    assert response.status_code == 403
    assert "do not have an account" in response.get_data(as_text=True)


def test_entra_sign_in_prefers_the_bound_object_id_and_refuses_an_email_bound_to_another(client, world, microsoft, db):
    coordinator, manager = world.user("coordinator"), world.user("manager")
    manager.entra_object_id = "object-id-1"  # this Entra user is bound to the manager's account
    db.add(manager)
    db.commit()
    # The token's email names the coordinator, but its object id is the manager's: the manager signs in.
    assert _sign_in_with(client, microsoft).status_code == 302
    assert [row.user_id for row in db.exec(select(UserSession)).all()] == [manager.id]
    db.refresh(coordinator)
    assert coordinator.entra_object_id is None  # not bound to somebody else's identity
    db.commit()  # end this test's read before the app writes (SQLite)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})

    coordinator.entra_object_id = "object-id-2"
    db.add(coordinator)
    db.commit()
    response = _sign_in_with(client, microsoft, oid="object-id-3")  # the coordinator's email, a third identity
    assert response.status_code == 403
    assert "belongs to another Microsoft account" in response.get_data(as_text=True)


def test_entra_callback_without_a_started_flow_is_refused(client, world, microsoft):
    response = client.get("/sign-in/microsoft/callback?code=x&state=y")
    assert response.status_code == 403


def test_entra_routes_are_absent_when_not_configured(client):
    assert client.get("/sign-in/microsoft").status_code == 404


def test_entra_settings_never_show_the_client_secret(entra_app):
    settings = EntraSettings.from_config(entra_app.config)
    assert settings.authority == f"{entra_app.config['ENTRA_AUTHORITY_HOST']}/{TENANT}"
    assert "secret" not in repr(settings)
