"""The reports' use cases: one LA's results under a filter, compared with its previous cycle and with
benchmarks; loading published figures; the LA's benchmarking opt-in.

The cycle report builds on results(), so its figures are the page's. The framework is the LA's
(framework.versions.framework_in_use): its loaded one, or the shipped default the settings name
(FRAMEWORK_FILE), which the caller passes as shipped_framework_file.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import Session, col, delete, select

from ..authorities.models import LocalAuthority
from ..cycles.models import AuditCycle
from ..framework import Framework
from ..framework.versions import framework_in_use
from . import queries
from .aggregates import (
    HEALTH_FOCUS,
    OVERALL,
    SOCIAL_CARE_FOCUS,
    CycleComparison,
    Distribution,
    GradeCount,
    MissedCriterion,
    compare,
    compare_distributions,
    distributions,
    focus,
    good_criteria_ids,
    most_missed,
    published_distribution,
)
from .benchmarking import BenchmarkFileError, pooled_distribution, read_benchmark_file, read_context_file, read_neighbours_file
from .filters import ParsedFilter, ReportFilter
from .models import BenchmarkFigure, ContextFigure, StatisticalNeighbour
from .statistics import ShareComparison


@dataclass(frozen=True)
class Results:
    """One group of audits: every distribution, the focus sections and the criteria most missed."""

    distributions: dict[str, Distribution]
    missed: dict[str, list[MissedCriterion]]
    agreed_audits: int  # audits in which moderation's agreed grade replaced the auditor's

    @property
    def overall(self) -> Distribution:
        return self.distributions[OVERALL]

    @property
    def sections(self) -> list[Distribution]:
        return [distribution for code, distribution in self.distributions.items() if code != OVERALL]

    @property
    def health(self) -> list[Distribution]:
        return focus(self.distributions, HEALTH_FOCUS)

    @property
    def social_care(self) -> list[Distribution]:
        return focus(self.distributions, SOCIAL_CARE_FOCUS)


def own_filter(db: Session, la_id: uuid.UUID, parsed: ParsedFilter) -> ParsedFilter:
    """The parsed filter with a cycle that is not the LA's (or no longer exists) taken out and
    explained, as any other value that makes no sense."""
    if parsed.filter.cycle is None or parsed.filter.cycle in queries.cycle_names(db, la_id):
        return parsed
    return ParsedFilter(parsed.filter.with_cycle(None), {**parsed.errors, "cycle": "Choose a cycle from the list"})


def results(db: Session, la_id: uuid.UUID, report_filter: ReportFilter, framework: Framework,
            counts: list[GradeCount] | None = None) -> Results:
    """The LA's results under the filter, graded by its framework (counts: its grade counts, if already read)."""
    counts = queries.grade_counts(db, la_id, report_filter) if counts is None else counts
    tallies = queries.criterion_tallies(db, la_id, report_filter, good_criteria_ids(framework))
    return Results(distributions(counts, framework), most_missed(framework, tallies),
                   queries.agreed_count(db, la_id, report_filter))


def previous_cycle(db: Session, cycle: AuditCycle) -> AuditCycle | None:
    """The LA's cycle with results whose period started last before this one's."""
    earlier = [cycle_id for cycle_id in queries.cycles_with_results(db, cycle.la_id) if cycle_id != cycle.id]
    candidates = [db.get(AuditCycle, cycle_id) for cycle_id in earlier]
    before = [other for other in candidates if other.period_start < cycle.period_start]
    return before[0] if before else None


@dataclass(frozen=True)
class CycleChange:
    earlier: AuditCycle
    later: AuditCycle
    comparison: CycleComparison


def compare_with_previous(db: Session, la_id: uuid.UUID, report_filter: ReportFilter,
                          framework: Framework | None = None,
                          by_cycle: dict[uuid.UUID, list[GradeCount]] | None = None) -> CycleChange | None:
    """The filtered results of the chosen cycle (or the latest with results under the filter)
    against the cycle before it, under the same other filters; None when there is no earlier
    cycle. by_cycle: the filter's grade counts by cycle, if already read."""
    by_cycle = queries.grade_counts_by_cycle(db, la_id, report_filter) if by_cycle is None else by_cycle
    if report_filter.cycle:
        later = db.get(AuditCycle, report_filter.cycle)
        if later is None or later.la_id != la_id:
            return None
    elif by_cycle:
        later = max((db.get(AuditCycle, cycle_id) for cycle_id in by_cycle), key=lambda cycle: cycle.period_start)
    else:
        return None
    earlier = previous_cycle(db, later)
    if earlier is None:
        return None
    earlier_counts = (queries.grade_counts(db, la_id, report_filter.with_cycle(earlier.id)) if report_filter.cycle
                      else by_cycle.get(earlier.id, []))
    first = distributions(earlier_counts, framework)
    second = distributions(by_cycle.get(later.id, []), framework)
    return CycleChange(earlier, later, compare_distributions(first, second, earlier.name, later.name))


# Benchmarks --------------------------------------------------------------------------------------

SCOPE_LABELS = {
    queries.NATIONAL: "other LAs in England that share their results",
    queries.REGIONAL: "other LAs in your region that share their results",
    queries.NEIGHBOURS: "your statistical neighbours that share their results",
}
OWN_LA = "your LA"


@dataclass(frozen=True)
class Benchmark:
    label: str
    source: str | None  # for published figures: who published them
    distribution: Distribution | None  # None: hidden (too few LAs) or no plan counts published
    percents: dict[str, float] | None  # published shares, when only percentages are known
    comparison: ShareComparison | None
    hidden_reason: str | None = None


def benchmark_filter(db: Session, report_filter: ReportFilter) -> ReportFilter:
    """Other LAs have other cycles: a chosen cycle stands for its period (within any dates chosen)."""
    cycle = db.get(AuditCycle, report_filter.cycle) if report_filter.cycle else None
    if cycle is None:
        return report_filter.with_cycle(None)
    start = max(filter(None, (report_filter.submitted_from, cycle.period_start)))
    end = min(filter(None, (report_filter.submitted_to, cycle.period_end)))
    return replace(report_filter, cycle=None, submitted_from=start, submitted_to=end)


def benchmarks(db: Session, la: LocalAuthority, report_filter: ReportFilter, own: Distribution) -> list[Benchmark]:
    """Pooled figures from other opted-in LAs (only for an LA that opted in itself, and only from
    at least MIN_CONTRIBUTORS LAs), then published figures loaded by the admin."""
    found: list[Benchmark] = []
    if la.benchmark_opt_in:
        scopes = (queries.NATIONAL, queries.REGIONAL) + ((queries.NEIGHBOURS,) if queries.has_neighbours(db, la.id) else ())
        for scope, pooled in queries.pooled_counts(db, la, benchmark_filter(db, report_filter), scopes).items():
            label = SCOPE_LABELS[scope]
            distribution = pooled_distribution(pooled.rows, pooled.contributors, OVERALL, label)
            if distribution is None:
                found.append(Benchmark(label[0].upper() + label[1:], None, None, None, None,
                                       hidden_reason="Not shown: fewer than 5 LAs contribute to this figure."))
            else:
                found.append(Benchmark(label[0].upper() + label[1:], None, distribution, None,
                                       compare(distribution, own, label, OWN_LA, over_time=False)))
    for source, percents, plans in published_overall(db, la.id):
        distribution = published_distribution(OVERALL, source, percents, plans) if plans else None
        comparison = compare(distribution, own, "the published figure", OWN_LA, over_time=False) if distribution else None
        found.append(Benchmark("Published figure", source, distribution, percents, comparison))
    return found


def published_overall(db: Session, la_id: uuid.UUID) -> list[tuple[str, dict[str, float], int | None]]:
    """(source, grade -> percent, plans) of each published overall benchmark the LA may see."""
    rows = db.exec(
        select(BenchmarkFigure).where(BenchmarkFigure.section_code == OVERALL,
                                      (col(BenchmarkFigure.la_id).is_(None)) | (BenchmarkFigure.la_id == la_id))
        .order_by(BenchmarkFigure.source)
    ).all()
    by_source: dict[str, tuple[dict[str, float], int | None]] = {}
    for row in rows:
        percents, plans = by_source.setdefault(row.source, ({}, row.plans))
        percents[row.grade] = row.percent
    return [(source, percents, plans) for source, (percents, plans) in by_source.items()]


def load_benchmark_file(db: Session, text: str) -> int:
    """Store published figures; each source in the file replaces that source's earlier figures."""
    rows = read_benchmark_file(text)
    la_ids = _la_ids(db, {row.la_code for row in rows if row.la_code})
    db.exec(delete(BenchmarkFigure).where(col(BenchmarkFigure.source).in_({row.source for row in rows})))
    for row in rows:
        db.add(BenchmarkFigure(la_id=la_ids[row.la_code] if row.la_code else None, source=row.source,
                               section_code=row.section_code, grade=row.grade.value, percent=row.percent, plans=row.plans))
    db.flush()
    return len(rows)


def load_neighbours_file(db: Session, text: str) -> int:
    """Store statistical neighbours; each LA in the file gets exactly the neighbours it lists."""
    rows = read_neighbours_file(text)
    la_ids = _la_ids(db, {row.la_code for row in rows}, unknown_ok=True)
    known = [row for row in rows if row.la_code in la_ids]
    db.exec(delete(StatisticalNeighbour).where(col(StatisticalNeighbour.la_id).in_(set(la_ids.values()))))
    for row in known:
        db.add(StatisticalNeighbour(la_id=la_ids[row.la_code], neighbour_code=row.neighbour_code, rank=row.rank))
    db.flush()
    return len(known)


def load_context_file(db: Session, text: str) -> int:
    rows = read_context_file(text)
    la_ids = _la_ids(db, {row.la_code for row in rows if row.la_code}, unknown_ok=True)
    stored = 0
    for row in rows:
        if row.la_code and row.la_code not in la_ids:
            continue  # an LA that does not use this service
        la_id = la_ids.get(row.la_code) if row.la_code else None
        db.exec(delete(ContextFigure).where(ContextFigure.la_id == la_id if la_id else col(ContextFigure.la_id).is_(None),
                                            ContextFigure.measure == row.measure, ContextFigure.year == row.year))
        db.add(ContextFigure(la_id=la_id, measure=row.measure, year=row.year, value=row.value, unit=row.unit,
                             source=row.source))
        stored += 1
    db.flush()
    return stored


def context_figures(db: Session, la_id: uuid.UUID) -> list[ContextFigure]:
    """The LA's and England's published context figures, by measure and year."""
    return list(db.exec(
        select(ContextFigure).where((col(ContextFigure.la_id).is_(None)) | (ContextFigure.la_id == la_id))
        .order_by(ContextFigure.measure, col(ContextFigure.year).desc(), col(ContextFigure.la_id).is_(None))
    ).all())


def _la_ids(db: Session, codes: set[str], unknown_ok: bool = False) -> dict[str, uuid.UUID]:
    found = dict(db.exec(select(LocalAuthority.code, LocalAuthority.id).where(col(LocalAuthority.code).in_(codes))).all()) if codes else {}
    unknown = sorted(codes - set(found))
    if unknown and not unknown_ok:
        raise BenchmarkFileError(f"No LA in this service has the code {', '.join(unknown)}")
    return found


def set_benchmark_opt_in(db: Session, la: LocalAuthority, opt_in: bool) -> None:
    la.benchmark_opt_in = opt_in
    db.add(la)
    db.flush()


MATCHING, OTHERS = "the audits matching the filters", "your LA's other audits"


def compare_with_the_rest(db: Session, la_id: uuid.UUID, report_filter: ReportFilter,
                          matching: Distribution) -> ShareComparison | None:
    """The audits a plan or auditor filter selects against the LA's other audits (same period and
    cycle): separate plans, so the test applies. None without such a filter."""
    if not report_filter.plan_filters:
        return None
    wider = ReportFilter(submitted_from=report_filter.submitted_from, submitted_to=report_filter.submitted_to,
                         cycle=report_filter.cycle)
    everything = distributions(queries.grade_counts(db, la_id, wider))[OVERALL]
    rest = replace(everything, counts=tuple(all_ - some for all_, some in zip(everything.counts, matching.counts)))
    return compare(rest, matching, OTHERS, MATCHING, over_time=False)


@dataclass(frozen=True)
class ReportPage:
    """Everything the reports page shows for one filter."""

    results: Results
    change: CycleChange | None
    against_the_rest: ShareComparison | None
    benchmarks: list[Benchmark]
    context: list[ContextFigure]
    cycles: list[queries.CycleChoice]


def report_page(db: Session, la: LocalAuthority, report_filter: ReportFilter,
                shipped_framework_file: Path | None = None) -> ReportPage:
    """shipped_framework_file: the FRAMEWORK_FILE setting (configured_framework_file), for an LA
    that has loaded no framework of its own; without it, the package's default file."""
    framework = framework_in_use(db, la.id, shipped_framework_file)
    by_cycle = queries.grade_counts_by_cycle(db, la.id, report_filter)
    found = results(db, la.id, report_filter, framework, [row for rows in by_cycle.values() for row in rows])
    return ReportPage(found, compare_with_previous(db, la.id, report_filter, framework, by_cycle),
                      compare_with_the_rest(db, la.id, report_filter, found.overall),
                      benchmarks(db, la, report_filter, found.overall), context_figures(db, la.id),
                      queries.cycles(db, la.id))
