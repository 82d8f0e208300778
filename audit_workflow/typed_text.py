"""Free text a user types into a form (an action's summary, a moderation reason): trimmed, required,
limited in length and refused when it holds a child's personal details. Each area raises its own
error type, which takes the message and the form field it is about."""

from __future__ import annotations

from collections.abc import Callable

from .notifications.privacy import personal_data_in


def checked_text(value: str, field: str, what: str, limit: int, error: Callable[[str, str], Exception]) -> str:
    """The trimmed text, or raise error(message, field): empty, longer than limit or with personal details."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise error(f"Enter {what}", field)
    label = field.replace("_", " ")
    if len(cleaned) > limit:
        raise error(f"The {label} must be {limit} characters or fewer", field)
    found = personal_data_in(cleaned)
    if found:
        raise error(f"Remove {' and '.join(found)} from the {label}. This service must not hold a child's "
                    "personal details.", field)
    return cleaned
