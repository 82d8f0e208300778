"""Workload: the moderation statistics of a cycle with 1,000 moderated pairs (100 at tiny), as the
statistics page and `moderation stats --json` compute them: agreement overall and for each section
(exact, within one band, weighted kappa, Krippendorff's alpha, each with its seeded bootstrap
interval of 2,000 resamples), each auditor's leniency with its interval, the flagged and adjudicated
counts and the criteria ticked differently. The floor is the least work that gives the same numbers:
one bare SELECT of the pairs' grades and ticks, and numpy counting each bootstrap resample's 4x4
table of grades with one `bincount`, resampling the same indices from the same seed. Its numbers
must match ours to 3 decimal places. The goal is the issue's: ours under 2 s; its peak Python
memory (tracemalloc) is reported too.

Built in an LA of its own with a closed cycle, so the tick never chases it, and run last, so no
other workload counts its audits.
"""

from __future__ import annotations

import json
import tracemalloc
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, select
from sqlmodel import Session

from audit_workflow.audits.models import Audit, SectionJudgement
from audit_workflow.auth.models import User
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.cycles.models import Assignment, AuditCycle
from audit_workflow.db import session_scope
from audit_workflow.framework import default_framework
from audit_workflow.framework.versions import active_framework
from audit_workflow.moderation import service
from audit_workflow.moderation.models import AgreedGrade, ModerationCycle, ModerationPick
from audit_workflow.moderation.statistics import CONFIDENCE, MIN_MODERATED, RESAMPLES
from audit_workflow.plans.models import Plan

from .data import NOW, TODAY, RowGenerator, insert_rows
from .harness import Bench, Check, Result, paired_medians

PAIRS = 1_000
TINY_PAIRS = 100  # the smoke test's scale: the same work, in a second
AUDITORS = 40
GOAL_SECONDS = 2.0
MAX_REPEAT = 3
SEED = 17017
MODERATION_SEED = 4242
TOLERANCE = 0.0005  # "the same to 3 decimal places"
# Band scores 1..4 as statistics.py has them; anything else (Not applicable) is no grade.
SCORES = {"inadequate": 1, "requires_improvement": 2, "good": 3, "outstanding": 4}
BANDS = tuple(SCORES)
OVERALL_MIX = {"inadequate": 12, "requires_improvement": 30, "good": 48, "outstanding": 10}
NOT_APPLICABLE_SHARE = 0.06  # of each side's grades in the sections that may be not applicable


# --- The data -------------------------------------------------------------------------------------


def _second_opinion(gen: RowGenerator, grade: str) -> str:
    """The moderator's grade: mostly the same, often one band away, sometimes anything."""
    roll = gen.rng.random()
    if roll < 0.6:
        return grade
    if roll < 0.9:
        position = BANDS.index(grade) + gen.rng.choice((-1, 1))
        return BANDS[min(max(position, 0), len(BANDS) - 1)]
    return gen.rng.choice(BANDS)


def _ticks(gen: RowGenerator, criteria: list[str], like: list[str] | None = None) -> list[str]:
    """Four criteria, or the other side's with one of them swapped half the time."""
    if like is None:
        return gen.rng.sample(criteria, 4)
    if gen.rng.random() < 0.5:
        return like
    return [*like[1:], gen.rng.choice([criterion for criterion in criteria if criterion not in like])]


class _PairRows:
    """The rows of a cycle whose picked plans each have a submitted first and second audit."""

    def __init__(self, gen: RowGenerator, la_id: uuid.UUID, cycle_id: uuid.UUID, version_id: uuid.UUID,
                 auditor_ids: list[uuid.UUID]):
        self.gen, self.la_id, self.cycle_id, self.version_id, self.auditor_ids = gen, la_id, cycle_id, version_id, auditor_ids
        self.sections = [(section.code, [criterion.id for criterion in section.criteria], not section.applicable_always)
                         for section in default_framework().sections]
        self.rows: dict[Any, list[dict]] = {model: [] for model in (Plan, ModerationPick, Assignment, Audit,
                                                                      SectionJudgement, AgreedGrade)}

    def _row(self, model, **values) -> dict:
        row = {"id": self.gen.uuid(), "la_id": self.la_id, **values}
        self.rows[model].append(row)
        return row

    def _audit(self, plan_id: uuid.UUID, auditor_id: uuid.UUID, kind: str, overall: str,
               sections: list[tuple[str, str, list[str]]]) -> uuid.UUID:
        submitted = self.gen.instant(TODAY - timedelta(days=100))
        assignment = self._row(Assignment, cycle_id=self.cycle_id, plan_id=plan_id, auditor_id=auditor_id, kind=kind,
                               status="submitted", due_date=TODAY - timedelta(days=90), assigned_at=NOW - timedelta(days=120),
                               submitted_at=submitted)
        audit = self._row(Audit, assignment_id=assignment["id"], framework_version_id=self.version_id, status="submitted",
                          overall_grade=overall, started_at=submitted, updated_at=submitted, submitted_at=submitted)
        for code, grade, ticked in sections:
            self._row(SectionJudgement, audit_id=audit["id"], section_code=code, grade=grade, ticked=json.dumps(ticked),
                      updated_at=submitted)
        return audit["id"]

    def add_pair(self, number: int) -> None:
        gen = self.gen
        plan = self._row(Plan, system_id=f"MOD-{number:05d}", key_stage="KS3", setting_name="Setting",
                         setting_type="mainstream_maintained", primary_need="SEMH", plan_type="annual_review",
                         writer_team="Team 1", created_at=NOW, updated_at=NOW)
        self._row(ModerationPick, cycle_id=self.cycle_id, plan_id=plan["id"], source="sample",
                  reason="Chosen by the benchmark", picked_at=NOW)
        first_auditor, second_auditor = gen.rng.sample(self.auditor_ids, 2)
        first_overall = gen.weighted(OVERALL_MIX, 1)[0]
        second_overall = _second_opinion(gen, first_overall)
        first_sections, second_sections = [], []
        for code, criteria, may_be_na in self.sections:
            grade = gen.rng.choice(BANDS)
            first_grade, second_grade = grade, _second_opinion(gen, grade)
            if may_be_na and gen.rng.random() < NOT_APPLICABLE_SHARE:
                first_grade = "not_applicable"
            if may_be_na and gen.rng.random() < NOT_APPLICABLE_SHARE:
                second_grade = "not_applicable"
            ticked = _ticks(gen, criteria)
            first_sections.append((code, first_grade, ticked))
            second_sections.append((code, second_grade, _ticks(gen, criteria, ticked)))
        first_audit = self._audit(plan["id"], first_auditor, "primary", first_overall, first_sections)
        self._audit(plan["id"], second_auditor, "moderation", second_overall, second_sections)
        if first_overall != second_overall and gen.rng.random() < 0.5:  # half the disagreements adjudicated
            agreed = [("overall", gen.rng.choice((first_overall, second_overall)))]
            for code, grade, _ticked in first_sections:
                agreed.append((code, grade))
            for code, grade in agreed:
                self._row(AgreedGrade, audit_id=first_audit, section_code=code, grade=grade, decided_at=NOW)


def build_cycle(engine, pairs: int) -> uuid.UUID:
    """A new LA with a closed cycle of `pairs` moderated plans and its recorded moderation seed."""
    gen = RowGenerator(SEED)
    la_id, cycle_id = gen.uuid(), gen.uuid()
    with session_scope(engine) as db:  # the shipped framework the audits are graded under, stored as the service does
        version_id = active_framework(db, la_id)[0].id
    auditors = [{"id": gen.uuid(), "la_id": la_id, "email": f"auditor{number:02d}@la991.example.gov.uk",
                 "display_name": f"Auditor {number:02d} (991)", "roles": "auditor", "discipline": "education",
                 "active": True, "created_at": NOW} for number in range(AUDITORS)]
    rows = _PairRows(gen, la_id, cycle_id, version_id, [auditor["id"] for auditor in auditors])
    for number in range(pairs):
        rows.add_pair(number)
    start = TODAY - timedelta(days=150)
    with engine.begin() as connection:
        insert_rows(connection, LocalAuthority.__table__, [{"id": la_id, "code": "991", "name": "Moderation LA",
                                                            "region": "E12000007", "created_at": NOW}])
        insert_rows(connection, User.__table__, auditors)
        insert_rows(connection, AuditCycle.__table__, [{
            "id": cycle_id, "la_id": la_id, "name": "Moderated cycle", "period_start": start,
            "period_end": start + timedelta(days=90), "status": "closed", "sample_size": pairs, "created_at": NOW}])
        insert_rows(connection, ModerationCycle.__table__, [{"id": gen.uuid(), "la_id": la_id, "cycle_id": cycle_id,
                                                             "seed": MODERATION_SEED, "created_at": NOW}])
        for model, model_rows in rows.rows.items():
            insert_rows(connection, model.__table__, model_rows)
    return cycle_id


# --- Ours -----------------------------------------------------------------------------------------


def _ours(engine, cycle_id: uuid.UUID) -> tuple[dict, list[tuple]]:
    """The statistics report the page shows and `moderation stats --json` prints."""
    with Session(engine) as db:
        report = service.statistics_report(db, [db.get(AuditCycle, cycle_id)])
        return report.as_json(), [(item.section_code, item.criterion_id, item.times) for item in report.criteria]


# --- The floor ------------------------------------------------------------------------------------


def _pairs_query(cycle_id: uuid.UUID):
    """One row per complete pair and section, in System ID order (the order the bootstrap resamples)."""
    pick, plan, agreed = ModerationPick.__table__, Plan.__table__, AgreedGrade.__table__
    sides = []
    for kind in ("primary", "moderation"):
        assignment, audit, judgement, user = (model.__table__.alias() for model in (Assignment, Audit, SectionJudgement, User))
        sides.append((kind, assignment, audit, judgement, user))
    joined = pick.join(plan, plan.c.id == pick.c.plan_id)
    for kind, assignment, audit, judgement, user in sides:
        joined = (joined.join(assignment, and_(assignment.c.cycle_id == pick.c.cycle_id, assignment.c.plan_id == pick.c.plan_id,
                                               assignment.c.kind == kind, assignment.c.status == "submitted"))
                  .join(audit, and_(audit.c.assignment_id == assignment.c.id, audit.c.status == "submitted"))
                  .join(user, user.c.id == assignment.c.auditor_id))
    (_, _, first, first_judgement, first_user), (_, _, second, second_judgement, second_user) = sides
    joined = (joined.join(first_judgement, first_judgement.c.audit_id == first.c.id)
              .join(second_judgement, and_(second_judgement.c.audit_id == second.c.id,
                                           second_judgement.c.section_code == first_judgement.c.section_code))
              .outerjoin(agreed, and_(agreed.c.audit_id == first.c.id, agreed.c.section_code == "overall")))
    return (select(plan.c.system_id, first_user.c.email, second_user.c.email, first.c.overall_grade, second.c.overall_grade,
                   agreed.c.grade, first_judgement.c.section_code, first_judgement.c.grade, second_judgement.c.grade,
                   first_judgement.c.ticked, second_judgement.c.ticked)
            .select_from(joined).where(pick.c.cycle_id == cycle_id, pick.c.removed_at.is_(None))
            .order_by(plan.c.system_id))


def _disagreement(weights: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Sum over cells (g, h) of weights[..., g, h] * (positions[..., g] - positions[..., h]) ** 2."""
    gaps = (positions[..., :, None] - positions[..., None, :]) ** 2
    return (weights * gaps).sum(axis=(-2, -1))


def _one_minus(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 - observed / expected  # nan where every grade is the same


def _figures(tables: np.ndarray, pairs: int) -> dict[str, np.ndarray]:
    """The four figures of each 4x4 table of (first, second) grade counts, vectorised over tables.
    Quadratic kappa weighs a cell by the squared gap between the band scores; ordinal alpha by the
    squared gap between the grades' mid-ranks among all 2n grades (Krippendorff's ordinal metric)."""
    scores = np.arange(1.0, 5.0)
    band_gap = np.abs(scores[:, None] - scores[None, :])
    rows, columns = tables.sum(axis=-1), tables.sum(axis=-2)
    kappa = _one_minus(_disagreement(tables, scores), _disagreement(rows[..., :, None] * columns[..., None, :], scores) / pairs)
    totals = rows + columns
    mid_ranks = np.cumsum(totals, axis=-1) - totals / 2
    alpha = _one_minus(_disagreement(tables + np.swapaxes(tables, -1, -2), mid_ranks),
                       _disagreement(totals[..., :, None] * totals[..., None, :], mid_ranks) / (2 * pairs - 1))
    return {"exact_agreement": (tables * (band_gap == 0)).sum(axis=(-2, -1)) / pairs,
            "within_one": (tables * (band_gap <= 1)).sum(axis=(-2, -1)) / pairs,
            "weighted_kappa": kappa, "krippendorff_alpha": alpha}


def _resample_indices(size: int, seed: int, cache: dict[int, np.ndarray]) -> np.ndarray:
    # scipy.stats.bootstrap draws Generator.integers(0, n, (resamples, n)) from the seeded generator.
    # Only the last size is kept: sections with Not applicable grades have sizes of their own.
    if size not in cache:
        cache.clear()
        cache[size] = np.random.default_rng(seed).integers(0, size, (RESAMPLES, size))
    return cache[size]


def _interval(values: np.ndarray) -> list[float]:
    tail = (1 - CONFIDENCE) / 2
    return [round(float(bound), 6) for bound in np.quantile(values, [tail, 1 - tail])]


def _agreement(first: list[int], second: list[int], seed: int, cache: dict[int, np.ndarray]) -> dict:
    pairs = len(first)
    cells = (np.array(first) - 1) * 4 + np.array(second) - 1
    resampled = cells[_resample_indices(pairs, seed, cache)] + np.arange(RESAMPLES)[:, None] * 16
    values = _figures(np.bincount(cells, minlength=16).reshape(4, 4).astype(float), pairs)
    resampled_values = _figures(np.bincount(resampled.ravel(), minlength=RESAMPLES * 16).reshape(-1, 4, 4).astype(float), pairs)
    document: dict[str, Any] = {"pairs": pairs}
    for name, value in values.items():
        value = None if np.isnan(value) else round(float(value), 6)
        if name in ("weighted_kappa", "krippendorff_alpha"):  # the shares' intervals are not in the report
            document[name] = {"value": value, "ci": _interval(np.nan_to_num(resampled_values[name], nan=1.0))}
        else:
            document[name] = value
    return document


def _leniency(email: str, differences: list[int], seed: int) -> dict:
    entry = {"auditor": email, "moderated": len(differences), "mean_difference": None, "ci": None}
    if len(differences) < MIN_MODERATED:
        return entry
    values = np.array(differences, dtype=float)
    entry["mean_difference"] = round(float(values.mean()), 6)
    if np.all(values == values[0]):
        entry["ci"] = [entry["mean_difference"]] * 2
    else:
        indices = np.random.default_rng(seed).integers(0, len(values), (RESAMPLES, len(values)))
        entry["ci"] = _interval(values[indices].mean(axis=-1))
    return entry


def _floor(engine, cycle_id: uuid.UUID, seed: int) -> tuple[dict, list[tuple]]:
    with engine.connect() as connection:
        rows = connection.execute(_pairs_query(cycle_id)).all()
    rules = default_framework().discrepancy_rules
    pairs: dict[str, tuple] = {}  # by System ID, in System ID order
    sections: dict[str, tuple[list[int], list[int]]] = {}
    flagged: set[str] = set()
    differing: Counter = Counter()
    for system_id, *pair, code, first, second, first_ticks, second_ticks in rows:
        pairs[system_id] = tuple(pair)  # emails, overall grades, agreed overall grade
        if first in SCORES and second in SCORES:
            graded = sections.setdefault(code, ([], []))
            graded[0].append(SCORES[first])
            graded[1].append(SCORES[second])
        if code in rules.sections and first != second:
            flagged.add(system_id)
        differing.update((code, criterion) for criterion in set(json.loads(first_ticks)) ^ set(json.loads(second_ticks)))
    differences: dict[str, list[int]] = {}
    for system_id, (first_email, second_email, first_overall, second_overall, agreed) in pairs.items():
        if abs(SCORES[first_overall] - SCORES[second_overall]) >= rules.overall_difference:
            flagged.add(system_id)
        reference = agreed or (first_overall if first_overall == second_overall else None)
        for email, own in ((first_email, first_overall), (second_email, second_overall)):
            differences.setdefault(email, [])
            if reference in SCORES:
                differences[email].append(SCORES[own] - SCORES[reference])
    cache: dict[int, np.ndarray] = {}
    overall = list(pairs.values())
    document = {
        **_agreement([SCORES[pair[2]] for pair in overall], [SCORES[pair[3]] for pair in overall], seed, cache),
        "sections": {code: _agreement(first, second, seed, cache) for code, (first, second) in sections.items()},
        "auditors": [_leniency(email, values, seed) for email, values in sorted(differences.items())],
        "flagged": len(flagged), "adjudicated": sum(pair[4] is not None for pair in overall),
    }
    ranked = sorted(differing.items(), key=lambda item: (-item[1], item[0]))[:10]
    return document, [(code, criterion, times) for (code, criterion), times in ranked]


# --- The run --------------------------------------------------------------------------------------


def _differences(ours: Any, floor: Any, where: str = "") -> list[str]:
    """Where the two documents differ by more than TOLERANCE (numbers) or at all (anything else)."""
    if isinstance(ours, dict) and isinstance(floor, dict):
        if ours.keys() != floor.keys():
            return [f"{where}: keys {sorted(ours)} against {sorted(floor)}"]
        return [found for key in ours for found in _differences(ours[key], floor[key], f"{where}.{key}")]
    if isinstance(ours, (list, tuple)) and isinstance(floor, (list, tuple)):
        if len(ours) != len(floor):
            return [f"{where}: {len(ours)} items against {len(floor)}"]
        return [found for index, pair in enumerate(zip(ours, floor)) for found in _differences(*pair, f"{where}[{index}]")]
    numbers = (int, float)
    if isinstance(ours, numbers) and isinstance(floor, numbers) and not isinstance(ours, bool):
        return [] if abs(ours - floor) <= TOLERANCE else [f"{where}: {ours} against {floor}"]
    return [] if ours == floor else [f"{where}: {ours!r} against {floor!r}"]


def measure(bench: Bench) -> list[Result]:
    pairs = TINY_PAIRS if bench.scale.name == "tiny" else PAIRS
    cycle_id = build_cycle(bench.engine, pairs)
    ours, floor = _ours(bench.engine, cycle_id), _floor(bench.engine, cycle_id, MODERATION_SEED)
    mismatches = _differences(ours, floor)
    if mismatches:
        raise AssertionError("moderation statistics: the floor disagrees: " + "; ".join(mismatches[:10]))
    if ours[0]["pairs"] != pairs:
        raise AssertionError(f"moderation statistics: {ours[0]['pairs']} pairs, not {pairs}")
    ours_s, floor_s = paired_medians(lambda: _ours(bench.engine, cycle_id),
                                     lambda: _floor(bench.engine, cycle_id, MODERATION_SEED),
                                     min(bench.repeat, MAX_REPEAT), lambda: None)
    tracemalloc.start()
    _ours(bench.engine, cycle_id)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.reset_peak()
    _floor(bench.engine, cycle_id, MODERATION_SEED)
    floor_peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return [Result("moderation_stats", ours_s, floor_s, checks=[Check(f"ours <= {GOAL_SECONDS:g} s", ours_s <= GOAL_SECONDS)],
                   extra={"pairs": pairs, "resamples": RESAMPLES, "peak_mb": peak_mb, "floor_peak_mb": floor_peak_mb})]
