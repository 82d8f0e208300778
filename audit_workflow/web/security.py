"""Security headers on every response (docs/checks.md#check-15), written out as GOV.UK Notify does."""

import secrets

from flask import Flask, g, request

HSTS = "max-age=31536000; includeSubDomains"


def _nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app: Flask) -> None:
    app.jinja_env.globals["cspNonce"] = _nonce

    @app.context_processor
    def nonce_context():
        return {"cspNonce": _nonce()}

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{_nonce()}'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        headers["Strict-Transport-Security"] = HSTS
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Pages may show audit data: never keep them in a shared or browser cache (ASVS 14.3.2).
            headers["Cache-Control"] = "no-store"
        return response
