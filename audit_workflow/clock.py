"""One source of "now", in UTC without tzinfo, which is how every timestamp is stored."""

from datetime import date, datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    return utcnow().date()
