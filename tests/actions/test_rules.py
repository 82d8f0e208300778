"""The pure rules: when an audit calls for an action, what it names, themes, red/amber/green, and
the board's counts. Worked examples by hand, with the shipped framework (B and F are limiting)."""

from __future__ import annotations

from datetime import date

import pytest

from audit_workflow.actions import board, rules
from audit_workflow.actions.kinds import ActionStatus, ActionType, Rag
from audit_workflow.framework import Band, Grade, default_framework
from audit_workflow.workdays import WorkingCalendar

FRAMEWORK = default_framework()
GOOD_EVERYWHERE = {section.code: Grade.GOOD for section in FRAMEWORK.sections}


def good_ticks(code: str) -> list[str]:
    return [criterion.id for criterion in FRAMEWORK.section(code).bands[Band.GOOD]]


def test_a_good_audit_calls_for_no_action():
    assert rules.propose(FRAMEWORK, Grade.GOOD, GOOD_EVERYWHERE, {}) is None


def test_a_weak_section_that_is_not_limiting_does_not_call_for_an_action_when_the_plan_is_good():
    grades = {**GOOD_EVERYWHERE, "K": Grade.INADEQUATE}
    assert rules.propose(FRAMEWORK, Grade.GOOD, grades, {}) is None


def test_a_limiting_section_that_requires_improvement_calls_for_amending_the_plan():
    grades = {**GOOD_EVERYWHERE, "F": Grade.REQUIRES_IMPROVEMENT}
    ticks = {"F": [*good_ticks("F")[1:], "F-RI-02"]}  # F-G-01 (core) left unticked, F-RI-02 ticked
    proposal = rules.propose(FRAMEWORK, Grade.GOOD, grades, ticks)
    assert proposal.action_type is ActionType.AMEND_PLAN
    assert proposal.section_code == "F"
    assert proposal.criteria == ("F-RI-02", "F-G-01")
    assert proposal.summary == "Amend the plan: graded Good overall; start with section F, graded Requires improvement."


def test_an_inadequate_plan_is_amended_and_re_audited_starting_with_its_worst_section():
    grades = {**GOOD_EVERYWHERE, "E": Grade.REQUIRES_IMPROVEMENT, "K": Grade.INADEQUATE}
    proposal = rules.propose(FRAMEWORK, Grade.INADEQUATE, grades, {"K": ["K-I-01"]})
    assert proposal.action_type is ActionType.REAUDIT
    assert proposal.section_code == "K"  # Inadequate before Requires improvement
    assert proposal.criteria[0] == "K-I-01"


def test_an_inadequate_limiting_section_calls_for_a_re_audit_and_wins_a_tie():
    grades = {**GOOD_EVERYWHERE, "A": Grade.INADEQUATE, "F": Grade.INADEQUATE}
    proposal = rules.propose(FRAMEWORK, Grade.REQUIRES_IMPROVEMENT, grades, {})
    assert proposal.action_type is ActionType.REAUDIT
    assert proposal.section_code == "F"  # limiting first among equally bad sections


def test_a_weak_overall_grade_with_no_weak_section_names_no_section():
    proposal = rules.propose(FRAMEWORK, Grade.REQUIRES_IMPROVEMENT, GOOD_EVERYWHERE, {})
    assert (proposal.action_type, proposal.section_code, proposal.criteria) == (ActionType.AMEND_PLAN, None, ())


def test_themes_worked_example():
    """Ten audited plans at a 30% threshold: F-G-01 missed by 4 plans (40%, a theme), E-G-01 by 3
    (30%, exactly on the threshold, a theme), A-G-01 by 2 (20%, not). A plan missing a criterion in
    two audits counts once; a plan that missed nothing still counts among the audited."""
    missed = {1: ["F-G-01", "F-G-01", "E-G-01"], 2: ["F-G-01", "E-G-01", "A-G-01"], 3: ["F-G-01", "E-G-01"],
              4: ["F-G-01", "A-G-01"], **{plan: [] for plan in range(5, 11)}}
    found = rules.themes(FRAMEWORK, missed, 0.3)
    assert [(theme.criterion_id, theme.section_code, theme.plans, theme.audited) for theme in found] == [
        ("F-G-01", "F", 4, 10), ("E-G-01", "E", 3, 10)]
    assert found[0].share == pytest.approx(0.4)
    assert rules.themes(FRAMEWORK, {}, 0.3) == []


CALENDAR = WorkingCalendar()
MONDAY = date(2026, 11, 2)


@pytest.mark.parametrize("status, due, expected", [
    (ActionStatus.CLOSED, date(2026, 10, 1), Rag.GREEN),  # closed, even if late
    (ActionStatus.PROPOSED, None, Rag.AMBER),  # nobody owns it yet
    (ActionStatus.OPEN, date(2026, 10, 30), Rag.RED),  # overdue
    (ActionStatus.OPEN, date(2026, 11, 5), Rag.AMBER),  # 3 working days left, within 3
    (ActionStatus.OPEN, date(2026, 11, 6), Rag.GREEN),  # 4 working days left
    (ActionStatus.REAUDIT, MONDAY, Rag.AMBER),  # due today
])
def test_red_amber_green(status, due, expected):
    assert rules.rag(status, due, MONDAY, CALENDAR, amber_within=3) is expected


def test_grade_change_reads_as_people_say_it():
    assert rules.grade_change("inadequate", "good") == "Inadequate → Good"
    assert rules.grade_change(None, "good") == "Not graded → Good"


def test_board_counts_each_action_once_in_its_bucket():
    today = date(2026, 11, 10)
    facts = [
        board.ActionFacts("Training", "North", "Autumn", ActionStatus.OPEN, date(2026, 11, 20)),
        board.ActionFacts("Training", "North", "Autumn", ActionStatus.OPEN, date(2026, 11, 1)),  # overdue
        board.ActionFacts("Training", "South", "Autumn", ActionStatus.PROPOSED, None),
        board.ActionFacts("Amend the plan", "North", "Summer", ActionStatus.CLOSED, date(2026, 6, 1)),
        board.ActionFacts("Amend the plan", "North", "Summer", ActionStatus.PROPOSED, date(2026, 11, 9)),  # overdue
    ]
    by_type = board.counts_by(facts, lambda item: item.action_type, today)
    assert [(row.label, row.counts, row.total) for row in by_type] == [
        ("Amend the plan", {"proposed": 0, "open": 0, "overdue": 1, "closed": 1}, 2),
        ("Training", {"proposed": 1, "open": 1, "overdue": 1, "closed": 0}, 3),
    ]
    by_team = board.counts_by(facts, lambda item: item.team, today)
    assert [(row.label, row.total) for row in by_team] == [("North", 4), ("South", 1)]


def test_rag_over_time_keeps_each_review_date():
    reviews = [(date(2026, 11, 9), "red"), (date(2026, 11, 2), "green"), (date(2026, 11, 9), "green"),
               (date(2026, 11, 2), "amber")]
    assert board.rag_over_time(reviews) == [
        (date(2026, 11, 2), {"red": 0, "amber": 1, "green": 1}),
        (date(2026, 11, 9), {"red": 1, "amber": 0, "green": 1}),
    ]
