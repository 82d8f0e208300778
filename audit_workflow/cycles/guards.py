"""What every change to a cycle checks: the error coordinators see, that a closed cycle is
read-only, and that a reason typed by staff is there and holds no personal details."""

from __future__ import annotations

from ..notifications.privacy import personal_data_in
from ..refusals import Refused
from .models import AuditCycle, CycleStatus


class CycleError(Refused):
    """A change the cycle rules refuse; the message is for the coordinator (see refusals.Refused)."""


def ensure_editable(cycle: AuditCycle) -> None:
    if cycle.status == CycleStatus.CLOSED:
        raise CycleError(f"{cycle.name} is closed, so it can no longer be changed")


def checked_reason(reason: str) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise CycleError("Enter a reason", "reason")
    if len(cleaned) > 500:
        raise CycleError("The reason must be 500 characters or fewer", "reason")
    found = personal_data_in(cleaned)
    if found:
        raise CycleError(f"Remove {' and '.join(found)} from the reason. This service must not hold a child's "
                         "personal details.", "reason")
    return cleaned
