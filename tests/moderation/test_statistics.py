"""The agreement statistics against published worked examples, and their properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import bootstrap
from statsmodels.stats.inter_rater import cohens_kappa

from audit_workflow.moderation import statistics
from audit_workflow.moderation.statistics import (
    TOO_FEW_PAIRS,
    agreement,
    krippendorff_alpha_ordinal,
    leniency,
    pairs_alpha,
    weighted_kappa,
)

# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section C: four observers,
# twelve units, missing values. Published: nominal 0.743, ordinal 0.815, interval 0.849.
_ = None
KRIPPENDORFF_OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]


def test_ordinal_alpha_matches_krippendorffs_published_example():
    units = list(zip(*KRIPPENDORFF_OBSERVERS))
    assert krippendorff_alpha_ordinal(units) == pytest.approx(0.815, abs=0.0005)


# Two auditors' overall grades of 30 plans (1 Inadequate .. 4 Outstanding), with some disagreement.
FIRST = [3, 3, 2, 4, 1, 3, 2, 2, 3, 4, 3, 2, 1, 3, 3, 2, 4, 3, 2, 3, 1, 2, 3, 3, 4, 2, 3, 2, 3, 1]
SECOND = [3, 2, 2, 3, 1, 3, 3, 2, 3, 4, 2, 2, 2, 3, 4, 1, 4, 3, 3, 3, 1, 2, 3, 2, 3, 2, 3, 3, 3, 3]


def _table(first, second):
    table = np.zeros((4, 4))
    for a, b in zip(first, second):
        table[a - 1, b - 1] += 1
    return table


def test_weighted_kappa_matches_statsmodels_on_the_same_table():
    expected = cohens_kappa(_table(FIRST, SECOND), wt="quadratic", return_results=False)
    assert weighted_kappa(FIRST, SECOND) == pytest.approx(expected, abs=1e-12)


def test_weighted_kappa_matches_cohens_1968_definition_by_hand():
    # Two raters, three plans: (4, 4), (3, 2), (1, 2). Observed weighted disagreement (1 + 1) / 3;
    # expected from the margins: first {4, 3, 1}, second {4, 2, 2}, each cell 1/9 times (i-j)^2.
    first, second = [4, 3, 1], [4, 2, 2]
    expected = sum((a - b) ** 2 for a in first for b in second) / 9
    observed = 2 / 3
    assert weighted_kappa(first, second) == pytest.approx(1 - observed / expected)


def test_alpha_of_pairs_is_the_general_alpha_with_two_values_per_plan():
    assert pairs_alpha(FIRST, SECOND) == pytest.approx(krippendorff_alpha_ordinal(list(zip(FIRST, SECOND))))


def test_agreement_reports_shares_values_intervals_and_words():
    result = agreement(list(zip(FIRST, SECOND)), seed=1)
    assert result.pairs == 30
    assert result.exact_agreement.value == pytest.approx(np.mean(np.array(FIRST) == np.array(SECOND)))
    assert result.within_one.value == pytest.approx(np.mean(np.abs(np.array(FIRST) - np.array(SECOND)) <= 1))
    kappa = result.weighted_kappa
    assert kappa.ci[0] < kappa.value < kappa.ci[1]
    assert kappa.words == statistics.kappa_words(kappa.value, 30)
    alpha = result.krippendorff_alpha
    assert alpha.ci[0] < alpha.value < alpha.ci[1]
    assert agreement(list(zip(FIRST, SECOND)), seed=1) == result  # seeded: the same data give the same intervals


def _paired_bootstrap(statistic, seed):
    """The interval scipy.stats.bootstrap gives for one figure alone, resampling the plans' pairs."""
    result = bootstrap((np.array(FIRST, dtype=float), np.array(SECOND, dtype=float)), statistic, paired=True,
                       vectorized=False, n_resamples=statistics.RESAMPLES, method="percentile",
                       confidence_level=statistics.CONFIDENCE, rng=np.random.default_rng(seed))
    return tuple(result.confidence_interval)


def test_one_resampling_gives_each_figure_the_interval_of_its_own_paired_bootstrap():
    # All four intervals come from one resampling of the plans: each must be what a bootstrap of
    # that figure alone, from the same seed, gives (kappa and alpha recomputed for every resample).
    result = agreement(list(zip(FIRST, SECOND)), seed=7)
    expected = {
        "exact_agreement": _paired_bootstrap(lambda first, second: np.mean(first == second), 7),
        "within_one": _paired_bootstrap(lambda first, second: np.mean(np.abs(first - second) <= 1), 7),
        "weighted_kappa": _paired_bootstrap(lambda first, second: weighted_kappa(first, second), 7),
        "krippendorff_alpha": _paired_bootstrap(lambda first, second: pairs_alpha(first, second), 7),
    }
    for name, interval in expected.items():
        assert getattr(result, name).ci == pytest.approx(interval, abs=1e-12), name


def test_under_ten_pairs_the_words_say_too_few():
    result = agreement(list(zip(FIRST[:9], SECOND[:9])), seed=1)
    assert {result.weighted_kappa.words, result.krippendorff_alpha.words, result.exact_agreement.words} == {TOO_FEW_PAIRS}
    assert result.weighted_kappa.value is not None


@pytest.mark.parametrize(("value", "words"), [
    (-0.1, "poor agreement"), (0.1, "slight agreement"), (0.3, "fair agreement"), (0.5, "moderate agreement"),
    (0.7, "substantial agreement"), (0.9, "almost perfect agreement"),
])
def test_kappa_words_follow_landis_and_koch(value, words):
    assert statistics.kappa_words(value, 10) == words


def test_no_pairs_gives_no_figures():
    result = agreement([], seed=1)
    assert (result.pairs, result.weighted_kappa.value, result.weighted_kappa.ci) == (0, None, None)


def test_every_grade_the_same_has_no_kappa():
    assert weighted_kappa([3, 3, 3], [3, 3, 3]) is None


def test_leniency_needs_three_moderated_audits():
    assert leniency([1, 1], seed=1).mean_difference is None
    lenient = leniency([1, 1, 0, 1, 2], seed=1)
    assert lenient.mean_difference == pytest.approx(1.0)
    assert lenient.ci[0] > 0 and "lenient" in lenient.words
    assert "severe" in leniency([-1, -1, -2], seed=1).words
    assert leniency([1, -1, 0, 0], seed=1).words == "in line with the agreed grades"


grades = st.integers(min_value=1, max_value=4)
paired = st.lists(st.tuples(grades, grades), min_size=2, max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(grades, min_size=2, max_size=40).filter(lambda values: len(set(values)) > 1))
def test_perfect_agreement_gives_one(values):
    assert weighted_kappa(values, values) == pytest.approx(1)
    assert pairs_alpha(values, values) == pytest.approx(1)


@settings(max_examples=60, deadline=None)
@given(paired)
def test_swapping_the_raters_changes_nothing(pairs):
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    for statistic in (weighted_kappa, pairs_alpha):
        one, other = statistic(first, second), statistic(second, first)
        assert (one is None and other is None) or one == pytest.approx(other)


@settings(max_examples=40, deadline=None)
@given(paired)
def test_kappa_agrees_with_statsmodels_on_any_table(pairs):
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    ours = weighted_kappa(first, second)
    if ours is not None:
        assert ours == pytest.approx(cohens_kappa(_table(first, second), wt="quadratic", return_results=False), abs=1e-9)
