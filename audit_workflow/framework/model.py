"""A grading framework as immutable values: the rules, and the plan sections with their criteria by band.

Built only by the loader (which validates everything), so the grading engine can trust its input.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Regulation 12 of the SEND Regulations 2014 requires every one of these sections, each kept distinct.
SECTION_CODES = ("A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K")


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        """The name people read: "Requires improvement", "Not applicable"."""
        return self.value.replace("_", " ").capitalize()


# A Band groups criteria; a Grade is a judgement. They share their values, so Grade(band.value)
# gives the grade a band stands for.
class Band(_Labelled):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    NOT_APPLICABLE = "not_applicable"


class Grade(_Labelled):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    NOT_APPLICABLE = "not_applicable"


GRADED_BANDS = (Band.OUTSTANDING, Band.GOOD, Band.REQUIRES_IMPROVEMENT, Band.INADEQUATE)
GRADES_BEST_FIRST = (Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)


def is_better(grade: Grade, than: Grade) -> bool:
    """Whether one graded (not Not applicable) grade is better than another."""
    return GRADES_BEST_FIRST.index(grade) < GRADES_BEST_FIRST.index(than)


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    band: Band
    core: bool = False  # only Good criteria can be core: a Good section meets all of them


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    law: str
    weight: int
    what_good_looks_like: str
    how_to_choose: str
    # In Band order. Every graded band is present; NOT_APPLICABLE only if the section can be not applicable.
    bands: dict[Band, tuple[Criterion, ...]]

    @property
    def applicable_always(self) -> bool:
        return Band.NOT_APPLICABLE not in self.bands

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(criterion for criteria in self.bands.values() for criterion in criteria)


@dataclass(frozen=True)
class Rules:
    """The grading rules written in the framework file; docs/framework.md explains each."""

    good_minimum: int
    outstanding_minimum: int
    requires_improvement_blocks_good: bool
    scores: dict[Grade, int | float]  # every graded grade, best highest
    thresholds: dict[Grade, int | float]  # OUTSTANDING, GOOD, REQUIRES_IMPROVEMENT: the least score for each
    limiting_sections: tuple[str, ...]
    limiting_cap: Grade


@dataclass(frozen=True)
class DiscrepancyRules:
    """When a moderated pair of audits goes to adjudication (docs/moderation.md)."""

    overall_difference: int  # overall grades this many bands apart or more
    sections: tuple[str, ...]  # any difference at all in one of these sections


# For a framework file without a moderation block (frameworks written before moderation existed).
DEFAULT_DISCREPANCY_RULES = DiscrepancyRules(overall_difference=2, sections=("B", "E", "F"))


@dataclass(frozen=True)
class Framework:
    version: str
    name: str
    rules: Rules
    sections: tuple[Section, ...]
    moderation: DiscrepancyRules | None = None  # as written in the file; discrepancy_rules fills the default

    @property
    def discrepancy_rules(self) -> DiscrepancyRules:
        return self.moderation or DEFAULT_DISCREPANCY_RULES

    def section(self, code: str) -> Section:
        for section in self.sections:
            if section.code == code:
                return section
        raise ValueError(f"There is no section {code!r} in framework {self.version}")

    @property
    def criteria_count(self) -> int:
        return sum(len(section.criteria) for section in self.sections)
