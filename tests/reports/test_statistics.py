"""Each statistic against a published worked example, and statsmodels as an independent check."""

import pytest
from statsmodels.stats.proportion import proportion_confint

from audit_workflow.reports import statistics
from audit_workflow.reports.statistics import (
    compare_shares,
    count_text,
    difference_interval,
    mann_whitney,
    mann_whitney_counts,
    percent_text,
    wilson_interval,
)

# Newcombe RG (1998), Two-sided confidence intervals for the single proportion: comparison of seven
# methods. Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score, no continuity correction).
NEWCOMBE_1998_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "trials", "low", "high"), NEWCOMBE_1998_WILSON)
def test_wilson_interval_matches_newcombe_1998(successes, trials, low, high):
    interval = wilson_interval(successes, trials)
    assert interval.low == pytest.approx(low, abs=0.00005)
    assert interval.high == pytest.approx(high, abs=0.00005)


@pytest.mark.parametrize(("successes", "trials"), [(0, 1), (1, 1), (3, 7), (22, 71), (54, 123), (999, 1000)])
def test_wilson_interval_agrees_with_statsmodels(successes, trials):
    interval = wilson_interval(successes, trials)
    low, high = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert (interval.low, interval.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_wilson_interval_of_nothing_is_none_and_impossible_counts_are_refused():
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


# Newcombe RG (1998), Interval estimation for the difference between independent proportions:
# comparison of eleven methods. Statistics in Medicine 17:873-890, Table II example (a), method 10.
def test_difference_interval_matches_newcombe_1998_method_10():
    interval = difference_interval(48, 80, 56, 70)  # 56/70 - 48/80 = 0.2
    assert interval.low == pytest.approx(0.0524, abs=0.00005)
    assert interval.high == pytest.approx(0.3339, abs=0.00005)


def test_mann_whitney_matches_scipys_documented_example():
    # scipy.stats.mannwhitneyu documentation: ages of male and female staff, U1 = 17, exact p = 0.1111.
    males, females = [19, 22, 16, 29, 24], [20, 11, 17, 12]
    result = mann_whitney(males, females)
    assert result.statistic == 17
    assert result.p_value == pytest.approx(1 / 9, abs=1e-4)
    assert not result.significant


@pytest.mark.parametrize(("before", "after"), [
    ([1, 20, 30, 20], [5, 50, 50, 18]),
    ([0, 3, 0, 1], [2, 0, 0, 0]),
    ([10, 0, 0, 10], [0, 10, 10, 0]),
    ([0, 0, 5, 5], [5, 5, 0, 0]),
    ([1, 0, 0, 0], [0, 1, 1, 1]),  # no ties: the exact test
])
def test_mann_whitney_from_counts_is_scipys_test_of_one_value_per_plan(before, after):
    # 4 categories best first: a value per plan, 4 for Outstanding down to 1 for Inadequate.
    expand = lambda counts: [4 - index for index, count in enumerate(counts) for _ in range(count)]  # noqa: E731
    expected = mann_whitney(expand(before), expand(after))
    result = mann_whitney_counts(before, after)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.p_value, rel=1e-9)


def test_mann_whitney_of_identical_single_valued_samples_is_no_difference():
    assert mann_whitney_counts([0, 3, 0, 0], [0, 5, 0, 0]).p_value == 1.0
    assert mann_whitney_counts([0, 0, 0, 0], [0, 5, 0, 0]) is None


def test_percentages_come_with_their_counts():
    assert count_text(54, 123) == "44% (54 of 123)"
    assert count_text(0, 0) == "no plans"
    assert percent_text(0.018) == "1.8%"
    assert percent_text(0.456) == "46%"


def test_a_clear_rise_is_more_than_chance_and_says_so_in_plain_words():
    comparison = compare_shares("Good or better", "Spring 2026", "Summer 2026", [2, 20, 29, 20], [10, 44, 50, 19], top=2)
    assert comparison.first_count == 22 and comparison.second_count == 54
    sentence = comparison.sentence
    assert sentence.startswith("Good or better rose from 31% (22 of 71) in Spring 2026 to 44% (54 of 123) in Summer 2026;")
    assert sentence.endswith("with 71 and 123 plans the difference in grades is more than chance would give "
                             "(Mann-Whitney p = 0.017).")


def test_a_small_change_in_small_samples_is_not_more_than_chance():
    comparison = compare_shares("Good or better", "last cycle", "this cycle", [1, 3, 4, 2], [1, 4, 3, 2], top=2)
    assert not comparison.test.significant
    assert "fell" not in comparison.sentence and "rose from 40% (4 of 10)" in comparison.sentence
    assert "is not more than chance would give" in comparison.sentence


def test_a_large_difference_is_significant():
    comparison = compare_shares("Good or better", "A", "B", [0, 10, 40, 50], [20, 60, 15, 5], top=2)
    assert comparison.test.significant and comparison.test.p_value < 0.001
    assert "is more than chance would give (Mann-Whitney p < 0.001)" in comparison.sentence


def test_nothing_to_compare_is_said_plainly():
    comparison = compare_shares("Good or better", "last cycle", "this cycle", [0, 0, 0, 0], [1, 2, 3, 4], top=2)
    assert comparison.sentence == "Good or better cannot be compared: there are no graded plans in last cycle."


def test_p_values_read_plainly():
    assert statistics.p_value_text(0.0304) == "p = 0.03"
    assert statistics.p_value_text(1.0) == "p = 1"
    assert statistics.p_value_text(0.0001) == "p < 0.001"


def test_two_groups_at_the_same_time_are_higher_or_lower_not_rising():
    comparison = compare_shares("Good or better", "other LAs in England", "your LA", [2, 20, 29, 20], [10, 44, 50, 19],
                                top=2, over_time=False)
    assert comparison.sentence.startswith(
        "Good or better was higher in your LA, 44% (54 of 123), than in other LAs in England, 31% (22 of 71);")
