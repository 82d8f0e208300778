"""What other areas add to the shared pages: a panel on the home page, a line in /healthz.

Areas fill these registries when their views are imported; web.views reads them. They sit apart
from the views so that no area imports another area's views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..auth.models import User

# Other areas add their status to /healthz (scheduler heartbeat, mail transport): a dict whose
# "status" is ok, warning, alert or unknown, and whatever else it says (counts, holders), which
# /healthz shows only to an admin or the server itself.
HEALTH_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {}


@dataclass(frozen=True)
class HomePanel:
    """What needs the user's attention in one area, at the top of their home page."""

    heading: str
    items: list[tuple[str, str]]  # (what, link)
    empty: str = ""  # said when there are no items


# Other areas add a panel (or None, when the area does not concern the user), e.g. open cycles.
HOME_PANELS: dict[str, Callable[[User], HomePanel | None]] = {}
