"""The auditor's journey: start an audit, save each section as a draft, submit, and reopen.

Grades are never typed in: each save derives the section's grade from the ticked criteria with the
framework the audit is pinned to, and submission stores the overall grade the engine gives.
Every change appends an AuditHistory row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from ..auth.models import Role, User
from ..clock import today, utcnow
from ..cycles.models import ACTIVE_STATUSES, Assignment, AssignmentStatus, AuditCycle, CycleStatus
from ..cycles.transitions import move_assignment
from ..framework import AuditResult, Framework, Section, SectionResult, grade_audit, grade_section
from ..framework.versions import active_framework, framework_for_audit
from ..notifications.privacy import personal_data_in
from ..plans.models import Plan
from ..refusals import Refused
from .models import Audit, AuditAction, AuditHistory, AuditStatus, SectionJudgement

COMMENT_MAX_LENGTH = 4000
REASON_MAX_LENGTH = 1000


class AuditError(Refused):
    """A change the audit rules refuse (see refusals.Refused)."""


class AuditStateError(AuditError):
    """The audit's state does not allow this now (submitted and locked, or not yet submitted)."""


@dataclass(frozen=True)
class SectionSummary:
    section: Section
    judgement: SectionJudgement | None  # None: not saved yet
    result: SectionResult

    @property
    def done(self) -> bool:
        return self.judgement is not None and self.result.grade is not None


@dataclass(frozen=True)
class AuditSummary:
    sections: list[SectionSummary]
    result: AuditResult

    @property
    def sections_to_do(self) -> list[str]:
        return [item.section.code for item in self.sections if not item.done]

    @property
    def complete(self) -> bool:
        return not self.sections_to_do


@dataclass(frozen=True)
class AuditorAssignment:
    """One row of an auditor's "My audits" list."""

    assignment: Assignment
    plan: Plan
    audit: Audit | None
    cycle_name: str
    cycle_open: bool  # a closed cycle's audits are read-only

    @property
    def overdue(self) -> bool:
        return self.cycle_open and self.assignment.status in ACTIVE_STATUSES and self.assignment.due_date < today()

    @property
    def can_start(self) -> bool:
        return self.cycle_open and self.audit is None and self.assignment.status in ACTIVE_STATUSES

    @property
    def can_continue(self) -> bool:
        return self.cycle_open and self.audit is not None and self.audit.status == AuditStatus.DRAFT


def assignments_for_auditor(db: Session, auditor: User) -> list[AuditorAssignment]:
    rows = db.exec(
        select(Assignment, Plan, Audit, AuditCycle.name, AuditCycle.status)
        .join(Plan, Plan.id == Assignment.plan_id)
        .join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
        .join(Audit, Audit.assignment_id == Assignment.id, isouter=True)
        .where(
            Assignment.la_id == auditor.la_id,
            Assignment.auditor_id == auditor.id,
            Assignment.status != AssignmentStatus.WITHDRAWN,  # handed to someone else
        )
        .order_by(Assignment.due_date, Plan.system_id)
    ).all()
    return [AuditorAssignment(assignment, plan, audit, cycle_name, cycle_status != CycleStatus.CLOSED)
            for assignment, plan, audit, cycle_name, cycle_status in rows]


def audit_for_assignment(db: Session, assignment: Assignment) -> Audit | None:
    return db.exec(select(Audit).where(Audit.assignment_id == assignment.id)).first()


def start_audit(db: Session, assignment: Assignment, auditor: User, shipped_framework_file: Path | None = None) -> Audit:
    """Start the assignment's audit under the LA's active framework, or return the one started.
    An LA that has loaded none uses the shipped default (framework.versions.active_framework)."""
    if assignment.auditor_id != auditor.id:
        raise AuditError("Only the auditor this plan is assigned to can start its audit")
    existing = audit_for_assignment(db, assignment)
    if existing is not None:
        return existing
    if assignment.status not in ACTIVE_STATUSES:
        raise AuditStateError(f"This assignment is {assignment.status.replace('_', ' ')}, so its audit cannot be started")
    _check_cycle_open(db, assignment)
    version, _framework = active_framework(db, assignment.la_id, shipped_framework_file)
    now = utcnow()
    audit = Audit(
        la_id=assignment.la_id, assignment_id=assignment.id, framework_version_id=version.id,
        started_at=now, updated_at=now,
    )
    move_assignment(db, assignment, [AssignmentStatus.NOT_STARTED], AssignmentStatus.IN_PROGRESS, started_at=now)
    db.add(audit)
    db.flush()
    _record(db, audit, auditor, AuditAction.STARTED)
    return audit


def resume_section(db: Session, audit: Audit) -> str:
    """Where the auditor picks up: the section they were last on, or the first one."""
    return audit.current_section or framework_for_audit(db, audit).sections[0].code


def neighbours(framework: Framework, code: str) -> tuple[str | None, str | None]:
    """The codes of the sections before and after this one (None at either end)."""
    codes = [section.code for section in framework.sections]
    index = codes.index(code)
    return (codes[index - 1] if index > 0 else None, codes[index + 1] if index + 1 < len(codes) else None)


def judgements_by_section(db: Session, audit: Audit) -> dict[str, SectionJudgement]:
    rows = db.exec(select(SectionJudgement).where(SectionJudgement.audit_id == audit.id)).all()
    return {row.section_code: row for row in rows}


def ticked_ids(judgement: SectionJudgement | None) -> list[str]:
    return json.loads(judgement.ticked) if judgement else []


def save_section(
    db: Session, audit: Audit, section_code: str, ticked: list[str], comment: str, actor: User,
    *, moving_on: bool = False,
) -> SectionJudgement:
    """Save one section's draft and its derived grade. moving_on: the auditor resumes at the next
    section rather than this one. Nothing is stored when anything is refused."""
    _check_is_the_auditor(db, audit, actor)
    _check_draft(audit)
    _check_auditor_may_still_change(db, audit)
    framework = framework_for_audit(db, audit)
    try:
        section = framework.section(section_code)
    except ValueError:
        raise AuditError(f"There is no section {section_code} in this audit's framework") from None
    ticked = _valid_ticks(section, ticked)
    comment = _checked_comment(comment)
    result = grade_section(framework, section.code, ticked)

    judgement = judgements_by_section(db, audit).get(section.code) or SectionJudgement(
        la_id=audit.la_id, audit_id=audit.id, section_code=section.code
    )
    judgement.ticked = json.dumps(ticked)
    judgement.comment = comment
    judgement.grade = result.grade.value if result.grade else None
    judgement.explanation = result.explanation
    judgement.updated_at = utcnow()
    _previous, following = neighbours(framework, section.code)
    audit.current_section = following if moving_on and following else section.code
    audit.updated_at = judgement.updated_at
    db.add_all([judgement, audit])
    db.flush()
    _record(db, audit, actor, AuditAction.SAVED, section_code=section.code)
    return judgement


def summary(db: Session, audit: Audit) -> AuditSummary:
    """Every section's grade and explanation, and the overall grade, as the engine derives them."""
    framework = framework_for_audit(db, audit)
    judgements = judgements_by_section(db, audit)
    result = grade_audit(framework, {code: ticked_ids(judgement) for code, judgement in judgements.items()})
    sections = [
        SectionSummary(section, judgements.get(section.code), result.sections[section.code])
        for section in framework.sections
    ]
    return AuditSummary(sections=sections, result=result)


def submit_audit(db: Session, audit: Audit, actor: User) -> Audit:
    _check_is_the_auditor(db, audit, actor)
    _check_draft(audit)
    _check_auditor_may_still_change(db, audit)
    result = summary(db, audit)
    if not result.complete:
        raise AuditStateError(f"Complete every section before you submit. Still to do: {', '.join(result.sections_to_do)}")
    now = utcnow()
    audit.status = AuditStatus.SUBMITTED
    audit.overall_grade = result.result.overall.value
    audit.overall_explanation = result.result.explanation
    audit.score = result.result.score
    audit.submitted_at = audit.updated_at = now
    move_assignment(db, db.get(Assignment, audit.assignment_id), [AssignmentStatus.IN_PROGRESS],
                    AssignmentStatus.SUBMITTED, submitted_at=now)
    db.add(audit)
    db.flush()
    _record(db, audit, actor, AuditAction.SUBMITTED)
    return audit


def reopen_audit(db: Session, audit: Audit, coordinator: User, reason: str) -> Audit:
    """Unlock a submitted audit so its auditor can change it; the reason goes on the record."""
    if not coordinator.has_role(Role.COORDINATOR) or coordinator.la_id != audit.la_id:
        raise AuditError("Only a coordinator of this LA can reopen an audit")
    if audit.status != AuditStatus.SUBMITTED:
        raise AuditStateError("Only a submitted audit can be reopened")
    _check_cycle_open(db, db.get(Assignment, audit.assignment_id))
    reason = (reason or "").strip()
    if not reason:
        raise AuditError("Enter why you are reopening this audit", field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise AuditError(f"The reason must be {REASON_MAX_LENGTH} characters or fewer", field="reason")
    _refuse_personal_data(reason, "reason")
    # A draft has no overall grade: the stored one would be stale once the auditor changes a section.
    audit.status = AuditStatus.DRAFT
    audit.overall_grade = audit.overall_explanation = audit.score = audit.submitted_at = None
    audit.updated_at = utcnow()
    move_assignment(db, db.get(Assignment, audit.assignment_id), [AssignmentStatus.SUBMITTED],
                    AssignmentStatus.IN_PROGRESS, submitted_at=None)
    db.add(audit)
    db.flush()
    _record(db, audit, coordinator, AuditAction.REOPENED, reason=reason)
    return audit


def history(db: Session, audit: Audit) -> list[tuple[AuditHistory, User | None]]:
    return list(
        db.exec(
            select(AuditHistory, User)
            .join(User, User.id == AuditHistory.actor_id, isouter=True)
            .where(AuditHistory.audit_id == audit.id)
            .order_by(AuditHistory.at, AuditHistory.id)
        ).all()
    )


def is_the_auditor(db: Session, audit: Audit, user: User) -> bool:
    return db.get(Assignment, audit.assignment_id).auditor_id == user.id


def _check_is_the_auditor(db: Session, audit: Audit, actor: User) -> None:
    if not is_the_auditor(db, audit, actor):
        raise AuditError("Only the auditor this plan is assigned to can change its audit")


def _check_draft(audit: Audit) -> None:
    if audit.status != AuditStatus.DRAFT:
        raise AuditStateError("This audit has been submitted, so it cannot be changed. Ask your coordinator to reopen it.")


def _check_auditor_may_still_change(db: Session, audit: Audit) -> None:
    """A plan reassigned to someone else is theirs now: the first auditor's draft stops there. And a
    closed cycle's audits stay as they are."""
    assignment = db.get(Assignment, audit.assignment_id)
    if assignment.status == AssignmentStatus.WITHDRAWN:
        raise AuditStateError("This plan has been passed to another auditor, so you cannot change its audit")
    _check_cycle_open(db, assignment)


def _check_cycle_open(db: Session, assignment: Assignment) -> None:
    """A closed cycle is read-only: its results are what the cycle report says."""
    cycle = db.get(AuditCycle, assignment.cycle_id)
    if cycle.status == CycleStatus.CLOSED:
        raise AuditStateError(f"The cycle {cycle.name} is closed, so its audits cannot be changed")


def _valid_ticks(section: Section, ticked: list[str]) -> list[str]:
    """The ticked ids in the framework's order, refusing any that are not this section's."""
    section_ids = [criterion.id for criterion in section.criteria]
    unknown = sorted(set(ticked) - set(section_ids))
    if unknown:
        raise AuditError(
            f"{', '.join(unknown)} {'is not a criterion' if len(unknown) == 1 else 'are not criteria'} "
            f"of section {section.code}. Reload the page and tick the criteria again.",
            field="criteria",
        )
    chosen = set(ticked)
    return [criterion_id for criterion_id in section_ids if criterion_id in chosen]


def _checked_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise AuditError(f"The comment must be {COMMENT_MAX_LENGTH} characters or fewer", field="comment")
    _refuse_personal_data(comment, "comment")
    return comment


def _refuse_personal_data(text: str, field: str) -> None:
    found = personal_data_in(text)
    if found:
        raise AuditError(
            f"Remove {' and '.join(found)} from the {field}. This service must not hold a child's personal "
            "details: write about the plan's quality in your own words.",
            field=field,
        )


def _record(db: Session, audit: Audit, actor: User, action: AuditAction, *, section_code: str | None = None,
            reason: str | None = None) -> None:
    db.add(AuditHistory(la_id=audit.la_id, audit_id=audit.id, actor_id=actor.id, action=action,
                        section_code=section_code, reason=reason))
    db.flush()
