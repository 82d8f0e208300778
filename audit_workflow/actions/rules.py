"""When a weak audit calls for an action, what a theme across many plans is, and an action's
red/amber/green status. Pure: no Flask, no database.

A proposal follows an audit whose overall grade, or the grade of a limiting section (the
framework's `limiting_sections`), is Requires improvement or Inadequate. It names the section to
work on (the worst graded, a limiting one first on a tie) and the criteria missed there: those
ticked in the Inadequate or Requires improvement bands, and the core Good criteria left unticked.
An Inadequate plan is to be amended and re-audited; one that Requires improvement, amended.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ..framework import Band, Framework, Grade
from ..workdays import WorkingCalendar
from .kinds import ActionStatus, ActionType, Rag

WEAK_GRADES = (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
# Worst first, for choosing the section an action is about.
_SEVERITY = {Grade.INADEQUATE: 0, Grade.REQUIRES_IMPROVEMENT: 1}


@dataclass(frozen=True)
class Proposal:
    action_type: ActionType
    section_code: str | None
    criteria: tuple[str, ...]
    summary: str


def propose(framework: Framework, overall: Grade, section_grades: Mapping[str, Grade | None],
            ticks: Mapping[str, Iterable[str]]) -> Proposal | None:
    """The action a submitted audit calls for, or None when its grades do not call for one."""
    limiting = framework.rules.limiting_sections
    weak_limiting = [code for code in limiting if section_grades.get(code) in WEAK_GRADES]
    if overall not in WEAK_GRADES and not weak_limiting:
        return None
    weak = [section.code for section in framework.sections if section_grades.get(section.code) in WEAK_GRADES]
    section_code = min(weak, key=lambda code: (_SEVERITY[section_grades[code]], code not in limiting)) if weak else None
    criteria = missed_criteria(framework, section_code, ticks.get(section_code, ())) if section_code else ()
    reaudit = overall is Grade.INADEQUATE or any(section_grades[code] is Grade.INADEQUATE for code in weak_limiting)
    action_type = ActionType.REAUDIT if reaudit else ActionType.AMEND_PLAN
    where = f"; start with section {section_code}, graded {section_grades[section_code].label}" if section_code else ""
    return Proposal(action_type, section_code, criteria, f"{action_type.label}: graded {overall.label} overall{where}.")


def missed_criteria(framework: Framework, section_code: str, ticked: Iterable[str]) -> tuple[str, ...]:
    """A section's criteria that fell short: weak-band criteria ticked, core Good criteria not."""
    chosen = set(ticked)
    section = framework.section(section_code)
    weak = [c.id for band in (Band.INADEQUATE, Band.REQUIRES_IMPROVEMENT) for c in section.bands[band] if c.id in chosen]
    core_unmet = [c.id for c in section.bands[Band.GOOD] if c.core and c.id not in chosen]
    return tuple(weak + core_unmet)


@dataclass(frozen=True)
class Theme:
    criterion_id: str
    section_code: str
    text: str
    plans: int  # audited plans that missed it
    audited: int  # audited plans in all

    @property
    def share(self) -> float:
        return self.plans / self.audited


def themes(framework: Framework, missed_by_plan: Mapping[object, Iterable[str]], least_share: float) -> list[Theme]:
    """Criteria missed in at least `least_share` of the audited plans (a plan counts once however
    many of its audits missed it), most often missed first. missed_by_plan: every audited plan,
    with the criteria its audits missed (an empty collection for a plan that missed none)."""
    audited = len(missed_by_plan)
    if not audited:
        return []
    counts = Counter(criterion for missed in missed_by_plan.values() for criterion in set(missed))
    where = {criterion.id: (section.code, criterion.text) for section in framework.sections for criterion in section.criteria}
    found = [Theme(criterion, *where[criterion], count, audited) for criterion, count in counts.items()
             if criterion in where and count >= least_share * audited]
    return sorted(found, key=lambda theme: (-theme.plans, theme.criterion_id))


def rag(status: str, due_date: date | None, today: date, calendar: WorkingCalendar, amber_within: int) -> Rag:
    """Red: overdue. Amber: nobody owns it yet, or due within `amber_within` working days. Green:
    on track, or closed. May raise BeyondHolidayData for dates past the bank-holiday data."""
    if status == ActionStatus.CLOSED:
        return Rag.GREEN
    if due_date is None:
        return Rag.AMBER
    if today > due_date:
        return Rag.RED
    return Rag.AMBER if calendar.working_days_between(today, due_date) <= amber_within else Rag.GREEN


def grade_change(before: str | None, after: str | None) -> str:
    """"Inadequate → Good", in the words people read."""
    def label(grade: str | None) -> str:
        return Grade(grade).label if grade else "Not graded"
    return f"{label(before)} → {label(after)}"
