"""Drawing a cycle's sample: stratified, proportional and reproducible; and how precise a sample is.

The same seed and the same population (in any order) always give the same sample, so a draw can
be repeated and checked. Each stratum gets its proportional share of the sample by the largest
remainder method, so its count is always within one plan of its exact quota; a stratum whose quota
is under one plan gets a plan only if its remainder is among the largest. No stratum is guaranteed
a plan: with three strata fields there are often more strata than plans in the sample, and a
guaranteed minimum would then over-sample rare combinations. Coordinators can add plans by hand.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class SampleUnit:
    id: Hashable
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class SampleDraw:
    ids: list[Hashable]
    allocation: dict[tuple[str, ...], tuple[int, int]]  # stratum values (in strata order) -> (population, drawn)
    seed: int


def apportion(weights: Mapping[Key, float], total: int, tie_order: Sequence[Key]) -> dict[Key, int]:
    """Share `total` whole units in proportion to `weights` by the largest remainder method: each
    key gets its quota rounded down, and the units left over go to the largest remainders, ties
    taken in `tie_order` (which lists every key). Every key ends within one unit of its exact quota."""
    # Exact fractions, so that equal remainders really are equal (0.6 * 10 is not exactly 6.0).
    exact = {key: Fraction(weight).limit_denominator(10**9) for key, weight in weights.items()}
    weight_sum = sum(exact.values())
    if total < 0 or any(weight < 0 for weight in exact.values()) or (total and not weight_sum):
        raise ValueError("Apportion a total of 0 or more, by weights of 0 or more that are not all 0")
    quotas = {key: total * weight / weight_sum if weight_sum else Fraction(0) for key, weight in exact.items()}
    shares = {key: math.floor(quota) for key, quota in quotas.items()}
    position = {key: index for index, key in enumerate(tie_order)}
    by_remainder = sorted(quotas, key=lambda key: (-(quotas[key] - shares[key]), position[key]))
    for key in by_remainder[:total - sum(shares.values())]:
        shares[key] += 1
    return shares


def stratified_sample(population: Sequence[SampleUnit], size: int, strata: Sequence[str], seed: int) -> SampleDraw:
    """Draw min(size, population) units, each stratum (a combination of values of the `strata`
    attributes) in proportion to its share of the population, at random within it.

    Ids must be unique (compared as text, which also orders them). Ties between equal remainders
    are broken in a random order from the seed, so no stratum is favoured by its name.
    """
    if size < 0:
        raise ValueError("The sample size must be 0 or more")
    units = sorted(population, key=lambda unit: str(unit.id))
    if any(str(first.id) == str(second.id) for first, second in zip(units, units[1:])):
        raise ValueError("Each unit in the population must have its own id")
    members: dict[tuple[str, ...], list[Hashable]] = {}
    for unit in units:
        members.setdefault(tuple(unit.attributes[name] for name in strata), []).append(unit.id)
    keys = sorted(members, key=lambda key: tuple(map(str, key)))
    rng = random.Random(f"{seed}")
    tie_order = rng.sample(keys, len(keys))
    drawn_per_stratum = apportion({key: len(members[key]) for key in keys}, min(size, len(units)), tie_order)
    ids: list[Hashable] = []
    allocation: dict[tuple[str, ...], tuple[int, int]] = {}
    for key in keys:
        drawn = rng.sample(members[key], drawn_per_stratum[key])
        ids.extend(drawn)
        allocation[key] = (len(members[key]), len(drawn))
    return SampleDraw(ids, allocation, seed)


def sample_size_for_share(population: int, share: float) -> int:
    """The smallest sample that is at least `share` (0 to 1) of the population."""
    if population < 0 or not 0 <= share <= 1:
        raise ValueError("Give a population of 0 or more and a share from 0 to 1")
    # Less a hair, so float noise (0.1 * 30 == 3.0000000000000004) does not round up a whole number.
    return min(population, math.ceil(population * share - 1e-9))


def margin_of_error(sample_size: int, population: int, proportion: float = 0.5, z: float = 1.96) -> float:
    """Half the width of the confidence interval for a proportion measured on a simple random
    sample, with the finite population correction: 0 when the whole population is sampled. The
    defaults are 95% confidence and the worst case, a proportion of a half."""
    if not 1 <= sample_size <= population:
        raise ValueError("The sample size must be from 1 to the population")
    if population == 1:
        return 0.0
    correction = (population - sample_size) / (population - 1)
    return z * math.sqrt(proportion * (1 - proportion) / sample_size * correction)


def sample_size_for_margin(population: int, margin: float, proportion: float = 0.5, z: float = 1.96) -> int:
    """The smallest sample whose margin_of_error is at most `margin` (a share: 0.05 for ±5 points).
    Cochran's n0 = z²p(1-p)/margin², with the finite population correction n0 / (1 + (n0 - 1)/N),
    which is the exact inverse of margin_of_error."""
    if isinstance(population, float) or population < 1 or not 0 < margin < 1:
        raise ValueError("Give a whole-number population of 1 or more and a margin between 0 and 1 "
                         "(population first: sample_size_for_margin(4200, 0.05))")
    unlimited = z * z * proportion * (1 - proportion) / (margin * margin)
    needed = unlimited / (1 + (unlimited - 1) / population)
    return max(1, min(population, math.ceil(needed - 1e-9)))
