"""Working days as the cycles area counts them from the database: an LA's calendar (bank holidays
and its own closure days), the day in England a job run is for, and the warning a run gives when a
date lies past the bank-holiday data."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime

from sqlmodel import Session, select

from ..authorities.models import ClosureDay
from ..clock import ENGLAND, today as england_today
from ..workdays import BeyondHolidayData, WorkingCalendar

logger = logging.getLogger(__name__)


def working_calendar(db: Session, la_id: uuid.UUID) -> WorkingCalendar:
    return WorkingCalendar(db.exec(select(ClosureDay.day).where(ClosureDay.la_id == la_id)).all())


def run_date(now: datetime | None) -> date:
    """The day in England a job run is for: `now`'s, or today's when the run is not given a time."""
    return now.astimezone(ENGLAND).date() if now else england_today()


# Warnings name a cycle by its id, not its name: they are logged, and shown on the scheduler page to
# the admins of every LA the deployment serves.
def beyond_data_warning(error: BeyondHolidayData, what: str) -> str:
    logger.warning("%s: %s", what, error)
    return f"{what}: {error}"
