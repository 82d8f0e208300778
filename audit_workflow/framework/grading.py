"""The grading engine: ticked criteria in, grades with plain-English reasons out.

Pure and deterministic: the same framework and ticks always give the same result, whatever the
order of sections or ticks. Arithmetic is exact (fractions), so a score that sits exactly on a
threshold is never pushed either side of it by floating-point rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from .model import GRADES_BEST_FIRST, Band, Criterion, Framework, Grade, Rules, Section, is_better

Ticked = dict[Band, tuple[Criterion, ...]]  # a section's ticked criteria, by band


@dataclass(frozen=True)
class SectionResult:
    code: str
    grade: Grade | None  # None: not started (nothing ticked)
    explanation: str
    counts: dict[Band, tuple[int, int]]  # (ticked, total) for each of the section's bands


@dataclass(frozen=True)
class AuditResult:
    overall: Grade | None  # None: some section is not started
    explanation: str
    sections: dict[str, SectionResult]  # in the framework's section order
    score: float | None  # weighted mean section score; None while ungraded


def grade_section(framework: Framework, code: str, ticked: Iterable[str]) -> SectionResult:
    """Grade one section from the ids of its ticked criteria. Raises ValueError for an unknown
    section or for ids that are not criteria of this section."""
    section = framework.section(code)
    if isinstance(ticked, str):
        raise TypeError("ticked must be a collection of criterion ids, not a single string")
    chosen = set(ticked)
    unknown = chosen - {criterion.id for criterion in section.criteria}
    if unknown:
        raise ValueError(f"Not criteria of section {code}: {', '.join(sorted(unknown))}")
    ticked_by_band = {
        band: tuple(criterion for criterion in criteria if criterion.id in chosen)
        for band, criteria in section.bands.items()
    }
    grade, explanation = _judge(section, ticked_by_band, framework.rules)
    counts = {band: (len(ticked_by_band[band]), len(criteria)) for band, criteria in section.bands.items()}
    return SectionResult(code=code, grade=grade, explanation=explanation, counts=counts)


def grade_audit(framework: Framework, ticks: Mapping[str, Iterable[str]]) -> AuditResult:
    """Grade every section and the whole audit. ticks maps a section code to its ticked ids; a
    section left out counts as not started."""
    unknown = set(ticks) - {section.code for section in framework.sections}
    if unknown:
        raise ValueError(f"There is no section {', '.join(sorted(unknown))} in framework {framework.version}")
    results = {
        section.code: grade_section(framework, section.code, ticks.get(section.code, ()))
        for section in framework.sections
    }
    not_started = [code for code, result in results.items() if result.grade is None]
    if not_started:
        explanation = f"Not graded yet: {_sections(not_started)} not started."
        return AuditResult(overall=None, explanation=explanation, sections=results, score=None)
    overall, explanation, score = _overall(framework, results)
    return AuditResult(overall=overall, explanation=explanation, sections=results, score=float(score))


def _judge(section: Section, ticked: Ticked, rules: Rules) -> tuple[Grade | None, str]:
    if not any(ticked.values()):
        return None, "Not started: no criteria ticked yet."
    not_applicable = ticked.get(Band.NOT_APPLICABLE, ())
    if all(not criteria for band, criteria in ticked.items() if band is not Band.NOT_APPLICABLE):
        return Grade.NOT_APPLICABLE, _because(Grade.NOT_APPLICABLE, [_quote(criterion) for criterion in not_applicable])
    grade, reasons = _graded(section, ticked, rules)
    if not_applicable:
        # Other ticks show there is something to judge, so a contradictory "not applicable" tick gives way.
        ids = ", ".join(criterion.id for criterion in not_applicable)
        reasons.append(f"{ids} set aside because other criteria are ticked")
    return grade, _because(grade, reasons)


def _graded(section: Section, ticked: Ticked, rules: Rules) -> tuple[Grade, list[str]]:
    if ticked[Band.INADEQUATE]:
        return Grade.INADEQUATE, [_quote(criterion) for criterion in ticked[Band.INADEQUATE]]
    shortfalls = _good_shortfalls(section, ticked, rules)
    if shortfalls:
        return Grade.REQUIRES_IMPROVEMENT, shortfalls
    outstanding_ticked = len(ticked[Band.OUTSTANDING])
    outstanding = (
        f"{outstanding_ticked} of {len(section.bands[Band.OUTSTANDING])} Outstanding criteria ticked "
        f"(Outstanding needs {rules.outstanding_minimum})"
    )
    grade = Grade.OUTSTANDING if outstanding_ticked >= rules.outstanding_minimum else Grade.GOOD
    return grade, [_good_summary(section, ticked, rules), outstanding]


def _good_shortfalls(section: Section, ticked: Ticked, rules: Rules) -> list[str]:
    """Why the section falls short of Good; empty when it meets Good."""
    shortfalls = []
    core = [criterion for criterion in section.bands[Band.GOOD] if criterion.core]
    missing = [criterion for criterion in core if criterion not in ticked[Band.GOOD]]
    if missing:
        shortfalls.append(
            f"{len(core) - len(missing)} of {len(core)} core Good criteria met "
            f"(missing: {', '.join(_quote(criterion) for criterion in missing)})"
        )
    if len(ticked[Band.GOOD]) < rules.good_minimum:
        shortfalls.append(_good_count(section, ticked, rules))
    if rules.requires_improvement_blocks_good and ticked[Band.REQUIRES_IMPROVEMENT]:
        shortfalls.append(
            "ticked as needing improvement: "
            + ", ".join(_quote(criterion) for criterion in ticked[Band.REQUIRES_IMPROVEMENT])
        )
    return shortfalls


def _good_summary(section: Section, ticked: Ticked, rules: Rules) -> str:
    core_count = sum(criterion.core for criterion in section.bands[Band.GOOD])
    core = f"{core_count} of {core_count} core Good criteria met and " if core_count else ""
    return core + _good_count(section, ticked, rules)


def _good_count(section: Section, ticked: Ticked, rules: Rules) -> str:
    return (
        f"{len(ticked[Band.GOOD])} of {len(section.bands[Band.GOOD])} Good criteria ticked "
        f"(Good needs at least {rules.good_minimum})"
    )


def _overall(framework: Framework, results: dict[str, SectionResult]) -> tuple[Grade, str, Fraction]:
    rules = framework.rules
    counted = [section for section in framework.sections if results[section.code].grade is not Grade.NOT_APPLICABLE]
    left_out = [code for code, result in results.items() if result.grade is Grade.NOT_APPLICABLE]
    # Not applicable sections drop out, and the remaining weights are scaled up to fill the whole.
    score = sum(section.weight * _exact(rules.scores[results[section.code].grade]) for section in counted) / sum(
        section.weight for section in counted
    )
    thresholds = [(grade, rules.thresholds[grade]) for grade in GRADES_BEST_FIRST if grade in rules.thresholds]
    by_score = next((grade for grade, threshold in thresholds if score >= _exact(threshold)), Grade.INADEQUATE)
    limiting = [code for code in rules.limiting_sections if results[code].grade is Grade.INADEQUATE]
    capped = bool(limiting) and is_better(by_score, rules.limiting_cap)
    overall = rules.limiting_cap if capped else by_score

    score_text = f"weighted score {_two_places(score)} of {_number(rules.scores[Grade.OUTSTANDING])}"
    parts = [score_text]
    if capped:
        verb = "is" if len(limiting) == 1 else "are"
        parts = [
            f"{score_text} gives {by_score.label}",
            f"capped at {overall.label} because {_sections(limiting)} {verb} Inadequate",
        ]
    grade_counts = ", ".join(
        f"{count} {grade.label}"
        for grade in GRADES_BEST_FIRST
        if (count := sum(results[section.code].grade is grade for section in counted))
    )
    parts.append(f"{len(counted)} {'section' if len(counted) == 1 else 'sections'} graded ({grade_counts})")
    if left_out:
        parts.append(f"{_sections(left_out)} not applicable, so left out and the other weights scaled up")
    parts.append("thresholds: " + ", ".join(f"{grade.label} from {_number(limit)}" for grade, limit in thresholds))
    return overall, f"{overall.label}: " + "; ".join(parts) + ".", score


def _because(grade: Grade, reasons: list[str]) -> str:
    return f"{grade.label} because: " + "; ".join(reasons)


def _quote(criterion: Criterion) -> str:
    return f"'{criterion.text.rstrip('.')}' ({criterion.id})"


def _exact(number: int | float) -> Fraction:
    # Through str so that 2.75 or 0.1 in the file mean exactly that decimal, not its binary neighbour.
    return Fraction(str(number))


def _two_places(score: Fraction) -> str:
    # Rounded down, so a score just under a threshold never shows as equal to it.
    return f"{math.floor(score * 100) / 100:.2f}"


def _number(value: int | float) -> str:
    return f"{value:g}"


def _sections(codes: list[str]) -> str:
    return f"{'section' if len(codes) == 1 else 'sections'} {', '.join(codes)}"
