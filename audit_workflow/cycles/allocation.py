"""Allocating sampled plans to auditors: never to the plan writer's own team, never to an auditor
excluded from the plan (one who declined it), never beyond an auditor's capacity; the load spread
evenly; optionally a mix of disciplines; and an explanation a coordinator can read.

Greedy and deterministic: the plans the fewest auditors can take are placed first, so flexible
plans do not use up the only auditors a constrained plan could have; each plan goes to the
eligible auditor with the lowest load for their capacity, ties to the lowest id. With a discipline
mix, each discipline's quota of the plans is set by the largest remainder method, each plan goes to
the discipline furthest behind its quota that can take it, and once no such discipline can, any
eligible auditor takes it, so capacity is never left idle for the sake of the mix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..reference import discipline_label
from .sampling import apportion

_LONGEST_SERIES = 10  # loads listed one by one up to this many auditors, as a range beyond


@dataclass(frozen=True)
class PlanToAllocate:
    plan_id: Hashable
    writer_team: str | None
    excluded_auditor_ids: frozenset = frozenset()


@dataclass(frozen=True)
class AuditorSlot:
    auditor_id: Hashable
    discipline: str
    team: str | None
    capacity: int
    current_load: int = 0


@dataclass(frozen=True)
class Allocation:
    assignments: list[tuple[Hashable, Hashable]]  # (plan_id, auditor_id), in the order plans were given
    unallocated: list[tuple[Hashable, str]]  # (plan_id, why), the reason completing "not allocated: ..."
    explanation: list[str]


def same_team(first: str | None, second: str | None) -> bool:
    """Whether two team names name the same team, whatever their case and spacing. No team (None
    or blank) is nobody's team, so it never conflicts."""
    if first is None or second is None:
        return False
    first, second = " ".join(first.split()).casefold(), " ".join(second.split()).casefold()
    return bool(first) and first == second


def allocate(plans: Sequence[PlanToAllocate], auditors: Sequence[AuditorSlot],
             discipline_mix: Mapping[str, float] | None = None) -> Allocation:
    """Allocate as many plans as the rules allow; see the module's description for how."""
    if len({str(auditor.auditor_id) for auditor in auditors}) != len(auditors):
        raise ValueError("Each auditor must appear in the pool once")
    pool = sorted(auditors, key=lambda auditor: str(auditor.auditor_id))  # so ties go to the lowest id
    load = {auditor.auditor_id: auditor.current_load for auditor in auditors}

    def can_take(auditor: AuditorSlot, plan: PlanToAllocate) -> bool:
        return (load[auditor.auditor_id] < auditor.capacity and not same_team(auditor.team, plan.writer_team)
                and auditor.auditor_id not in plan.excluded_auditor_ids)

    quotas: dict[str, int] = {}
    if discipline_mix:
        room = sum(max(0, auditor.capacity - auditor.current_load) for auditor in auditors)
        quotas = apportion(discipline_mix, min(len(plans), room), tie_order=list(discipline_mix))
    given: Counter[str] = Counter()
    auditor_for: dict[int, Hashable] = {}
    reason_for: dict[int, str] = {}
    most_constrained_first = sorted(range(len(plans)), key=lambda index: sum(can_take(auditor, plans[index])
                                                                             for auditor in pool))
    for index in most_constrained_first:
        plan = plans[index]
        candidates = [auditor for auditor in pool if can_take(auditor, plan)]
        if not candidates:
            reason_for[index] = _why_not_allocated(plan, pool, load)
            continue
        behind = [discipline for discipline, quota in quotas.items() if given[discipline] < quota
                  and any(auditor.discipline == discipline for auditor in candidates)]
        if behind:  # min() keeps the mix's order on ties
            furthest_behind = min(behind, key=lambda discipline: Fraction(given[discipline], quotas[discipline]))
            candidates = [auditor for auditor in candidates if auditor.discipline == furthest_behind]
        chosen = min(candidates, key=lambda auditor: load[auditor.auditor_id] / auditor.capacity)
        load[chosen.auditor_id] += 1
        given[chosen.discipline] += 1
        auditor_for[index] = chosen.auditor_id

    assignments = [(plans[index].plan_id, auditor_for[index]) for index in sorted(auditor_for)]
    unallocated = [(plans[index].plan_id, reason_for[index]) for index in sorted(reason_for)]
    explanation = _summary(auditors, load, assignments)
    explanation += [f"{_plans(count)} not allocated: {reason}"
                    for reason, count in Counter(reason for _, reason in unallocated).items()]
    if quotas and assignments:
        explanation.append(_mix_outcome(discipline_mix, quotas, given, auditors, load, len(assignments)))
    return Allocation(assignments, unallocated, explanation)


def _why_not_allocated(plan: PlanToAllocate, pool: Sequence[AuditorSlot], load: Mapping[Hashable, int]) -> str:
    if not pool:
        return "there are no auditors in the pool"
    with_room = [auditor for auditor in pool if load[auditor.auditor_id] < auditor.capacity]
    if not with_room:
        return "every auditor is at capacity"
    in_team = any(same_team(auditor.team, plan.writer_team) for auditor in with_room)
    excluded = any(auditor.auditor_id in plan.excluded_auditor_ids for auditor in with_room)
    team = f"in the plan writer's team ({(plan.writer_team or '').strip()})"
    if in_team and excluded:
        return f"every auditor with spare capacity is {team} or has declined it"
    if in_team:
        return f"every auditor with spare capacity is {team}"
    return "every auditor with spare capacity has declined it"


def _plans(count: int) -> str:
    return f"{count} plan{'' if count == 1 else 's'}"


def _series(numbers: Sequence[int]) -> str:
    """3-3-2 for a few numbers; for many, their range."""
    if len(numbers) <= _LONGEST_SERIES:
        return "-".join(map(str, numbers))
    return f"{min(numbers)} to {max(numbers)}"


def _summary(auditors: Sequence[AuditorSlot], load: Mapping[Hashable, int],
             assignments: Sequence[tuple[Hashable, Hashable]]) -> list[str]:
    if not auditors:
        return ["There are no auditors in the pool"]
    receiving = len({auditor_id for _, auditor_id in assignments})
    if not receiving:
        outcome = "No plans allocated"
    elif receiving == len(auditors):
        outcome = f"{_plans(len(assignments))} allocated to {receiving} auditor{'' if receiving == 1 else 's'}"
    else:
        outcome = f"{_plans(len(assignments))} allocated to {receiving} of the {len(auditors)} auditors"
    loads = _series([load[auditor.auditor_id] for auditor in auditors])
    capacities = _series([auditor.capacity for auditor in auditors])
    return [f"{outcome}; loads {loads} of capacities {capacities}"]


def _mix_outcome(mix: Mapping[str, float], quotas: Mapping[str, int], given: Mapping[str, int],
                 auditors: Sequence[AuditorSlot], load: Mapping[Hashable, int], allocated: int) -> str:
    """E.g. "Discipline mix asked 60/20/20 (education/health/social care), achieved 58/25/17 because
    health auditors ran out of capacity"."""
    disciplines = list(quotas)
    total_share = sum(mix.values())
    asked = "/".join(str(round(100 * mix[discipline] / total_share)) for discipline in disciplines)
    achieved = "/".join(str(round(100 * given[discipline] / allocated)) for discipline in disciplines)
    names = "/".join(discipline_label(discipline).lower() for discipline in disciplines)
    line = f"Discipline mix asked {asked} ({names}), achieved {achieved}"
    short = [discipline for discipline in disciplines if given[discipline] < quotas[discipline]]
    if short:
        line += " because " + " and ".join(_shortfall(discipline, auditors, load) for discipline in short)
    elif achieved != asked:
        line += f", the closest split of {_plans(allocated)}"
    elsewhere = allocated - sum(given[discipline] for discipline in disciplines)
    if elsewhere:
        line += f"; {_plans(elsewhere)} went to auditors of other disciplines, to use their spare capacity"
    return line


def _shortfall(discipline: str, auditors: Sequence[AuditorSlot], load: Mapping[Hashable, int]) -> str:
    label = discipline_label(discipline).lower()
    theirs = [auditor for auditor in auditors if auditor.discipline == discipline]
    if not theirs:
        return f"there are no {label} auditors in the pool"
    if all(load[auditor.auditor_id] >= auditor.capacity for auditor in theirs):
        return f"{label} auditors ran out of capacity"
    return f"{label} auditors could not take some plans (the writer's team, or declined)"
