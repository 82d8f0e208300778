"""An app registered in the council's Microsoft Entra ID, which msal signs in as: for staff sign-in
(auth/entra.py) and for sending mail through Microsoft Graph (notifications/transports/graph.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlparse

import msal

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"


@dataclass(frozen=True, kw_only=True)
class AppRegistration:
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    authority_host: str = DEFAULT_AUTHORITY_HOST  # another for a national cloud (or a test double)

    @classmethod
    def settings_from(cls, config: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        """The registration's settings as keyword arguments, from {prefix}_TENANT_ID, _CLIENT_ID,
        _CLIENT_SECRET and _AUTHORITY_HOST."""
        names = ("tenant_id", "client_id", "client_secret", "authority_host")
        return {name: config[f"{prefix}_{name.upper()}"] for name in names}

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def instance_discovery(self) -> bool:
        """Whether msal may ask login.microsoftonline.com about the authority host: only for a host
        it knows. Without discovery msal reads the authority's own OpenID configuration, so a
        national cloud or a test double hears from us at its own address only."""
        return urlparse(self.authority_host).hostname in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS
