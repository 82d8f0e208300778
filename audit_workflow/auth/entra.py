"""Microsoft Entra ID sign-in: msal's authorisation-code flow with PKCE (docs/checks.md#check-17).

msal already checks the id token's issuer against the tenant's OpenID configuration, its audience,
expiry and nonce. We check tenant, audience, issuer and (optionally) MFA again ourselves, because a
misconfigured multi-tenant app registration would otherwise let in users from any tenant.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import msal
from flask import current_app

from ..app_registration import AppRegistration

APP_KEY = "audit_workflow.entra_app"


class EntraRefused(Exception):
    """Sign-in refused; the message is safe to show to the person signing in."""


@dataclass(frozen=True, kw_only=True)
class EntraSettings(AppRegistration):
    require_mfa: bool

    @property
    def issuer(self) -> str:
        return f"{self.authority}/v2.0"

    @classmethod
    def from_config(cls, config) -> "EntraSettings | None":
        if not config.get("ENTRA_CLIENT_ID"):
            return None
        return cls(**cls.settings_from(config, "ENTRA"), require_mfa=config["ENTRA_REQUIRE_MFA"])


def settings() -> EntraSettings | None:
    return EntraSettings.from_config(current_app.config)


def _client(entra: EntraSettings) -> msal.ConfidentialClientApplication:
    # Built once per process: construction fetches the tenant's OpenID configuration.
    client = current_app.extensions.get(APP_KEY)
    if client is None:
        client = msal.ConfidentialClientApplication(
            entra.client_id,
            client_credential=entra.client_secret,
            authority=entra.authority,
            instance_discovery=entra.instance_discovery,
        )
        current_app.extensions[APP_KEY] = client
    return client


def begin(entra: EntraSettings, redirect_uri: str) -> dict:
    """The flow to keep in the session; send the browser to flow["auth_uri"].

    The code comes back in the query string, not by form_post: a cross-site POST would not carry
    our SameSite=Lax session cookie, which holds the flow. PKCE makes an intercepted code useless.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
        return _client(entra).initiate_auth_code_flow([], redirect_uri=redirect_uri)


def complete(entra: EntraSettings, flow: dict, response_args: dict) -> dict:
    """The verified id-token claims, or EntraRefused."""
    try:
        result = _client(entra).acquire_token_by_auth_code_flow(flow, response_args)
    except ValueError:
        raise EntraRefused("The sign-in response did not match this browser's sign-in request.") from None
    if "error" in result:
        current_app.logger.warning("Entra sign-in error: %s", result.get("error"))
        raise EntraRefused("Microsoft did not complete the sign-in. Try again.")
    claims = result.get("id_token_claims") or {}
    check_claims(entra, claims)
    return claims


def check_claims(entra: EntraSettings, claims: dict) -> None:
    if claims.get("tid") != entra.tenant_id:
        raise EntraRefused("Your account belongs to another organisation's directory.")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if entra.client_id not in audiences:
        raise EntraRefused("The sign-in was issued for another application.")
    if claims.get("iss") != entra.issuer:
        raise EntraRefused("The sign-in was issued by an unexpected authority.")
    if entra.require_mfa and "mfa" not in (claims.get("amr") or []):
        raise EntraRefused("This service needs multi-factor authentication. Sign in again using MFA.")


def user_keys(claims: dict) -> tuple[str | None, str | None]:
    """(object id, lower-case email) to match a user by."""
    email = claims.get("email") or claims.get("preferred_username")
    return claims.get("oid"), email.strip().lower() if email else None
