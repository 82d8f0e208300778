"""The chase rules on their own: plain dates in, chases out (no database, no clock)."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from audit_workflow.cycles.chase_rules import Chase, ReminderPolicy, Stage, chase_plan, chases_due, latest_auditor_chase
from audit_workflow.workdays import BeyondHolidayData, WorkingCalendar

DEFAULT = ReminderPolicy(remind_days_before=2, overdue_interval_days=3, escalate_after_days=5)
CALENDAR = WorkingCalendar()
DUE = date(2026, 11, 30)  # a Monday


def test_the_plan_for_an_ordinary_month():
    assert chase_plan(CALENDAR, DEFAULT, DUE) == [
        Chase(Stage.REMINDER, date(2026, 11, 26)),  # Thursday: two working days before Monday
        Chase(Stage.DUE, date(2026, 11, 30)),
        Chase(Stage.OVERDUE, date(2026, 12, 3)),
        Chase(Stage.ESCALATION, date(2026, 12, 7)),
    ]


def test_christmas_and_an_la_closure_are_skipped():
    closed = WorkingCalendar({date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)})
    # 25 and 28 December 2026 and 1 January 2027 are bank holidays; 29-31 December the LA is closed.
    assert chase_plan(closed, DEFAULT, date(2027, 1, 5)) == [
        Chase(Stage.REMINDER, date(2026, 12, 24)),
        Chase(Stage.DUE, date(2027, 1, 5)),
        Chase(Stage.OVERDUE, date(2027, 1, 8)),
        Chase(Stage.ESCALATION, date(2027, 1, 12)),
    ]


def test_easter_2027_is_skipped():
    # Good Friday 26 March and Easter Monday 29 March 2027.
    assert chase_plan(CALENDAR, DEFAULT, date(2027, 3, 31)) == [
        Chase(Stage.REMINDER, date(2027, 3, 25)),
        Chase(Stage.DUE, date(2027, 3, 31)),
        Chase(Stage.OVERDUE, date(2027, 4, 5)),
        Chase(Stage.ESCALATION, date(2027, 4, 7)),
    ]


def test_a_due_date_on_a_closure_day_moves_to_the_next_working_day():
    closed = WorkingCalendar({DUE})
    assert [chase for chase in chase_plan(closed, DEFAULT, DUE) if chase.stage == Stage.DUE] == [Chase(Stage.DUE, date(2026, 12, 1))]


def test_overdue_chases_repeat_until_the_escalation_in_the_calendar():
    policy = ReminderPolicy(remind_days_before=0, overdue_interval_days=2, escalate_after_days=7)
    assert [(chase.stage, chase.on) for chase in chase_plan(CALENDAR, policy, DUE)] == [
        (Stage.DUE, date(2026, 11, 30)),
        (Stage.OVERDUE, date(2026, 12, 2)),
        (Stage.OVERDUE, date(2026, 12, 4)),
        (Stage.OVERDUE, date(2026, 12, 8)),
        (Stage.ESCALATION, date(2026, 12, 9)),
    ]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 25), []),
        (date(2026, 11, 26), [Chase(Stage.REMINDER, date(2026, 11, 26))]),
        # Friday after a missed Thursday: the reminder is still the latest chase, so it goes now.
        (date(2026, 11, 27), [Chase(Stage.REMINDER, date(2026, 11, 26))]),
        (date(2026, 11, 28), []),  # Saturday
        (date(2026, 11, 30), [Chase(Stage.DUE, DUE)]),
        (date(2026, 12, 2), [Chase(Stage.DUE, DUE)]),
        (date(2026, 12, 3), [Chase(Stage.OVERDUE, date(2026, 12, 3))]),
        # Off from Friday 27 November to Monday 7 December: one overdue and the escalation, no burst.
        (date(2026, 12, 7), [Chase(Stage.OVERDUE, date(2026, 12, 3)), Chase(Stage.ESCALATION, date(2026, 12, 7))]),
        (date(2026, 12, 8), [Chase(Stage.OVERDUE, date(2026, 12, 8)), Chase(Stage.ESCALATION, date(2026, 12, 7))]),
    ],
)
def test_what_a_run_may_send_on_each_day(today, expected):
    assert chases_due(CALENDAR, DEFAULT, DUE, today) == expected


def test_a_date_past_the_bank_holiday_data_is_an_error_not_a_working_day():
    last = CALENDAR.known_until
    with pytest.raises(BeyondHolidayData):
        chases_due(CALENDAR, DEFAULT, last - timedelta(days=1), last + timedelta(days=3))
    with pytest.raises(BeyondHolidayData):
        chase_plan(CALENDAR, DEFAULT, last - timedelta(days=1))


policies = st.builds(ReminderPolicy, st.integers(0, 10), st.integers(1, 10), st.integers(0, 20))
days = st.dates(date(2013, 1, 1), date(2028, 10, 31))


@settings(max_examples=200, deadline=None)
@given(policies, days)
def test_every_chase_falls_on_a_working_day_in_date_order(policy, due):
    plan = chase_plan(CALENDAR, policy, due)
    assert all(CALENDAR.is_working_day(chase.on) for chase in plan)
    assert [chase.on for chase in plan] == sorted(chase.on for chase in plan)
    assert [chase.stage for chase in plan].count(Stage.ESCALATION) == 1


@settings(max_examples=200, deadline=None)
@given(policies, days, st.integers(0, 60))
def test_the_chase_a_day_may_send_is_the_latest_in_the_plan_up_to_that_day(policy, due, offset):
    today = due + timedelta(days=offset - 20)
    latest = latest_auditor_chase(CALENDAR, policy, due, today)
    # The plan lists overdue chases up to the escalation only; compare within that horizon.
    plan = [chase for chase in chase_plan(CALENDAR, policy, due) if chase.stage != Stage.ESCALATION]
    if today > plan[-1].on and latest and latest.stage == Stage.OVERDUE and latest.on > plan[-1].on:
        return
    earlier = [chase for chase in plan if chase.on <= today]
    assert latest == (earlier[-1] if earlier else None)
