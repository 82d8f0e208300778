"""Navigation by role. Each area registers its entries; the layout shows those the user may open."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for

from ..access import current_user
from ..auth.models import Role


@dataclass(frozen=True)
class NavEntry:
    text: str
    endpoint: str
    roles: frozenset[Role]
    hint: str
    order: int


_ENTRIES: list[NavEntry] = []


def register(text: str, endpoint: str, roles: tuple[Role, ...], hint: str, order: int = 50) -> None:
    if any(entry.endpoint == endpoint for entry in _ENTRIES):
        return  # create_app may run several times in one process (tests)
    _ENTRIES.append(NavEntry(text, endpoint, frozenset(roles), hint, order))


def entries_for_user() -> list[NavEntry]:
    user = current_user()
    if user is None:
        return []
    return sorted((e for e in _ENTRIES if user.role_set & e.roles), key=lambda e: (e.order, e.text))


def _served_entries() -> list[NavEntry]:
    return [e for e in entries_for_user() if e.endpoint in current_app.view_functions]


def home_links() -> list[dict]:
    """The home page's list of where to go, with a hint for each (only that page shows them)."""
    return [{"href": url_for(e.endpoint), "text": e.text, "hint": e.hint} for e in _served_entries()]


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation_context():
        items = [
            {"href": url_for(e.endpoint), "text": e.text, "active": request.endpoint == e.endpoint}
            for e in _served_entries()
        ]
        return {"navigation_items": items}
