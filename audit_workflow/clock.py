"""One source of "now". Timestamps are timezone-aware UTC (SQLModel stores them as such); the
working day is England's, so "today" is the date in Europe/London, not in UTC."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return datetime.now(ENGLAND).date()
