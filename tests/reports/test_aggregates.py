from audit_workflow.framework import Grade, default_framework
from audit_workflow.reports.aggregates import (
    HEALTH_FOCUS,
    OVERALL,
    SOCIAL_CARE_FOCUS,
    CriterionTally,
    GradeCount,
    combined,
    compare_distributions,
    distributions,
    focus,
    most_missed,
    published_distribution,
)

FRAMEWORK = default_framework()


def rows(section, **counts):
    return [GradeCount(section, grade, count) for grade, count in counts.items()]


def test_distribution_counts_shares_and_intervals_leave_not_applicable_apart():
    result = distributions([
        *rows(OVERALL, outstanding=1, good=21, requires_improvement=29, inadequate=20),
        *rows("J", good=3, not_applicable=40),
    ], FRAMEWORK)
    overall = result[OVERALL]
    assert overall.counts == (1, 21, 29, 20) and overall.total == 71
    assert [share.text for share in overall.shares] == ["1.4% (1 of 71)", "30% (21 of 71)", "41% (29 of 71)", "28% (20 of 71)"]
    assert overall.good_or_better.text == "31% (22 of 71)"
    assert overall.shares[0].interval.low < 1 / 71 < overall.shares[0].interval.high
    assert result["J"].total == 3 and result["J"].not_applicable == 40
    assert result["J"].title == "J: Personal budget"


def test_every_section_is_present_in_order_even_without_audits():
    result = distributions([], FRAMEWORK)
    assert list(result) == [OVERALL, "A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K"]
    assert all(distribution.total == 0 for distribution in result.values())
    assert result["A"].good_or_better.interval is None


def test_rows_for_the_same_grade_add_up():
    result = distributions([GradeCount("A", "good", 2), GradeCount("A", "good", 3)])
    assert result["A"].count_of(Grade.GOOD) == 5


def test_health_and_social_care_focus_are_their_sections():
    result = distributions([*rows("C", good=2, inadequate=1), *rows("G", good=1), *rows("D", requires_improvement=4)])
    assert [d.section_code for d in focus(result, HEALTH_FOCUS)] == ["C", "G"]
    assert [d.section_code for d in focus(result, SOCIAL_CARE_FOCUS)] == ["D", "H1", "H2"]
    health = combined("Health", focus(result, HEALTH_FOCUS))
    assert health.counts == (0, 3, 0, 1)


def test_most_missed_good_criteria_first_and_never_missed_ones_left_out():
    tallies = [
        CriterionTally("A", "A-G-01", ticked=10, audits=10),
        CriterionTally("A", "A-G-02", ticked=2, audits=10),
        CriterionTally("A", "A-G-03", ticked=6, audits=10),
        CriterionTally("A", "A-O-01", ticked=0, audits=10),  # outstanding criteria are not "missed"
    ]
    missed = most_missed(FRAMEWORK, tallies, per_section=5)["A"]
    assert [(item.criterion_id, item.missed, item.audits) for item in missed] == [("A-G-02", 8, 10), ("A-G-03", 4, 10)]
    assert missed[0].missed_text == "80% (8 of 10)"
    assert missed[0].text == FRAMEWORK.section("A").criteria[[c.id for c in FRAMEWORK.section("A").criteria].index("A-G-02")].text


def test_cycle_comparison_section_by_section():
    before = distributions([*rows(OVERALL, outstanding=2, good=20, requires_improvement=29, inadequate=20)])
    after = distributions([*rows(OVERALL, outstanding=10, good=44, requires_improvement=50, inadequate=19)])
    comparison = compare_distributions(before, after, "Spring 2026", "Summer 2026")
    assert comparison.overall.sentence.startswith("Good or better rose from 31% (22 of 71) in Spring 2026 to 44% (54 of 123)")
    assert comparison.sections["A"].sentence == "Good or better cannot be compared: there are no graded plans in Spring 2026."


def test_published_national_average_becomes_counts_of_its_plans():
    national = published_distribution(OVERALL, "National", {"outstanding": 1.8, "good": 45.6,
                                                              "requires_improvement": 36, "inadequate": 16.6}, 1000)
    assert national.counts == (18, 456, 360, 166)
