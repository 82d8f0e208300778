"""When a moderated pair goes to adjudication, from the discrepancy rules in the framework file: pure."""

from __future__ import annotations

from collections.abc import Mapping

from ..framework.model import DiscrepancyRules, Grade
from .statistics import score


def band_difference(first: str | None, second: str | None) -> int | None:
    """How many bands apart two grades are; None if either is Not applicable or missing."""
    first_score, second_score = score(first), score(second)
    if first_score is None or second_score is None:
        return None
    return abs(first_score - second_score)


def grade_label(grade: str | None) -> str:
    return Grade(grade).label if grade else "Not graded"


def flag_reasons(rules: DiscrepancyRules, first_overall: str | None, second_overall: str | None,
                 first_sections: Mapping[str, str | None], second_sections: Mapping[str, str | None]) -> list[str]:
    """Why the pair needs adjudicating, one sentence per rule it breaks; empty when it does not."""
    reasons = []
    difference = band_difference(first_overall, second_overall)
    if difference is not None and difference >= rules.overall_difference:
        reasons.append(f"The overall grades are {difference} bands apart ({grade_label(first_overall)} and "
                       f"{grade_label(second_overall)})")
    for code in rules.sections:
        first, second = first_sections.get(code), second_sections.get(code)
        if first != second:
            reasons.append(f"Section {code} differs ({grade_label(first)} and {grade_label(second)})")
    return reasons
