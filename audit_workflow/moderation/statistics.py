"""How well two auditors who graded the same plans agree: pure statistics (numpy and scipy only).

Grades are ordinal bands scored Inadequate 1, Requires improvement 2, Good 3, Outstanding 4; Not
applicable is no grade, so a pair with it on either side is left out. docs/moderation.md says what
each figure means and how to read it. In brief:
- exact agreement: the share of pairs with the same grade; within one: the share at most one band apart;
- Cohen's kappa, quadratically weighted: agreement beyond what chance gives, where a two-band
  disagreement counts four times a one-band one (Cohen 1968);
- Krippendorff's alpha, ordinal: the same idea for any number of auditors per plan and missing grades,
  with differences measured by how many grades lie between them (Krippendorff 2011);
- each with a 95% percentile bootstrap interval (scipy.stats.bootstrap), resampling plans, so both
  grades of a plan stay together, from a fixed seed so the same data always give the same interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import bootstrap

GRADE_SCORES = {"inadequate": 1, "requires_improvement": 2, "good": 3, "outstanding": 4}
SCALE = np.array(sorted(GRADE_SCORES.values()))
MIN_PAIRS = 10  # fewer pairs than this: the figures are shown, but not read as saying anything
MIN_MODERATED = 3  # an auditor's leniency is shown only with at least this many moderated audits
RESAMPLES = 2000
CONFIDENCE = 0.95
TOO_FEW_PAIRS = "too few pairs to say"


def score(grade: str | None) -> int | None:
    """A grade's band score, or None for Not applicable or no grade."""
    return GRADE_SCORES.get(grade or "")


# --- The statistics, vectorised over any leading axes (one per bootstrap resample) -----------------


def _confusion(first: np.ndarray, second: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Counts of (first grade i, second grade j), shape (..., K, K)."""
    one_hot_first = (first[..., :, None] == categories).astype(float)
    one_hot_second = (second[..., :, None] == categories).astype(float)
    return np.einsum("...ni,...nj->...ij", one_hot_first, one_hot_second)


def _ratio_or_nan(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    # No spread at all (every grade the same): agreement beyond chance is undefined.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - observed / np.where(expected > 0, expected, 1), np.nan)


def _kappa_from_confusion(table: np.ndarray, categories: np.ndarray) -> np.ndarray:
    weights = (categories[:, None] - categories[None, :]).astype(float) ** 2
    total = table.sum(axis=(-2, -1))
    expected_table = table.sum(axis=-1)[..., :, None] * table.sum(axis=-2)[..., None, :] / total[..., None, None]
    return _ratio_or_nan((weights * table).sum(axis=(-2, -1)), (weights * expected_table).sum(axis=(-2, -1)))


def _alpha_from_coincidences(coincidences: np.ndarray) -> np.ndarray:
    """Krippendorff's ordinal alpha from a coincidence matrix over the values in ascending order."""
    per_value = coincidences.sum(axis=-1)
    total = per_value.sum(axis=-1)
    cumulative = np.cumsum(per_value, axis=-1)
    size = per_value.shape[-1]
    low = np.minimum.outer(np.arange(size), np.arange(size))
    high = np.maximum.outer(np.arange(size), np.arange(size))
    # The ordinal metric: the count of values from c to k, less half of c's and k's own, squared.
    between = cumulative[..., high] - cumulative[..., low] + per_value[..., low]
    delta = (between - (per_value[..., :, None] + per_value[..., None, :]) / 2) ** 2
    observed = (coincidences * delta).sum(axis=(-2, -1))
    expected = (per_value[..., :, None] * per_value[..., None, :] * delta).sum(axis=(-2, -1)) / (total - 1)
    return _ratio_or_nan(observed, expected)


def _exact(first, second, axis=-1):
    return np.mean(first == second, axis=axis)


def _within_one(first, second, axis=-1):
    return np.mean(np.abs(first - second) <= 1, axis=axis)


def _kappa(first, second, axis=-1):
    return _kappa_from_confusion(_confusion(np.moveaxis(first, axis, -1), np.moveaxis(second, axis, -1), SCALE), SCALE)


def _alpha(first, second, axis=-1):
    table = _confusion(np.moveaxis(first, axis, -1), np.moveaxis(second, axis, -1), SCALE)
    return _alpha_from_coincidences(table + np.swapaxes(table, -1, -2))


def weighted_kappa(first: Sequence[int], second: Sequence[int]) -> float | None:
    """Quadratically weighted Cohen's kappa on the four-band scale; None when every grade is the same."""
    value = float(_kappa(np.asarray(first), np.asarray(second)))
    return None if np.isnan(value) else value


def krippendorff_alpha_ordinal(units: Sequence[Sequence[float | None]]) -> float | None:
    """Ordinal alpha for reliability data: one list of values per unit (plan), None where a rater
    gave none. Units with fewer than two values cannot be paired and are left out."""
    values = sorted({value for unit in units for value in unit if value is not None})
    index = {value: position for position, value in enumerate(values)}
    coincidences = np.zeros((len(values), len(values)))
    for unit in units:
        present = [index[value] for value in unit if value is not None]
        if len(present) < 2:
            continue
        for i, first in enumerate(present):
            for j, second in enumerate(present):
                if i != j:
                    coincidences[first, second] += 1 / (len(present) - 1)
    if not values:
        return None
    value = float(_alpha_from_coincidences(coincidences))
    return None if np.isnan(value) else value


def pairs_alpha(first: Sequence[int], second: Sequence[int]) -> float | None:
    value = float(_alpha(np.asarray(first), np.asarray(second)))
    return None if np.isnan(value) else value


# --- Intervals and words ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    value: float | None
    ci: tuple[float, float] | None
    words: str

    def as_json(self) -> dict:
        return {"value": _rounded(self.value), "ci": [_rounded(bound) for bound in self.ci] if self.ci else None}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _interval(statistic, samples: tuple[np.ndarray, ...], seed: int) -> tuple[float, float] | None:
    """The percentile bootstrap interval, resampling whole plans (paired), from a fixed seed."""
    if len(samples[0]) < 2:
        return None

    def defined(*resampled, axis=-1):
        # A resample with no spread at all agrees perfectly, as far as it goes.
        return np.nan_to_num(statistic(*resampled, axis=axis), nan=1.0)

    result = bootstrap(samples, defined, paired=True, vectorized=True, n_resamples=RESAMPLES, method="percentile",
                       confidence_level=CONFIDENCE, rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return float(low), float(high)


def kappa_words(value: float | None, pairs: int) -> str:
    """Landis and Koch's (1977) words for a kappa."""
    if pairs < MIN_PAIRS:
        return TOO_FEW_PAIRS
    if value is None:
        return "every grade was the same, so agreement beyond chance cannot be measured"
    for limit, words in ((0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if value <= limit:
            return f"{words} agreement"
    return "almost perfect agreement"


def alpha_words(value: float | None, pairs: int) -> str:
    """Krippendorff's (2004) reading of alpha: 0.8 reliable; 0.667 enough for tentative conclusions only."""
    if pairs < MIN_PAIRS:
        return TOO_FEW_PAIRS
    if value is None:
        return "every grade was the same, so agreement beyond chance cannot be measured"
    if value >= 0.8:
        return "reliable agreement"
    if value >= 0.667:
        return "agreement good enough for tentative conclusions only"
    return "agreement too low to rely on"


def share_words(value: float | None, pairs: int, what: str) -> str:
    if pairs < MIN_PAIRS:
        return TOO_FEW_PAIRS
    return f"{round(value * 100)}% of pairs {what}"


@dataclass(frozen=True)
class Agreement:
    pairs: int
    exact_agreement: Estimate
    within_one: Estimate
    weighted_kappa: Estimate
    krippendorff_alpha: Estimate

    def as_json(self) -> dict:
        return {
            "pairs": self.pairs,
            "exact_agreement": _rounded(self.exact_agreement.value),
            "within_one": _rounded(self.within_one.value),
            "weighted_kappa": self.weighted_kappa.as_json(),
            "krippendorff_alpha": self.krippendorff_alpha.as_json(),
        }


def agreement(pairs: Sequence[tuple[int, int]], seed: int) -> Agreement:
    """Every agreement statistic for pairs of band scores (one pair per plan), with its interval."""
    first = np.array([pair[0] for pair in pairs], dtype=float)
    second = np.array([pair[1] for pair in pairs], dtype=float)
    count = len(pairs)

    def estimate(statistic, words) -> Estimate:
        if not count:
            return Estimate(None, None, TOO_FEW_PAIRS)
        value = float(statistic(first, second))
        value = None if np.isnan(value) else value
        return Estimate(value, _interval(statistic, (first, second), seed), words(value, count))

    return Agreement(
        pairs=count,
        exact_agreement=estimate(_exact, lambda value, n: share_words(value, n, "gave the same grade")),
        within_one=estimate(_within_one, lambda value, n: share_words(value, n, "were at most one band apart")),
        weighted_kappa=estimate(_kappa, kappa_words),
        krippendorff_alpha=estimate(_alpha, alpha_words),
    )


@dataclass(frozen=True)
class Leniency:
    moderated: int
    mean_difference: float | None  # own grade less the agreed grade, in bands: above 0 lenient, below severe
    ci: tuple[float, float] | None
    words: str


def _mean(values, axis=-1):
    return np.mean(values, axis=axis)


def leniency(differences: Sequence[int], seed: int) -> Leniency:
    """An auditor's mean signed band difference from the agreed grades, shown only from MIN_MODERATED audits."""
    count = len(differences)
    if count < MIN_MODERATED:
        return Leniency(count, None, None, "too few moderated audits to say")
    values = np.asarray(differences, dtype=float)
    mean = float(values.mean())
    if np.all(values == values[0]):
        ci = (mean, mean)  # every resample gives the same mean
    else:
        result = bootstrap((values,), _mean, vectorized=True, n_resamples=RESAMPLES, method="percentile",
                           confidence_level=CONFIDENCE, rng=np.random.default_rng(seed))
        ci = (float(result.confidence_interval.low), float(result.confidence_interval.high))
    if ci[0] > 0:
        words = "grades higher than the agreed grades (lenient)"
    elif ci[1] < 0:
        words = "grades lower than the agreed grades (severe)"
    else:
        words = "in line with the agreed grades"
    return Leniency(count, mean, ci, words)
