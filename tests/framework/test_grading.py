"""The grading engine on the shipped framework: worked examples, then properties that must hold
for any ticks."""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_workflow.framework import Band, Grade, default_framework, grade_audit, grade_section
from audit_workflow.framework.model import GRADED_BANDS, GRADES_BEST_FIRST

from .conftest import criterion_ids

FRAMEWORK = default_framework()
CODES = [section.code for section in FRAMEWORK.sections]


def good_ticks(code: str) -> list[str]:
    return criterion_ids(FRAMEWORK, code, Band.GOOD)


def outstanding_ticks(code: str) -> list[str]:
    return good_ticks(code) + criterion_ids(FRAMEWORK, code, Band.OUTSTANDING)


def every_section(ticks_for) -> dict[str, list[str]]:
    return {code: ticks_for(code) for code in CODES}


def rank(grade: Grade) -> int:
    """Higher is better."""
    return -GRADES_BEST_FIRST.index(grade)


# -- sections --------------------------------------------------------------------------------------


def test_nothing_ticked_is_not_started():
    result = grade_section(FRAMEWORK, "A", [])
    assert result.grade is None
    assert result.explanation == "Not started: no criteria ticked yet."


def test_every_core_and_enough_good_criteria_make_good():
    result = grade_section(FRAMEWORK, "F", ["F-G-01", "F-G-02", "F-G-03", "F-G-04", "F-O-01"])
    assert result.grade is Grade.GOOD
    assert result.explanation == (
        "Good because: 4 of 4 core Good criteria met and 4 of 8 Good criteria ticked (Good needs at least 4); "
        "1 of 4 Outstanding criteria ticked (Outstanding needs 2)"
    )


def test_good_plus_enough_outstanding_criteria_make_outstanding():
    result = grade_section(FRAMEWORK, "F", ["F-G-01", "F-G-02", "F-G-03", "F-G-04", "F-O-01", "F-O-03"])
    assert result.grade is Grade.OUTSTANDING


def test_outstanding_criteria_cannot_make_up_for_missing_good():
    result = grade_section(FRAMEWORK, "F", criterion_ids(FRAMEWORK, "F", Band.OUTSTANDING) + ["F-G-01"])
    assert result.grade is Grade.REQUIRES_IMPROVEMENT


def test_a_missing_core_criterion_is_named():
    result = grade_section(FRAMEWORK, "F", ["F-G-01", "F-G-02", "F-G-03", "F-G-05", "F-G-06"])
    assert result.grade is Grade.REQUIRES_IMPROVEMENT
    assert result.explanation == (
        "Requires improvement because: 3 of 4 core Good criteria met "
        "(missing: 'Each item says what will be done, specifically enough to check that it is happening' (F-G-04))"
    )


def test_core_criteria_alone_are_not_enough_when_fewer_than_the_minimum():
    result = grade_section(FRAMEWORK, "C", criterion_ids(FRAMEWORK, "C", Band.GOOD, core_only=True))
    assert result.grade is Grade.REQUIRES_IMPROVEMENT
    assert result.explanation == "Requires improvement because: 2 of 5 Good criteria ticked (Good needs at least 4)"


def test_a_requires_improvement_sign_stops_good():
    result = grade_section(FRAMEWORK, "E", good_ticks("E") + ["E-RI-02"])
    assert result.grade is Grade.REQUIRES_IMPROVEMENT
    assert result.explanation == (
        "Requires improvement because: ticked as needing improvement: "
        "'Some outcomes cannot be measured or have no timeframe' (E-RI-02)"
    )


def test_requires_improvement_signs_need_not_stop_good_if_the_rules_say_so():
    rules = dataclasses.replace(FRAMEWORK.rules, requires_improvement_blocks_good=False)
    framework = dataclasses.replace(FRAMEWORK, rules=rules)
    assert grade_section(framework, "E", good_ticks("E") + ["E-RI-02"]).grade is Grade.GOOD


def test_an_inadequate_criterion_outweighs_everything_else():
    result = grade_section(FRAMEWORK, "E", outstanding_ticks("E") + ["E-I-01"])
    assert result.grade is Grade.INADEQUATE
    assert result.explanation == "Inadequate because: 'There are no outcomes, or none that can be measured' (E-I-01)"


def test_only_a_not_applicable_criterion_makes_the_section_not_applicable():
    result = grade_section(FRAMEWORK, "C", ["C-NA-01"])
    assert result.grade is Grade.NOT_APPLICABLE
    assert result.explanation == (
        "Not applicable because: 'C states plainly that there are no health needs related to SEN, "
        "and the health advice in K agrees' (C-NA-01)"
    )


def test_not_applicable_gives_way_to_other_ticks():
    result = grade_section(FRAMEWORK, "C", ["C-NA-01", "C-I-01"])
    assert result.grade is Grade.INADEQUATE
    assert result.explanation.endswith("; C-NA-01 set aside because other criteria are ticked")


def test_counts_are_ticked_and_total_for_each_of_the_sections_bands():
    result = grade_section(FRAMEWORK, "D", ["D-G-01", "D-G-02", "D-RI-03"])
    assert result.counts == {
        Band.OUTSTANDING: (0, 4),
        Band.GOOD: (2, 6),
        Band.REQUIRES_IMPROVEMENT: (1, 4),
        Band.INADEQUATE: (0, 4),
        Band.NOT_APPLICABLE: (0, 1),
    }
    assert list(grade_section(FRAMEWORK, "A", []).counts) == list(GRADED_BANDS)


def test_duplicate_ticks_count_once():
    assert grade_section(FRAMEWORK, "D", ["D-G-01", "D-G-01"]).counts[Band.GOOD] == (1, 6)


@pytest.mark.parametrize(
    ("code", "ticked", "message"),
    [
        ("A", ["A-G-01", "B-G-01"], "Not criteria of section A: B-G-01"),
        ("A", ["nonsense"], "Not criteria of section A: nonsense"),
        ("Z", [], "There is no section 'Z' in framework 2026.2"),
    ],
)
def test_unknown_ids_and_sections_are_refused(code, ticked, message):
    with pytest.raises(ValueError, match=message):
        grade_section(FRAMEWORK, code, ticked)


def test_a_single_string_is_not_taken_for_its_letters():
    with pytest.raises(TypeError):
        grade_section(FRAMEWORK, "A", "A-G-01")


# -- whole audits ----------------------------------------------------------------------------------


def test_an_audit_with_a_section_not_started_has_no_overall_grade():
    ticks = every_section(good_ticks)
    del ticks["H2"]
    ticks["I"] = []
    result = grade_audit(FRAMEWORK, ticks)
    assert (result.overall, result.score) == (None, None)
    assert result.explanation == "Not graded yet: sections H2, I not started."
    assert result.sections["A"].grade is Grade.GOOD


def test_all_good_is_good():
    result = grade_audit(FRAMEWORK, every_section(good_ticks))
    assert (result.overall, result.score) == (Grade.GOOD, 3.0)
    assert result.explanation == (
        "Good: weighted score 3.00 of 4; 12 sections graded (12 Good); "
        "thresholds: Outstanding from 3.5, Good from 2.75, Requires improvement from 2."
    )


def test_all_outstanding_is_outstanding():
    result = grade_audit(FRAMEWORK, every_section(outstanding_ticks))
    assert (result.overall, result.score) == (Grade.OUTSTANDING, 4.0)


def test_weights_decide_the_overall_grade():
    ticks = every_section(good_ticks)
    ticks["F"] = ["F-G-01"]  # F (weight 20) Requires improvement: 3 - 20/100 = 2.8, still Good
    assert grade_audit(FRAMEWORK, ticks).overall is Grade.GOOD
    ticks["B"] = ["B-G-01"]  # and B (15): 3 - 35/100 = 2.65, below 2.75
    result = grade_audit(FRAMEWORK, ticks)
    assert (result.overall, result.score) == (Grade.REQUIRES_IMPROVEMENT, 2.65)


def test_a_score_exactly_on_a_threshold_reaches_it():
    ticks = every_section(good_ticks)
    ticks["F"] = ["F-G-01"]  # exactly 2.8
    rules = dataclasses.replace(FRAMEWORK.rules, thresholds={**FRAMEWORK.rules.thresholds, Grade.GOOD: 2.8})
    assert grade_audit(dataclasses.replace(FRAMEWORK, rules=rules), ticks).overall is Grade.GOOD


def test_not_applicable_sections_are_left_out_and_the_weights_renormalised():
    ticks = every_section(good_ticks)
    ticks.update(C=["C-NA-01"], J=["J-NA-01"], F=outstanding_ticks("F"))
    result = grade_audit(FRAMEWORK, ticks)
    # Remaining weight 90; F (20) scores 4, the other 70 score 3.
    assert result.score == pytest.approx((20 * 4 + 70 * 3) / 90)
    assert result.overall is Grade.GOOD
    assert "sections C, J not applicable, so left out and the other weights scaled up" in result.explanation


def test_an_inadequate_f_caps_the_overall_grade():
    ticks = every_section(outstanding_ticks)
    ticks["F"] = ["F-I-02"]
    result = grade_audit(FRAMEWORK, ticks)
    assert result.overall is Grade.REQUIRES_IMPROVEMENT
    assert result.score == pytest.approx(3.4)
    assert result.explanation == (
        "Requires improvement: weighted score 3.40 of 4 gives Good; capped at Requires improvement because "
        "section F is Inadequate; 12 sections graded (11 Outstanding, 1 Inadequate); "
        "thresholds: Outstanding from 3.5, Good from 2.75, Requires improvement from 2."
    )


def test_the_cap_names_every_limiting_section():
    ticks = every_section(outstanding_ticks)
    ticks.update(B=["B-I-01"], F=["F-I-01"])
    assert "because sections B, F are Inadequate" in grade_audit(FRAMEWORK, ticks).explanation


def test_an_inadequate_section_outside_the_limiting_list_does_not_cap():
    ticks = every_section(outstanding_ticks)
    ticks["E"] = ["E-I-01"]  # 4 - 3 * 15/100 = 3.55
    assert grade_audit(FRAMEWORK, ticks).overall is Grade.OUTSTANDING


def test_limiting_sections_and_cap_come_from_the_rules():
    rules = dataclasses.replace(FRAMEWORK.rules, limiting_sections=("E",), limiting_cap=Grade.INADEQUATE)
    ticks = every_section(outstanding_ticks)
    ticks["E"] = ["E-I-01"]
    result = grade_audit(dataclasses.replace(FRAMEWORK, rules=rules), ticks)
    assert result.overall is Grade.INADEQUATE
    assert "capped at Inadequate because section E is Inadequate" in result.explanation


def test_unknown_section_in_ticks_is_refused():
    with pytest.raises(ValueError, match="There is no section Q"):
        grade_audit(FRAMEWORK, {"Q": []})


# -- properties ------------------------------------------------------------------------------------


def random_audit(rng: random.Random, *, not_applicable: bool) -> dict[str, frozenset[str]]:
    """Every section started. Each audit has its own share of Good and Outstanding criteria ticked
    and its own chance of one unfavourable tick per section, which gives a spread of grades from
    Inadequate to Outstanding, where uniform choices would make nearly every section Inadequate."""
    unfavourable_bands = (Band.REQUIRES_IMPROVEMENT, Band.INADEQUATE) + ((Band.NOT_APPLICABLE,) if not_applicable else ())
    favourable_share, unfavourable_chance = rng.uniform(0.5, 1.0), rng.uniform(0.0, 0.4)
    ticks = {}
    for code in CODES:
        favourable = good_ticks(code) + criterion_ids(FRAMEWORK, code, Band.OUTSTANDING)
        ticked = {criterion_id for criterion_id in favourable if rng.random() < favourable_share}
        if rng.random() < unfavourable_chance:
            ticked.add(rng.choice([i for band in unfavourable_bands for i in criterion_ids(FRAMEWORK, code, band)]))
        ticks[code] = frozenset(ticked or favourable[:1])
    return ticks


# One seeded Random per example rather than a Hypothesis draw per criterion: drawing dominates the
# run time otherwise. A failure still prints the generated ticks.
graded_audits = st.randoms(use_true_random=True).map(lambda rng: random_audit(rng, not_applicable=False))
any_audits = st.randoms(use_true_random=True).map(lambda rng: random_audit(rng, not_applicable=True))
audit_examples = settings(max_examples=60)


@audit_examples
@given(ticks=graded_audits, data=st.data())
def test_one_more_good_tick_never_lowers_a_section_or_the_overall_grade(ticks, data):
    code = data.draw(st.sampled_from(CODES))
    unticked = [criterion_id for criterion_id in good_ticks(code) if criterion_id not in ticks[code]]
    if not unticked:
        return
    more = {**ticks, code: ticks[code] | {data.draw(st.sampled_from(unticked))}}
    before, after = grade_audit(FRAMEWORK, ticks), grade_audit(FRAMEWORK, more)
    assert rank(after.sections[code].grade) >= rank(before.sections[code].grade)
    assert rank(after.overall) >= rank(before.overall)
    assert after.score >= before.score


@audit_examples
@given(ticks=any_audits, data=st.data())
def test_any_inadequate_tick_makes_the_section_inadequate(ticks, data):
    code = data.draw(st.sampled_from(CODES))
    inadequate = data.draw(st.sampled_from(criterion_ids(FRAMEWORK, code, Band.INADEQUATE)))
    assert grade_section(FRAMEWORK, code, ticks[code] | {inadequate}).grade is Grade.INADEQUATE


@audit_examples
@given(ticks=any_audits, section_order=st.permutations(range(len(CODES))), tick_order=st.permutations(CODES))
def test_the_overall_grade_does_not_depend_on_section_or_tick_order(ticks, section_order, tick_order):
    reordered = dataclasses.replace(FRAMEWORK, sections=tuple(FRAMEWORK.sections[index] for index in section_order))
    shuffled = {code: sorted(ticks[code], reverse=True) for code in tick_order}
    original, other = grade_audit(FRAMEWORK, ticks), grade_audit(reordered, shuffled)
    assert (other.overall, other.score) == (original.overall, original.score)
    assert {code: result for code, result in other.sections.items()} == original.sections


@audit_examples
@given(ticks=any_audits)
def test_grading_is_deterministic(ticks):
    assert grade_audit(FRAMEWORK, ticks) == grade_audit(FRAMEWORK, {code: list(ids) for code, ids in ticks.items()})


@audit_examples
@given(ticks=any_audits)
def test_an_inadequate_limiting_section_always_caps(ticks):
    result = grade_audit(FRAMEWORK, ticks)
    if Grade.INADEQUATE in (result.sections["B"].grade, result.sections["F"].grade):
        assert rank(result.overall) <= rank(Grade.REQUIRES_IMPROVEMENT)


@audit_examples
@given(ticks=any_audits)
def test_score_is_the_weighted_mean_of_applicable_sections(ticks):
    result = grade_audit(FRAMEWORK, ticks)
    scores = FRAMEWORK.rules.scores
    counted = [
        (section.weight, scores[result.sections[section.code].grade])
        for section in FRAMEWORK.sections
        if result.sections[section.code].grade is not Grade.NOT_APPLICABLE
    ]
    expected = Fraction(sum(weight * score for weight, score in counted), sum(weight for weight, _ in counted))
    assert result.score == float(expected)
    if not any(result.sections[code].grade is Grade.INADEQUATE for code in ("B", "F")):
        by_score = next(
            (grade for grade, threshold in FRAMEWORK.rules.thresholds.items() if expected >= Fraction(str(threshold))),
            Grade.INADEQUATE,
        )
        assert result.overall is by_score
