"""Two clocks: working days for local service levels (audit turnaround, chasing), and calendar days
for the statutory EHCP timescales.

Working days are Monday to Friday, less England-and-Wales bank holidays and the LA's own closure
days. The bank holidays come from the data shipped inside govuk-bank-holidays (never the network),
which ends at a known year; a calculation that reaches past it raises BeyondHolidayData rather than
silently treating later bank holidays as working days. Upgrading the package extends the data.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from govuk_bank_holidays.bank_holidays import BankHolidays

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


@functools.cache
def _bank_holidays() -> frozenset[date]:
    """England-and-Wales bank holidays, loaded once per process. Always this division: with none,
    the package counts only holidays common to every UK nation, so Easter Monday would be a working day."""
    holidays = BankHolidays(use_cached_holidays=True).get_holidays(division=BankHolidays.ENGLAND_AND_WALES)
    return frozenset(holiday["date"] for holiday in holidays)


@functools.cache
def _known_from() -> date:
    """The first day the bank-holiday data covers: 1 January of its first year."""
    return date(min(_bank_holidays()).year, 1, 1)


@functools.cache
def _known_until() -> date:
    """The last day the bank-holiday data covers: 31 December of its last year."""
    return date(max(_bank_holidays()).year, 12, 31)


class BeyondHolidayData(ValueError):
    """A working-day calculation reached a date the bank-holiday data does not cover."""

    def __init__(self, day: date):
        self.date = day
        if day > _known_until():
            message = (f"{day} is after the bank-holiday data ends on {_known_until()}; upgrade the "
                       "govuk-bank-holidays package to get later years")
        else:
            message = f"{day} is before the bank-holiday data starts on {_known_from()}"
        super().__init__(message)


@dataclass(frozen=True)
class WorkingCalendar:
    """An LA's working days: weekdays that are neither bank holidays nor its closure days."""

    closure_days: frozenset[date] = frozenset()

    def __init__(self, closure_days: Iterable[date] = ()):
        object.__setattr__(self, "closure_days", frozenset(closure_days))

    @property
    def known_from(self) -> date:
        return _known_from()

    @property
    def known_until(self) -> date:
        return _known_until()

    def _check_covered(self, first: date, last: date) -> None:
        if first < _known_from():
            raise BeyondHolidayData(first)
        if last > _known_until():
            raise BeyondHolidayData(last)

    def is_working_day(self, day: date) -> bool:
        self._check_covered(day, day)
        return day.weekday() < _SATURDAY and day not in _bank_holidays() and day not in self.closure_days

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        return self.add_working_days(day, 1)

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`th working day after `day` (which itself never counts). With a count of 0, `day`
        if it is a working day, otherwise the next one: "due in 0 working days" means the first
        day work can be done."""
        if count < 0:
            raise ValueError("count must be 0 or more")
        if count == 0 and self.is_working_day(day):
            return day
        current, remaining = day, max(count, 1)
        while remaining:
            current += _ONE_DAY
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days there are after `start` up to and including `end`; negative when
        `end` is before `start`, so that between(a, b) == -between(b, a)."""
        if end < start:
            return -self.working_days_between(end, start)
        if end == start:
            return 0
        self._check_covered(start + _ONE_DAY, end)
        weeks, extra_days = divmod((end - start).days, 7)
        weekdays = weeks * 5 + sum(1 for offset in range(1, extra_days + 1)
                                   if (start + timedelta(days=offset)).weekday() < _SATURDAY)
        days_off = sum(1 for day in _bank_holidays() | self.closure_days
                       if start < day <= end and day.weekday() < _SATURDAY)
        return weekdays - days_off


@dataclass(frozen=True)
class StatutoryTimescale:
    """A statutory EHCP time limit, counted in calendar days, with its legal basis."""

    name: str
    legal_basis: str
    days_after_start: int  # the deadline is the starting day plus this many calendar days

    def deadline(self, start: date) -> date:
        return start + timedelta(days=self.days_after_start)


ASSESSMENT_DECISION = StatutoryTimescale(
    "Decision whether to carry out an EHC needs assessment",
    "SEND Regulations 2014 (SI 2014/1530) reg 5(1): within 6 weeks of receiving the request",
    days_after_start=6 * 7,
)
FINAL_PLAN = StatutoryTimescale(
    "Final EHC plan issued",
    "SEND Regulations 2014 (SI 2014/1530) reg 13(2): within 20 weeks of receiving the request for an assessment",
    days_after_start=20 * 7,
)
DRAFT_RESPONSE = StatutoryTimescale(
    "Parent or young person's response to the draft plan",
    "SEND Regulations 2014 (SI 2014/1530) reg 13(1)(a): at least 15 days, beginning with the day the draft "
    "plan was served",
    days_after_start=15 - 1,  # "beginning with" the day served: that day is the first of the 15
)

assessment_decision_deadline = ASSESSMENT_DECISION.deadline
final_plan_deadline = FINAL_PLAN.deadline
draft_response_deadline = DRAFT_RESPONSE.deadline
