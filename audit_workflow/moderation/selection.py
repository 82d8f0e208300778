"""Which submitted audits to moderate, and who moderates each: pure rules, no database.

The sample. Every submitted primary audit gets a fixed rank from the cycle's recorded seed (a hash
of the seed and the plan's id), so the choice is reproducible from the seed and does not depend on
the order audits arrive in. Each run, in this order, picks the best-ranked audit of:
1. every auditor with a submitted audit and none picked yet (every auditor is moderated at least
   once a cycle),
2. every overall grade given and not yet represented among the picks,
3. then the best-ranked of the rest, until the picks reach the cycle's share of submitted audits.
Coverage comes first, so a cycle with few audits may have more than its share moderated.

The second auditor. Never the first auditor, nor anyone in the first auditor's team or the plan
writer's team, nor anyone who declined this plan's moderation, and only within capacity. Among
those: moderators first, then another discipline than the first auditor's, then the lowest load
for their capacity, then the lowest id.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ..cycles.allocation import same_team

BY_AUDITOR = "every auditor is moderated at least once"
BY_GRADE = "every overall grade is represented"
BY_SHARE = "the cycle's moderation share"


@dataclass(frozen=True)
class SubmittedAudit:
    plan_id: Hashable
    auditor_id: Hashable
    overall_grade: str


@dataclass(frozen=True)
class Pick:
    plan_id: Hashable
    reason: str


def rank(seed: int, plan_id: Hashable) -> str:
    return hashlib.sha256(f"{seed}:{plan_id}".encode()).hexdigest()


def moderation_target(submitted: int, share: float) -> int:
    """The number of audits the share asks for, rounded up (a share above 0 moderates at least one)."""
    return math.ceil(submitted * share - 1e-9) if share > 0 else 0


def choose(submitted: Sequence[SubmittedAudit], already: Sequence[SubmittedAudit], excluded: set,
           share: float, seed: int) -> list[Pick]:
    """New picks among submitted audits. already: the audits picked so far (and still picked);
    excluded: plan ids never to pick (already picked, or removed by a coordinator)."""
    if share <= 0:
        return []
    candidates = sorted((audit for audit in submitted if audit.plan_id not in excluded),
                        key=lambda audit: rank(seed, audit.plan_id))
    picks: list[Pick] = []
    covered_auditors = {audit.auditor_id for audit in already}
    covered_grades = {audit.overall_grade for audit in already}

    def take(audit: SubmittedAudit, reason: str) -> None:
        picks.append(Pick(audit.plan_id, reason))
        covered_auditors.add(audit.auditor_id)
        covered_grades.add(audit.overall_grade)
        candidates.remove(audit)

    for auditor_id in sorted({audit.auditor_id for audit in candidates} - covered_auditors, key=str):
        take(next(audit for audit in candidates if audit.auditor_id == auditor_id), BY_AUDITOR)
    for grade in sorted({audit.overall_grade for audit in candidates} - covered_grades):
        take(next(audit for audit in candidates if audit.overall_grade == grade), BY_GRADE)
    wanted = moderation_target(len(submitted), share) - len(already) - len(picks)
    for audit in candidates[:max(0, wanted)]:
        picks.append(Pick(audit.plan_id, BY_SHARE))
    return picks


@dataclass(frozen=True)
class Candidate:
    auditor_id: Hashable
    discipline: str
    team: str | None
    capacity: int
    load: int
    moderator: bool


@dataclass(frozen=True)
class FirstAudit:
    auditor_id: Hashable
    discipline: str
    team: str | None
    writer_team: str | None
    excluded_auditor_ids: frozenset = frozenset()  # declined it, or already hold an audit of the plan


def second_auditor(first: FirstAudit, pool: Sequence[Candidate]) -> tuple[Hashable | None, str]:
    """The chosen auditor's id and why, or None and why nobody could be chosen."""
    eligible = [candidate for candidate in pool
                if candidate.auditor_id != first.auditor_id and candidate.auditor_id not in first.excluded_auditor_ids
                and not same_team(candidate.team, first.team) and not same_team(candidate.team, first.writer_team)]
    if not eligible:
        return None, "nobody in the pool is outside the first auditor's and the plan writer's teams"
    with_room = [candidate for candidate in eligible if candidate.load < candidate.capacity]
    if not with_room:
        return None, "every auditor who could moderate it is at capacity"
    chosen = min(with_room, key=lambda candidate: (not candidate.moderator, candidate.discipline == first.discipline,
                                                    candidate.load / candidate.capacity, str(candidate.auditor_id)))
    why = "a moderator" if chosen.moderator else "an auditor"
    if chosen.discipline != first.discipline:
        why += " from another discipline"
    return chosen.auditor_id, why
