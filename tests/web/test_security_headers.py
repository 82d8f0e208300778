"""docs/checks.md#check-15: headers on every kind of response."""

import re

import pytest

from tests.conftest import sign_in


@pytest.mark.parametrize("path", ["/sign-in", "/healthz", "/privacy", "/no-such-page", "/"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}'", csp)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    max_age = int(re.search(r"max-age=(\d+)", headers["Strict-Transport-Security"]).group(1))
    assert max_age >= 31536000
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_signed_in_pages_are_not_stored(client, world):
    sign_in(client, world.user("coordinator"))
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_inline_script_carries_the_response_nonce(client):
    response = client.get("/sign-in")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)


def test_session_cookie_is_host_prefixed_secure_httponly_lax(app):
    client = app.test_client()  # the real configuration, not the http-only test fixture
    set_cookie = [value for key, value in client.get("/sign-in").headers.items() if key == "Set-Cookie"]
    # The sign-in page puts a CSRF secret in the session, so the cookie is set.
    assert set_cookie, "expected a session cookie"
    cookie = set_cookie[0]
    assert cookie.startswith("__Host-session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain=" not in cookie


def test_errors_are_pages_in_the_service_style_never_a_traceback(client, app):
    @app.get("/boom-for-test")
    def boom():  # pragma: no cover - replaced by the error handler
        raise RuntimeError("secret internals")

    boom._access_rule = __import__("audit_workflow.access", fromlist=["AccessRule"]).AccessRule(None)
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in body
    assert "secret internals" not in body and "Traceback" not in body
