"""One source of "now", and one way of writing dates and times for people.

Timestamps are timezone-aware UTC (SQLModel stores them as such); the working day is England's, so
"today" is the date in Europe/London, not in UTC. Dates and times are written as the GOV.UK style
guide asks (6 December 2026, 2:05pm, midday), the same on pages, in emails and on admin screens;
pure functions, so emails and commands can use them without a request.
"""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return datetime.now(ENGLAND).date()


def in_england(moment: datetime) -> datetime:
    """A stored moment as the clock in England showed it (a naive one is UTC, as everything stored is)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ENGLAND)


def govuk_date(value: date | datetime | str | None) -> str:
    """6 December 2026, whatever the locale; a timestamp as the date it was in England; a date in
    ISO form ("2026-12-06", as JSON carries it) as the date it names ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    elif isinstance(value, datetime):
        value = in_england(value).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def govuk_time(moment: datetime, *, seconds: bool = False) -> str:
    """2:05pm, 9am, midday, midnight; with seconds (for admins reading a heartbeat) 2:05:09pm."""
    local = in_england(moment)
    suffix = "am" if local.hour < 12 else "pm"
    hour = local.hour % 12 or 12
    if seconds:
        return f"{hour}:{local:%M:%S}{suffix}"
    if local.minute == 0:
        return {0: "midnight", 12: "midday"}.get(local.hour, f"{hour}{suffix}")
    return f"{hour}:{local:%M}{suffix}"


def govuk_date_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """6 December 2026 at 2:05pm, in England ("" for none)."""
    if moment is None:
        return ""
    return f"{govuk_date(moment)} at {govuk_time(moment, seconds=seconds)}"
