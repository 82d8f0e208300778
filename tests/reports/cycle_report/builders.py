"""A cycle whose submitted audits have grades the test chooses, with the counts it put in, so
every figure of a report can be checked against the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from audit_workflow.cycles.models import Assignment, CyclePlan
from audit_workflow.framework import SECTION_CODES
from tests.reports.builders import dated_cycle, submitted_audit

GRADES = ("outstanding", "good", "requires_improvement", "inadequate")


@dataclass
class GradedCycle:
    cycle: object
    overall: Counter = field(default_factory=Counter)
    sections: dict[str, Counter] = field(default_factory=lambda: {code: Counter() for code in SECTION_CODES})


def section_grade(number: int, code: str) -> str:
    """A spread of grades that differs from section to section; H2 is often not applicable."""
    if code == "H2" and number % 3 == 0:
        return "not_applicable"
    return GRADES[(number + SECTION_CODES.index(code)) % len(GRADES)]


def graded_cycle(db, world, overall_grades: list[str], name: str = "Autumn 2026", start: date = date(2026, 9, 1),
                 la_key: str = "own", prefix: str = "AUD", status: str = "open") -> GradedCycle:
    la = world.las[la_key]
    cycle = dated_cycle(db, la, name, start, start + timedelta(days=100), status=status)
    result = GradedCycle(cycle)
    for number, grade in enumerate(overall_grades):
        sections = {code: section_grade(number, code) for code in SECTION_CODES}
        audit = submitted_audit(db, la, cycle, world.user("auditor", la_key), f"{prefix}-{number:04d}", grade, sections)
        db.add(CyclePlan(la_id=la.id, cycle_id=cycle.id, plan_id=db.get(Assignment, audit.assignment_id).plan_id))
        result.overall[grade] += 1
        for code, section in sections.items():
            result.sections[code][section] += 1
    db.flush()
    return result

