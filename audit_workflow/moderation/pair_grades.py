"""What the moderation statistics need of each pair, read as plain rows in a few set-based queries.

The pages that show or change one pair use service.pairs_for (ORM objects, to edit and display).
The statistics of a cycle only count grades and ticks, and as ORM objects a cycle of 1,000 pairs
(2,000 audits, 24,000 section judgements) cost most of its report; here they are tuples, and each
framework version is looked up once per report, not once per pair.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import and_
from sqlmodel import Session, col, select

from ..audits.models import Audit, AuditStatus, SectionJudgement
from ..auth.models import User
from ..cycles.models import HELD_STATUSES, Assignment, AssignmentKind
from ..framework.model import Framework
from ..framework.versions import frameworks_by_version
from ..plans.models import Plan
from .models import AgreedGrade, ModerationPick
from .rules import flag_reasons

OVERALL = "overall"


def reference_grade(agreed_overall: str | None, complete: bool, first_overall: str | None,
                    second_overall: str | None) -> str | None:
    """The overall grade each auditor is compared with: the adjudicated one, or, where the two
    auditors gave the same grade and nobody adjudicated, that grade."""
    if agreed_overall is not None:
        return agreed_overall
    if complete and first_overall == second_overall:
        return first_overall
    return None


@dataclass(frozen=True)
class GradedSide:
    """One auditor's audit of a picked plan, as the statistics read it."""

    auditor_id: uuid.UUID
    email: str
    name: str
    submitted: bool
    overall: str | None  # only once submitted
    grades: dict[str, str | None]  # section code -> grade
    ticks: dict[str, str]  # section code -> the JSON list of ticked criterion ids, as stored

    def ticked(self, code: str) -> set[str]:
        stored = self.ticks.get(code)
        return set(json.loads(stored)) if stored else set()


@dataclass(frozen=True)
class PairGrades:
    """A live pick of a cycle: both sides (None while unassigned), its adjudicated overall grade, and
    the framework of its first audit (None until that audit is started)."""

    first: GradedSide | None
    second: GradedSide | None
    agreed_overall: str | None
    framework: Framework | None

    @property
    def complete(self) -> bool:
        return self.first is not None and self.second is not None and self.first.submitted and self.second.submitted

    @property
    def adjudicated(self) -> bool:
        return self.agreed_overall is not None

    @cached_property
    def flagged(self) -> bool:
        if not self.complete:
            return False
        codes = self.section_codes
        return bool(flag_reasons(self.framework.discrepancy_rules, self.first.overall, self.second.overall,
                                 {code: self.first.grades.get(code) for code in codes},
                                 {code: self.second.grades.get(code) for code in codes}))

    @property
    def section_codes(self) -> tuple[str, ...]:
        return tuple(section.code for section in self.framework.sections) if self.framework else ()

    def reference(self) -> str | None:
        first, second = (side.overall if side else None for side in (self.first, self.second))
        return reference_grade(self.agreed_overall, self.complete, first, second)


def pair_grades(db: Session, cycle_ids: Sequence[uuid.UUID]) -> list[PairGrades]:
    """The live picks of these cycles in System ID order (the order pairs_for gives and the
    bootstrap resamples): four queries, whatever the number of picks. They run on the session's
    connection: plain rows need none of the ORM's result handling, a third of the time of this read."""
    read = db.connection().execute
    picked = (col(ModerationPick.cycle_id).in_(list(cycle_ids)), col(ModerationPick.removed_at).is_(None))
    picks = read(select(ModerationPick.cycle_id, ModerationPick.plan_id).join(Plan, Plan.id == ModerationPick.plan_id)
                 .where(*picked).order_by(Plan.system_id)).all()
    if not picks:
        return []
    held = (Assignment.__table__.join(ModerationPick, and_(ModerationPick.cycle_id == Assignment.cycle_id,
                                                           ModerationPick.plan_id == Assignment.plan_id)))
    held_where = (*picked, col(Assignment.status).in_(HELD_STATUSES))
    sides = read(
        select(Assignment.cycle_id, Assignment.plan_id, Assignment.kind, User.id, User.email, User.display_name,
               Audit.id, Audit.status, Audit.overall_grade, Audit.framework_version_id, AgreedGrade.grade)
        .select_from(held).join(User, User.id == Assignment.auditor_id)
        .outerjoin(Audit, Audit.assignment_id == Assignment.id)
        .outerjoin(AgreedGrade, and_(AgreedGrade.audit_id == Audit.id, AgreedGrade.section_code == OVERALL))
        .where(*held_where)
    ).all()
    # Only submitted audits are compared, so only theirs are read.
    sections: dict[uuid.UUID, tuple[dict, dict]] = {}
    for audit_id, code, grade, ticked in read(
        select(SectionJudgement.audit_id, SectionJudgement.section_code, SectionJudgement.grade, SectionJudgement.ticked)
        .select_from(held).join(Audit, Audit.assignment_id == Assignment.id)
        .join(SectionJudgement, SectionJudgement.audit_id == Audit.id)
        .where(*held_where, Audit.status == AuditStatus.SUBMITTED)
    ).all():
        grades, ticks = sections.setdefault(audit_id, ({}, {}))
        grades[code], ticks[code] = grade, ticked
    frameworks = frameworks_by_version(db, {row.framework_version_id for row in sides if row.framework_version_id})

    found: dict[tuple[uuid.UUID, uuid.UUID, str], tuple[GradedSide, str | None, Framework | None]] = {}
    for (cycle_id, plan_id, kind, user_id, email, name, audit_id, status, overall, version_id, agreed) in sides:
        submitted = status == AuditStatus.SUBMITTED
        grades, ticks = sections.get(audit_id, ({}, {}))
        side = GradedSide(user_id, email, name, submitted, overall if submitted else None, grades, ticks)
        found[(cycle_id, plan_id, kind)] = (side, agreed, frameworks.get(version_id))
    pairs = []
    for cycle_id, plan_id in picks:
        first, agreed, framework = found.get((cycle_id, plan_id, AssignmentKind.PRIMARY), (None, None, None))
        second = found.get((cycle_id, plan_id, AssignmentKind.MODERATION), (None,))[0]
        pairs.append(PairGrades(first, second, agreed, framework))
    return pairs
