"""The statistics behind every comparison in the reports, and the plain words they are read out in.

Pure: numbers in, numbers and sentences out. docs/reports.md explains each method and why it was
chosen; the tests check each against a published worked example.

- A share of plans gets a Wilson score 95% interval (Wilson 1927; Newcombe 1998 method 3), which
  stays inside 0-100% and is honest for small samples and for shares near 0% or 100%.
- A difference between two shares gets Newcombe's hybrid score interval (Newcombe 1998, method 10).
- Whether one set of grades is better than another is tested with the Mann-Whitney U test, which
  uses the grades' order (Outstanding > Good > Requires improvement > Inadequate) and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy
from scipy import stats

CONFIDENCE = 0.95
# Below this p-value a difference is called "more than chance would give".
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Interval:
    low: float  # shares, 0..1
    high: float

    def __str__(self) -> str:
        return f"{percent_text(self.low)} to {percent_text(self.high)}"


def z_for(confidence: float = CONFIDENCE) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> Interval | None:
    """The Wilson score interval for successes out of trials; None when there are no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and {trials}, not {successes}")
    z = z_for(confidence)
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    # Exactly 0 or 1 at the ends, not a rounding error away from them.
    low = 0.0 if successes == 0 else (centre - spread) / denominator
    high = 1.0 if successes == trials else (centre + spread) / denominator
    return Interval(low, high)


def difference_interval(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
                        confidence: float = CONFIDENCE) -> Interval | None:
    """Newcombe's hybrid score interval for share_b - share_a (how much b is above a)."""
    first = wilson_interval(successes_a, trials_a, confidence)
    second = wilson_interval(successes_b, trials_b, confidence)
    if first is None or second is None:
        return None
    share_a, share_b = successes_a / trials_a, successes_b / trials_b
    difference = share_b - share_a
    below = math.sqrt((share_b - second.low) ** 2 + (first.high - share_a) ** 2)
    above = math.sqrt((second.high - share_b) ** 2 + (share_a - first.low) ** 2)
    return Interval(difference - below, difference + above)


@dataclass(frozen=True)
class OrdinalTest:
    """The Mann-Whitney U test of two samples of ordered values."""

    statistic: float  # U of the first sample
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE


def mann_whitney(first: Sequence[float], second: Sequence[float]) -> OrdinalTest | None:
    """Two-sided Mann-Whitney U; exact for small samples without ties, else the normal
    approximation with the tie correction (scipy's "auto"). None if either sample is empty."""
    if not len(first) or not len(second):
        return None
    if len(set(first) | set(second)) < 2:
        return OrdinalTest(statistic=len(first) * len(second) / 2, p_value=1.0)  # every value the same
    result = stats.mannwhitneyu(first, second, alternative="two-sided", method="auto")
    return OrdinalTest(float(result.statistic), float(result.pvalue))


def mann_whitney_counts(first: Sequence[int], second: Sequence[int]) -> OrdinalTest | None:
    """Mann-Whitney U from counts per ordered category (best first, e.g. Outstanding, Good,
    Requires improvement, Inadequate), as the reports hold grades.

    With ties (two plans with the same grade, nearly always) this is scipy's normal approximation
    with the tie and continuity corrections, worked out from the counts (midranks per category)
    rather than from one value per plan, so a page of comparisons stays quick; without ties the
    samples are tiny and scipy's exact test is used."""
    if len(first) != len(second):
        raise ValueError("both samples need a count for every category")
    n1, n2 = sum(first), sum(second)
    if not n1 or not n2:
        return None
    totals = [a + b for a, b in zip(first, second)]
    if max(totals) <= 1:
        ranks = numpy.arange(len(first), 0, -1)  # the best category is the highest value
        return mann_whitney(numpy.repeat(ranks, first), numpy.repeat(ranks, second))
    if sum(1 for total in totals if total) < 2:
        return OrdinalTest(statistic=n1 * n2 / 2, p_value=1.0)  # every plan has the same grade
    below, rank_sum = 0, 0.0
    for count, total in reversed(list(zip(first, totals))):  # worst category first: lowest ranks
        rank_sum += count * (below + (total + 1) / 2)
        below += total
    u_first = rank_sum - n1 * (n1 + 1) / 2
    n = n1 + n2
    ties = sum(total ** 3 - total for total in totals)
    spread = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = (max(u_first, n1 * n2 - u_first) - n1 * n2 / 2 - 0.5) / spread
    return OrdinalTest(u_first, float(min(1.0, 2 * stats.norm.sf(z))))


def percent_text(share: float) -> str:
    """A share as people read it: whole percent, or one decimal below 10% (1.8%, 45%)."""
    percent = share * 100
    if 0 < percent < 10 and round(percent, 1) != round(percent):
        return f"{percent:.1f}%"
    return f"{percent:.0f}%"


def count_text(count: int, total: int) -> str:
    """A share with its count, never a bare percentage: "44% (54 of 123)"."""
    if total <= 0:
        return "no plans"
    return f"{percent_text(count / total)} ({count} of {total})"


@dataclass(frozen=True)
class ShareComparison:
    """One share (e.g. Good or better) in two groups of plans, with the test of the whole grade order."""

    what: str  # "Good or better"
    first_label: str
    second_label: str
    first_count: int
    first_total: int
    second_count: int
    second_total: int
    first_interval: Interval | None
    second_interval: Interval | None
    difference: Interval | None
    test: OrdinalTest | None
    over_time: bool = True  # first then second (cycles): "rose"/"fell"; else two groups: "higher"/"lower"

    @property
    def sentence(self) -> str:
        return comparison_sentence(self)


def compare_shares(what: str, first_label: str, second_label: str,
                   first_counts: Sequence[int], second_counts: Sequence[int], top: int,
                   over_time: bool = True) -> ShareComparison:
    """Compare the share in the `top` best categories (e.g. top=2: Good or better) between two
    groups given as counts per category, best first; the test uses every category's order."""
    first_count, second_count = sum(first_counts[:top]), sum(second_counts[:top])
    first_total, second_total = sum(first_counts), sum(second_counts)
    return ShareComparison(
        what, first_label, second_label, first_count, first_total, second_count, second_total,
        wilson_interval(first_count, first_total), wilson_interval(second_count, second_total),
        difference_interval(first_count, first_total, second_count, second_total),
        mann_whitney_counts(first_counts, second_counts), over_time,
    )


def comparison_sentence(comparison: ShareComparison) -> str:
    """E.g. "Good or better rose from 31% (22 of 71) in Spring 2026 to 44% (54 of 123) in Summer
    2026; with 71 and 123 plans the difference in grades is more than chance would give
    (Mann-Whitney p = 0.017)." Between two groups rather than two times: "was higher in ... than in"."""
    c = comparison
    if not c.first_total or not c.second_total:
        missing = c.first_label if not c.first_total else c.second_label
        return f"{c.what} cannot be compared: there are no graded plans in {missing}."
    first = f"{count_text(c.first_count, c.first_total)} in {c.first_label}"
    second = f"{count_text(c.second_count, c.second_total)} in {c.second_label}"
    first_share, second_share = c.first_count / c.first_total, c.second_count / c.second_total
    if round(first_share * 100) == round(second_share * 100):
        movement = f"{c.what} was about the same: {first} and {second}"
    elif c.over_time:
        verb = "rose" if second_share > first_share else "fell"
        movement = f"{c.what} {verb} from {first} to {second}"
    else:
        higher = "higher" if second_share > first_share else "lower"
        movement = (f"{c.what} was {higher} in {c.second_label}, {count_text(c.second_count, c.second_total)}, "
                    f"than in {c.first_label}, {count_text(c.first_count, c.first_total)}")
    verdict = "is" if c.test.significant else "is not"
    grades_moved = (f"with {c.first_total} and {c.second_total} plans the difference in grades {verdict} "
                    f"more than chance would give (Mann-Whitney {p_value_text(c.test.p_value)})")
    return f"{movement}; {grades_moved}."


def p_value_text(p_value: float) -> str:
    """ "p = 0.03", "p < 0.001"."""
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}".rstrip("0").rstrip(".")


def counts_in_order(counts: Mapping[str, int], order: Sequence[str]) -> list[int]:
    return [counts.get(category, 0) for category in order]
