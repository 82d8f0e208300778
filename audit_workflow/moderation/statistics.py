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
# Every figure comes from the 4x4 table of (first grade, second grade) counts. A pair is kept as one
# number, its cell in that table, so a bootstrap resamples plans with both of their grades together
# and counts thousands of resampled tables with one bincount.

CELLS = SCALE.size**2
OFF_SCALE = CELLS  # the cell of a pair with a value that is no band score: counted in no table
BAND_GAPS = np.abs(SCALE[:, None] - SCALE[None, :])


def _cells(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Each pair's cell in the table of (first grade, second grade), numbered row by row."""
    on_scale = np.isin(first, SCALE) & np.isin(second, SCALE)
    return np.where(on_scale, (first - SCALE[0]) * SCALE.size + (second - SCALE[0]), OFF_SCALE).astype(np.intp)


def _tables(cells: np.ndarray) -> np.ndarray:
    """Counts of (first grade i, second grade j) from cells of shape (..., n): shape (..., K, K)."""
    leading = cells.shape[:-1]
    rows = int(np.prod(leading))
    offsets = np.arange(rows)[:, None] * (CELLS + 1)
    counts = np.bincount((cells.reshape(rows, -1) + offsets).ravel(), minlength=rows * (CELLS + 1))
    return counts.reshape(*leading, CELLS + 1)[..., :CELLS].reshape(*leading, SCALE.size, SCALE.size).astype(float)


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


def _share(table: np.ndarray, most_bands_apart: int) -> np.ndarray:
    """The share of pairs at most this many bands apart (0: the same grade)."""
    return (table * (BAND_GAPS <= most_bands_apart)).sum(axis=(-2, -1)) / table.sum(axis=(-2, -1))


def _kappa(table: np.ndarray) -> np.ndarray:
    return _kappa_from_confusion(table, SCALE)


def _alpha(table: np.ndarray) -> np.ndarray:
    return _alpha_from_coincidences(table + np.swapaxes(table, -1, -2))


def _figures(table: np.ndarray) -> np.ndarray:
    """Exact agreement, within one band, kappa and alpha of each table, stacked: shape (4, ...)."""
    return np.stack([_share(table, 0), _share(table, 1), _kappa(table), _alpha(table)])


def _table_of(first: Sequence[int], second: Sequence[int]) -> np.ndarray:
    return _tables(_cells(np.asarray(first, dtype=float), np.asarray(second, dtype=float)))


def weighted_kappa(first: Sequence[int], second: Sequence[int]) -> float | None:
    """Quadratically weighted Cohen's kappa on the four-band scale; None when every grade is the same."""
    return _defined(_kappa(_table_of(first, second)))


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
    return _defined(_alpha_from_coincidences(coincidences))


def pairs_alpha(first: Sequence[int], second: Sequence[int]) -> float | None:
    return _defined(_alpha(_table_of(first, second)))


def _defined(value: np.ndarray) -> float | None:
    return None if np.isnan(value) else float(value)


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


def _intervals(cells: np.ndarray, seed: int) -> list[tuple[float, float] | None]:
    """Each figure's percentile bootstrap interval, in _figures' order, from one resampling of the
    plans (a plan's cell holds both of its grades, so they stay together) with a fixed seed: the
    intervals four paired bootstraps from that seed would give, at a quarter of the cost."""
    if len(cells) < 2:
        return [None] * 4

    def figures(resampled, axis=-1):
        # A resample with no spread at all agrees perfectly, as far as it goes.
        return np.nan_to_num(_figures(_tables(np.moveaxis(resampled, axis, -1))), nan=1.0)

    result = bootstrap((cells,), figures, vectorized=True, n_resamples=RESAMPLES, method="percentile",
                       confidence_level=CONFIDENCE, rng=np.random.default_rng(seed))
    return [(float(low), float(high)) for low, high in zip(*result.confidence_interval)]


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
    count = len(pairs)
    if not count:
        return Agreement(0, *[Estimate(None, None, TOO_FEW_PAIRS)] * 4)
    cells = _cells(np.array([pair[0] for pair in pairs], dtype=float), np.array([pair[1] for pair in pairs], dtype=float))
    words = (lambda value, n: share_words(value, n, "gave the same grade"),
             lambda value, n: share_words(value, n, "were at most one band apart"), kappa_words, alpha_words)
    estimates = []
    for value, interval, read in zip(_figures(_tables(cells)), _intervals(cells, seed), words):
        value = _defined(value)
        estimates.append(Estimate(value, interval, read(value, count)))
    return Agreement(count, *estimates)


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
