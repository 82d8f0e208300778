"""One source of "now". Timestamps are timezone-aware UTC (SQLModel stores them as such); the
working day is England's, so "today" is the date in Europe/London, not in UTC."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return datetime.now(ENGLAND).date()


def england_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment as people in England read it, e.g. "3 March 2026, 14:05" ("" for none)."""
    if moment is None:
        return ""
    local = moment.astimezone(ENGLAND)
    return f"{local.day} {local:%B %Y, %H:%M}" + (f":{local:%S}" if seconds else "")
