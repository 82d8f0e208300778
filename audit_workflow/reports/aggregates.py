"""What the reports show, computed from counts the database has already grouped.

Pure: the queries (queries.py) hand over GradeCount and CriterionTally rows; this module turns
them into distributions with counts, shares and Wilson intervals, the health and social care
focus, the criteria most often missed, and comparisons between two groups of plans (two cycles,
the LA and a benchmark). The cycle report builds on these same values, so page, deck and PDF agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..framework import SECTION_CODES, Band, Framework, Grade
from ..framework.model import GRADES_BEST_FIRST
from .statistics import Interval, ShareComparison, compare_shares, count_text, wilson_interval

OVERALL = "overall"  # the section_code under which the overall grade is counted
HEALTH_FOCUS = ("C", "G")  # health needs and health provision
SOCIAL_CARE_FOCUS = ("D", "H1", "H2")  # social care needs and provision
GOOD_OR_BETTER = "Good or better"
TOP_GOOD_OR_BETTER = 2  # Outstanding and Good, the first two of GRADES_BEST_FIRST


@dataclass(frozen=True)
class GradeCount:
    """How many audits gave one section (or OVERALL) one grade: one row of a GROUP BY."""

    section_code: str
    grade: str
    count: int


@dataclass(frozen=True)
class GradeShare:
    grade: Grade
    count: int
    total: int  # graded audits of the section (Not applicable left out)
    interval: Interval | None

    @property
    def label(self) -> str:
        return self.grade.label

    @property
    def share(self) -> float | None:
        return self.count / self.total if self.total else None

    @property
    def text(self) -> str:
        """ "44% (54 of 123)": never a percentage without its count."""
        return count_text(self.count, self.total)


@dataclass(frozen=True)
class Distribution:
    """One section's (or the overall) grades: a count per graded grade, best first, and the Not
    applicable count apart, since shares are of the plans the section applied to."""

    section_code: str
    title: str
    counts: tuple[int, ...]  # in GRADES_BEST_FIRST order
    not_applicable: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def shares(self) -> list[GradeShare]:
        return [GradeShare(grade, count, self.total, wilson_interval(count, self.total))
                for grade, count in zip(GRADES_BEST_FIRST, self.counts)]

    def count_of(self, grade: Grade) -> int:
        return self.counts[GRADES_BEST_FIRST.index(grade)]

    @property
    def good_or_better(self) -> GradeShare:
        count = sum(self.counts[:TOP_GOOD_OR_BETTER])
        return GradeShare(Grade.GOOD, count, self.total, wilson_interval(count, self.total))


def section_titles(framework: Framework | None) -> dict[str, str]:
    titles = {OVERALL: "Overall"}
    for code in SECTION_CODES:
        titles[code] = f"Section {code}"
    if framework is not None:
        titles.update({section.code: f"{section.code}: {section.title}" for section in framework.sections})
    return titles


def distributions(rows: Iterable[GradeCount], framework: Framework | None = None) -> dict[str, Distribution]:
    """OVERALL then every section A-K (with H1 and H2), each present even with no audits."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        by_grade = counts.setdefault(row.section_code, {})
        by_grade[row.grade] = by_grade.get(row.grade, 0) + row.count
    titles = section_titles(framework)
    return {code: distribution_of(code, titles.get(code, code), counts.get(code, {}))
            for code in (OVERALL, *SECTION_CODES)}


def distribution_of(section_code: str, title: str, by_grade: Mapping[str, int]) -> Distribution:
    return Distribution(section_code, title, tuple(by_grade.get(grade, 0) for grade in GRADES_BEST_FIRST),
                        by_grade.get(Grade.NOT_APPLICABLE, 0))


def focus(all_distributions: Mapping[str, Distribution], codes: Sequence[str]) -> list[Distribution]:
    """The sections of a focus (HEALTH_FOCUS, SOCIAL_CARE_FOCUS) in their order."""
    return [all_distributions[code] for code in codes]


def combined(name: str, parts: Sequence[Distribution]) -> Distribution:
    """Several sections' grades added together, e.g. the health focus as one distribution."""
    return Distribution(name, name, tuple(sum(column) for column in zip(*(part.counts for part in parts))),
                        sum(part.not_applicable for part in parts))


@dataclass(frozen=True)
class CriterionTally:
    """For one criterion: in how many audits it was ticked, out of the audits that graded its
    section (Not applicable left out). One row of a GROUP BY."""

    section_code: str
    criterion_id: str
    ticked: int
    audits: int


@dataclass(frozen=True)
class MissedCriterion:
    section_code: str
    criterion_id: str
    text: str
    core: bool
    missed: int
    audits: int

    @property
    def interval(self) -> Interval | None:
        return wilson_interval(self.missed, self.audits)

    @property
    def missed_text(self) -> str:
        return count_text(self.missed, self.audits)


def most_missed(framework: Framework, tallies: Iterable[CriterionTally], per_section: int = 3) -> dict[str, list[MissedCriterion]]:
    """Per section, the Good criteria (what every Good section shows) most often left unticked in
    the audits that graded it, most missed first; criteria never missed are left out."""
    by_id = {tally.criterion_id: tally for tally in tallies}
    result: dict[str, list[MissedCriterion]] = {}
    for section in framework.sections:
        missed = []
        for criterion in section.bands.get(Band.GOOD, ()):
            tally = by_id.get(criterion.id)
            if tally is None or tally.audits == 0 or tally.ticked >= tally.audits:
                continue
            missed.append(MissedCriterion(section.code, criterion.id, criterion.text, criterion.core,
                                          tally.audits - tally.ticked, tally.audits))
        missed.sort(key=lambda item: (-item.missed / item.audits, -item.missed, item.criterion_id))
        result[section.code] = missed[:per_section]
    return result


def good_criteria_ids(framework: Framework) -> dict[str, list[str]]:
    """Section code -> the ids of its Good criteria, which are what "missed" is counted over."""
    return {section.code: [criterion.id for criterion in section.bands.get(Band.GOOD, ())]
            for section in framework.sections}


def compare(first: Distribution, second: Distribution, first_label: str, second_label: str,
            over_time: bool = True) -> ShareComparison:
    """Good or better in two groups of plans (e.g. last cycle and this one, or a benchmark and the
    LA), with intervals and the Mann-Whitney test over all four grades."""
    return compare_shares(GOOD_OR_BETTER, first_label, second_label, first.counts, second.counts, TOP_GOOD_OR_BETTER,
                          over_time)


@dataclass(frozen=True)
class CycleComparison:
    """Two cycles' (or any two groups') distributions side by side, section by section."""

    first_label: str
    second_label: str
    overall: ShareComparison
    sections: dict[str, ShareComparison]


def compare_distributions(first: Mapping[str, Distribution], second: Mapping[str, Distribution],
                          first_label: str, second_label: str) -> CycleComparison:
    sections = {code: compare(first[code], second[code], first_label, second_label)
                for code in SECTION_CODES if code in first and code in second}
    return CycleComparison(first_label, second_label, compare(first[OVERALL], second[OVERALL], first_label, second_label),
                           sections)


def published_distribution(section_code: str, title: str, percents: Mapping[str, float], plans: int) -> Distribution:
    """A published benchmark given as a percentage per grade of `plans` plans, as counts (rounded),
    so it can be compared like a cycle; docs/reports.md says why this is fair only with the total."""
    return distribution_of(section_code, title, {grade: round(percent / 100 * plans) for grade, percent in percents.items()})
