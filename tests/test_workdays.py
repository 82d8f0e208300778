from datetime import date, timedelta

import pytest
import requests
from govuk_bank_holidays.bank_holidays import BankHolidays
from hypothesis import given
from hypothesis import strategies as st

from audit_workflow import workdays
from audit_workflow.workdays import (
    ASSESSMENT_DECISION,
    DRAFT_RESPONSE,
    FINAL_PLAN,
    BeyondHolidayData,
    WorkingCalendar,
    assessment_decision_deadline,
    draft_response_deadline,
    final_plan_deadline,
)

CALENDAR = WorkingCalendar()
OFFLINE = BankHolidays(use_cached_holidays=True)
ENGLAND_AND_WALES = {holiday["date"] for holiday in OFFLINE.get_holidays(division=BankHolidays.ENGLAND_AND_WALES)}
# Starting days far enough inside the data that 60 working days never run past its end.
days = st.dates(date(2012, 1, 1), date(2028, 9, 30))
counts = st.integers(0, 60)


@given(days)
def test_a_working_day_is_an_england_and_wales_work_day(day):
    assert CALENDAR.is_working_day(day) == OFFLINE.is_work_day(day, division=BankHolidays.ENGLAND_AND_WALES)


@given(days, counts)
def test_adding_working_days_lands_on_a_working_day_never_a_bank_holiday(day, count):
    result = CALENDAR.add_working_days(day, count)
    assert CALENDAR.is_working_day(result)
    assert result not in ENGLAND_AND_WALES and result.weekday() < 5
    assert result > day or (count == 0 and result == day)


@given(days, st.integers(0, 59))
def test_adding_is_monotonic(day, count):
    earlier, later = CALENDAR.add_working_days(day, count), CALENDAR.add_working_days(day, count + 1)
    # 0 and 1 both give the next working day from a day off (0 means "the first day work can be done").
    if count == 0 and not CALENDAR.is_working_day(day):
        assert earlier == later
    else:
        assert earlier < later


@given(days, st.integers(1, 60))
def test_working_days_between_undoes_adding(day, count):
    assert CALENDAR.working_days_between(day, CALENDAR.add_working_days(day, count)) == count


@given(days, st.integers(0, 30), st.integers(0, 30))
def test_adding_twice_is_adding_the_sum_from_a_working_day(day, first, second):
    start = CALENDAR.add_working_days(day, 0)  # the precondition: start on a working day
    assert CALENDAR.add_working_days(CALENDAR.add_working_days(start, first), second) == CALENDAR.add_working_days(start, first + second)


@given(st.dates(date(2012, 5, 1), date(2028, 8, 31)), st.integers(-120, 120))
def test_working_days_between_counts_each_day_after_start_up_to_end(start, offset):
    end = start + timedelta(days=offset)
    low, high = min(start, end), max(start, end)
    counted = sum(CALENDAR.is_working_day(low + timedelta(days=step)) for step in range(1, (high - low).days + 1))
    assert CALENDAR.working_days_between(start, end) == (counted if end >= start else -counted)


@given(days, st.sets(st.dates(date(2012, 1, 1), date(2028, 12, 31)), max_size=20), counts)
def test_closure_days_are_skipped(day, closures, count):
    calendar = WorkingCalendar(closures)
    result = calendar.add_working_days(day, count)
    assert result not in closures
    if count:
        assert calendar.working_days_between(day, result) == count


@pytest.mark.parametrize("start, count, expected", [
    (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Good Friday, the weekend and Easter Monday
    (date(2026, 12, 24), 1, date(2026, 12, 29)),  # Christmas Day, the weekend, Boxing Day substitute
    (date(2022, 9, 16), 1, date(2022, 9, 20)),  # the State Funeral, a one-off bank holiday
    (date(2023, 5, 5), 1, date(2023, 5, 9)),  # the Coronation
    (date(2026, 1, 1), 1, date(2026, 1, 2)),  # 2 January is a Scottish bank holiday only
    (date(2026, 11, 27), 1, date(2026, 11, 30)),  # so is St Andrew's Day
    (date(2026, 4, 4), 0, date(2026, 4, 7)),  # 0 from a non-working day: the next working day
    (date(2026, 4, 8), 0, date(2026, 4, 8)),  # 0 from a working day: that day
    (date(2026, 4, 2), 10, date(2026, 4, 20)),
])
def test_known_working_days(start, count, expected):
    assert CALENDAR.add_working_days(start, count) == expected


def test_next_working_day():
    assert CALENDAR.next_working_day(date(2026, 4, 2)) == date(2026, 4, 7)
    assert CALENDAR.next_working_day(date(2026, 4, 7)) == date(2026, 4, 8)


def test_a_closure_day_moves_a_due_date():
    assert WorkingCalendar([date(2026, 4, 7)]).add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 8)
    assert WorkingCalendar([date(2026, 4, 7)]).working_days_between(date(2026, 4, 2), date(2026, 4, 8)) == 1


def test_a_closure_on_a_bank_holiday_or_weekend_is_not_counted_twice():
    closures = [date(2026, 4, 6), date(2026, 4, 4)]  # Easter Monday and a Saturday
    # 2, 7, 8, 9 and 10 April 2026
    assert WorkingCalendar(closures).working_days_between(date(2026, 4, 1), date(2026, 4, 10)) == 5


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2026, 4, 2), -1)


def test_the_data_runs_to_the_end_of_the_last_listed_year():
    last_year = max(ENGLAND_AND_WALES).year
    assert CALENDAR.known_until == date(last_year, 12, 31)
    assert CALENDAR.known_until >= date(2028, 12, 31)
    assert CALENDAR.known_from == date(2012, 1, 1)


def test_a_date_past_the_data_raises_and_says_to_upgrade():
    beyond = CALENDAR.known_until + timedelta(days=1)
    with pytest.raises(BeyondHolidayData) as refused:
        CALENDAR.is_working_day(beyond)
    assert isinstance(refused.value, ValueError)
    assert refused.value.date == beyond
    assert f"the bank-holiday data ends on {CALENDAR.known_until}" in str(refused.value)
    assert "upgrade the govuk-bank-holidays package" in str(refused.value)


@pytest.mark.parametrize("calculation", [
    lambda: CALENDAR.add_working_days(date(2028, 12, 20), 10),
    lambda: CALENDAR.next_working_day(date(2028, 12, 29)),
    lambda: CALENDAR.working_days_between(date(2028, 12, 1), date(2029, 1, 5)),
    lambda: CALENDAR.working_days_between(date(2029, 1, 5), date(2028, 12, 1)),
    lambda: CALENDAR.is_working_day(date(2011, 12, 30)),
])
def test_any_calculation_that_reaches_past_the_data_raises(calculation):
    with pytest.raises(BeyondHolidayData):
        calculation()


def test_the_last_days_of_the_data_still_work():
    assert CALENDAR.add_working_days(date(2028, 12, 20), 5) == date(2028, 12, 29)


def test_holidays_are_read_from_the_packaged_data_without_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(requests, "get", no_network)
    workdays._bank_holidays.cache_clear()
    try:
        assert not WorkingCalendar().is_working_day(date(2026, 4, 6))
    finally:
        workdays._bank_holidays.cache_clear()


def test_statutory_deadlines_are_calendar_days():
    # Reg 13(1): 15 days beginning with the day served, so that day is the first of the 15.
    assert draft_response_deadline(date(2026, 4, 1)) == date(2026, 4, 15)
    # 20 weeks and 6 weeks, whatever bank holidays fall in between (Easter 2026 here).
    assert final_plan_deadline(date(2026, 1, 5)) == date(2026, 5, 25)
    assert assessment_decision_deadline(date(2026, 3, 2)) == date(2026, 4, 13)
    # A statutory deadline may fall on a bank holiday (Easter Monday) and is not moved.
    assert final_plan_deadline(date(2025, 11, 16)) == date(2026, 4, 5) and assessment_decision_deadline(date(2026, 2, 23)) == date(2026, 4, 6)


def test_each_statutory_deadline_records_its_legal_basis():
    assert "reg 13(1)" in DRAFT_RESPONSE.legal_basis and "15 days" in DRAFT_RESPONSE.legal_basis
    assert "reg 13(2)" in FINAL_PLAN.legal_basis and "20 weeks" in FINAL_PLAN.legal_basis
    assert "reg 5(1)" in ASSESSMENT_DECISION.legal_basis and "6 weeks" in ASSESSMENT_DECISION.legal_basis
    assert all("SI 2014/1530" in timescale.legal_basis for timescale in (DRAFT_RESPONSE, FINAL_PLAN, ASSESSMENT_DECISION))
