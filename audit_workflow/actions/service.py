"""Actions, one use case per function: propose from a weak audit, create, edit, assign, mark the
plan amended (which schedules its re-audit), record the re-audit's result, and close.

Every function works in the caller's transaction and flushes; views, commands and jobs commit.
Every change appends an ActionChange row. Functions that email take the settings they need
(`config`: SERVICE_NAME and BASE_URL) instead of reading the application's.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..audits.models import Audit, AuditStatus, SectionJudgement
from ..auth.models import User
from ..authorities.models import LocalAuthority
from ..clock import today, utcnow
from ..cycles.allocating import assign_reaudit, reaudit_auditors
from ..cycles.guards import CycleError
from ..cycles.models import Assignment, AssignmentKind, AssignmentStatus, AuditCycle, CycleStatus
from ..cycles.working_days import working_calendar
from ..framework import Grade
from ..framework.versions import framework_for_audit
from ..notifications.catalogue import staff_context
from ..notifications.outbox import queue_message
from ..notifications.staff_mail import StaffMail
from ..feedback.models import FeedbackInvitation, FeedbackResponse
from ..moderation.models import AgreedGrade
from ..plans.models import Plan
from ..refusals import Refused
from ..typed_text import checked_text
from ..workdays import BeyondHolidayData
from . import rules
from .board import ActionFacts, counts_by, rag_over_time
from .kinds import ActionChangeKind, ActionStatus, ActionType
from .models import Action, ActionChange, ActionReview, ActionSettings

SUMMARY_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 1000
# Audits submitted this long ago or less are scanned for proposals: a scan that missed some runs
# catches up, and the scan does not grow with every audit ever submitted.
PROPOSAL_LOOKBACK = timedelta(days=30)
# Audit kinds whose result may call for an action. Moderation pairs are left to the moderation
# area, which decides the agreed grade when two audits of one plan differ.
PROPOSING_KINDS = (AssignmentKind.PRIMARY, AssignmentKind.REAUDIT)


class ActionError(Refused):
    """A change the actions rules refuse (see refusals.Refused)."""


# --- Settings ----------------------------------------------------------------------------------


def settings_for(db: Session, la_id: uuid.UUID) -> ActionSettings:
    """The LA's action settings; the defaults (not stored) until a coordinator saves their own."""
    return db.exec(select(ActionSettings).where(ActionSettings.la_id == la_id)).first() or ActionSettings(la_id=la_id)


def save_settings(db: Session, la_id: uuid.UUID, due_working_days: int, remind_days_before: int,
                  overdue_interval_days: int, theme_percent: int) -> ActionSettings:
    if not 1 <= due_working_days <= 200:
        raise ActionError("Actions must be due between 1 and 200 working days after they are assigned", "due_working_days")
    if not 0 <= remind_days_before <= 100:
        raise ActionError("Remind owners: enter a number of working days from 0 to 100", "remind_days_before")
    if not 1 <= overdue_interval_days <= 100:
        raise ActionError("Chase overdue actions every 1 to 100 working days", "overdue_interval_days")
    if not 1 <= theme_percent <= 100:
        raise ActionError("A theme is a criterion missed in 1% to 100% of plans", "theme_percent")
    settings = settings_for(db, la_id)
    settings.due_working_days, settings.remind_days_before = due_working_days, remind_days_before
    settings.overdue_interval_days, settings.theme_share = overdue_interval_days, theme_percent / 100
    db.add(settings)
    db.flush()
    return settings


def due_date_for(db: Session, la_id: uuid.UUID, start: date | None = None) -> date:
    try:
        return working_calendar(db, la_id).add_working_days(start or today(), settings_for(db, la_id).due_working_days)
    except BeyondHolidayData:
        raise ActionError("The due date falls beyond the bank holidays this service knows about; enter a due date",
                          "due_date") from None


# --- Proposals ---------------------------------------------------------------------------------


def _ticks(db: Session, audit: Audit) -> dict[str, list[str]]:
    rows = db.exec(select(SectionJudgement).where(SectionJudgement.audit_id == audit.id)).all()
    return {row.section_code: json.loads(row.ticked) for row in rows}


def _grades(db: Session, audit: Audit) -> tuple[Grade, dict[str, Grade | None]]:
    """The audit's overall and section grades, where moderation agreed a grade, the agreed one."""
    rows = db.exec(select(SectionJudgement.section_code, SectionJudgement.grade).where(SectionJudgement.audit_id == audit.id)).all()
    grades = {code: grade for code, grade in rows} | {"overall": audit.overall_grade}
    grades |= dict(db.exec(select(AgreedGrade.section_code, AgreedGrade.grade).where(AgreedGrade.audit_id == audit.id)).all())
    overall = Grade(grades.pop("overall"))
    return overall, {code: Grade(grade) if grade else None for code, grade in grades.items()}


def propose_for_audit(db: Session, audit: Audit) -> Action | None:
    """The action a submitted audit calls for (rules.propose), for the plan's writing team; None
    when it calls for none or already has one."""
    if audit.status != AuditStatus.SUBMITTED or audit.overall_grade is None:
        return None
    if db.exec(select(Action.id).where(Action.audit_id == audit.id)).first() is not None:
        return None
    overall, section_grades = _grades(db, audit)
    proposal = rules.propose(framework_for_audit(db, audit), overall, section_grades, _ticks(db, audit))
    if proposal is None:
        return None
    assignment = db.get(Assignment, audit.assignment_id)
    plan = db.get(Plan, assignment.plan_id)
    action = Action(
        la_id=audit.la_id, plan_id=plan.id, audit_id=audit.id, cycle_id=assignment.cycle_id,
        action_type=proposal.action_type, summary=proposal.summary, section_code=proposal.section_code,
        criteria=json.dumps(list(proposal.criteria)), owner_team=plan.writer_team, grade_before=overall.value,
        source_key=f"audit:{audit.id}",
    )
    db.add(action)
    db.flush()
    _record(db, action, None, ActionChangeKind.PROPOSED, f"Proposed after the audit graded the plan {overall.label}")
    return action


def audits_to_consider(db: Session, now: datetime) -> list[uuid.UUID]:
    """Primary audits and re-audits with no action yet, submitted recently with a weak overall or
    section grade, or given one recently in moderation's adjudication (the rules decide whether a
    weak section is a limiting one)."""
    weak = [grade.value for grade in rules.WEAK_GRADES]
    since = now - PROPOSAL_LOOKBACK
    weak_section = select(SectionJudgement.audit_id).where(col(SectionJudgement.grade).in_(weak))
    weak_agreed = select(AgreedGrade.audit_id).where(col(AgreedGrade.grade).in_(weak), AgreedGrade.decided_at >= since)
    return list(db.exec(
        select(Audit.id).join(Assignment, Assignment.id == Audit.assignment_id)
        .where(Audit.status == AuditStatus.SUBMITTED, col(Assignment.kind).in_(PROPOSING_KINDS),
               (Audit.submitted_at >= since) & (col(Audit.overall_grade).in_(weak) | col(Audit.id).in_(weak_section))
               | col(Audit.id).in_(weak_agreed),
               col(Audit.id).not_in(select(Action.audit_id).where(col(Action.audit_id).is_not(None))))
        .order_by(Audit.submitted_at, Audit.id)
    ).all())


# --- Creating and changing ---------------------------------------------------------------------


def _text(value: str, field: str, what: str, limit: int) -> str:
    return checked_text(value, field, what, limit, ActionError)


def _action_type(value: str) -> ActionType:
    try:
        return ActionType(value)
    except ValueError:
        raise ActionError("Choose the type of action", "action_type") from None


def _plan_by_system_id(db: Session, la_id: uuid.UUID, system_id: str) -> Plan | None:
    system_id = (system_id or "").strip()
    if not system_id:
        return None
    plan = db.exec(select(Plan).where(Plan.la_id == la_id, Plan.system_id == system_id)).first()
    if plan is None:
        raise ActionError(f"There is no plan with System ID {system_id} in the register", "system_id")
    return plan


@dataclass
class ActionDraft:
    """What a coordinator types for a new action."""

    action_type: str
    summary: str
    system_id: str = ""  # empty: an LA-level action (a theme)
    section_code: str | None = None
    criteria: tuple[str, ...] = ()
    cycle_id: uuid.UUID | None = None


def create_action(db: Session, la_id: uuid.UUID, draft: ActionDraft, actor: User) -> Action:
    action_type = _action_type(draft.action_type)
    plan = _plan_by_system_id(db, la_id, draft.system_id)
    if plan is None and action_type in (ActionType.AMEND_PLAN, ActionType.REAUDIT):
        raise ActionError("Enter the System ID of the plan to amend", "system_id")
    action = Action(la_id=la_id, plan_id=plan.id if plan else None, action_type=action_type, status=ActionStatus.PROPOSED,
                    summary=_text(draft.summary, "summary", "what is to be done", SUMMARY_MAX_LENGTH),
                    section_code=draft.section_code, criteria=json.dumps(list(draft.criteria)), cycle_id=draft.cycle_id,
                    owner_team=plan.writer_team if plan else None, grade_before=_latest_grade(db, plan) if plan else None)
    db.add(action)
    db.flush()
    _record(db, action, actor, ActionChangeKind.CREATED, action.summary)
    return action


def _latest_grade(db: Session, plan: Plan) -> str | None:
    return db.exec(
        select(Audit.overall_grade).join(Assignment, Assignment.id == Audit.assignment_id)
        .where(Assignment.plan_id == plan.id, Audit.status == AuditStatus.SUBMITTED)
        .order_by(col(Audit.submitted_at).desc()).limit(1)
    ).first()


def _changeable(action: Action) -> None:
    if action.status == ActionStatus.CLOSED:
        raise ActionError("This action is closed, so it can no longer be changed")


def edit_action(db: Session, action: Action, actor: User, action_type: str, summary: str, due_date: date | None) -> None:
    _changeable(action)
    new_type = _action_type(action_type)
    if new_type != action.action_type and action.status == ActionStatus.REAUDIT:
        raise ActionError("The plan's re-audit is under way, so the type of action cannot change now", "action_type")
    if action.plan_id is None and new_type in (ActionType.AMEND_PLAN, ActionType.REAUDIT):
        raise ActionError("An action about no single plan can be a process or template change, or training", "action_type")
    if due_date is not None and due_date < today() and due_date != action.due_date:
        raise ActionError("The due date must be today or in the future", "due_date")
    changes = []
    summary = _text(summary, "summary", "what is to be done", SUMMARY_MAX_LENGTH)
    if summary != action.summary:
        changes.append(f"what is to be done: {summary}")
    if new_type != action.action_type:
        changes.append(f"type: {new_type.label}")
    if due_date is not None and due_date != action.due_date:
        changes.append(f"due: {due_date:%d %B %Y}")
    if not changes:
        return
    action.summary, action.action_type = summary, new_type
    action.due_date = due_date or action.due_date
    db.add(action)
    db.flush()
    _record(db, action, actor, ActionChangeKind.EDITED, "Changed " + "; ".join(changes))


def owners(db: Session, la_id: uuid.UUID) -> list[User]:
    """Staff an action may be given to: the LA's active users."""
    return list(db.exec(select(User).where(User.la_id == la_id, User.active).order_by(User.display_name)).all())


def assign_action(db: Session, action: Action, actor: User, config: Mapping[str, Any], *, owner_id: uuid.UUID | None,
                  team: str, due_date: date | None = None) -> None:
    """Give the action to a member of staff (emailed) and/or a team, due on `due_date` or the LA's
    number of working days from today. Assigning again is a reassignment."""
    _changeable(action)
    owner = None
    if owner_id is not None:
        owner = next((user for user in owners(db, action.la_id) if user.id == owner_id), None)
        if owner is None:
            raise ActionError("Choose an owner from your LA's staff", "owner")
    team = (team or "").strip()
    if owner is None and not team:
        raise ActionError("Choose an owner, or enter the team that owns the action", "owner")
    if team:
        team = _text(team, "team", "the team", 120)
    if due_date is not None and due_date < today():
        raise ActionError("The due date must be today or in the future", "due_date")
    previous = db.get(User, action.owner_id) if action.owner_id else None
    action.owner_id, action.owner_team = (owner.id if owner else None), (team or None)
    action.due_date = due_date or action.due_date or due_date_for(db, action.la_id)
    action.assigned_at = utcnow()
    if action.status == ActionStatus.PROPOSED:
        action.status = ActionStatus.OPEN
    db.add(action)
    db.flush()
    who = ", ".join(part for part in (owner.display_name if owner else None, team) if part)
    detail = f"Reassigned from {previous.display_name} to {who}" if previous else f"Assigned to {who}"
    change = _record(db, action, actor, ActionChangeKind.ASSIGNED, f"{detail}, due {action.due_date:%d %B %Y}")
    if owner is not None:
        queue_message(db, kind="action_assigned", to=[owner.email], la_id=action.la_id, key=f"action:{action.id}:assigned:{change.id}",
                      context=owner_email_context(db, config, action, owner))


def owner_email_context(db: Session, config: Mapping[str, Any], action: Action, owner: User, **extra) -> dict:
    plan = db.get(Plan, action.plan_id) if action.plan_id else None
    return staff_context(config, db.get(LocalAuthority, action.la_id), owner.display_name, action={
        "summary": action.summary, "type": ActionType(action.action_type).label,
        "system_id": plan.system_id if plan else None, "due_date": action.due_date, **extra})


# --- Re-audit ------------------------------------------------------------------------------------


def _original_assignment(db: Session, action: Action) -> Assignment | None:
    """The assignment of the audit that raised the action, or else the plan's latest submitted first audit."""
    if action.audit_id:
        return db.get(Assignment, db.get(Audit, action.audit_id).assignment_id)
    return db.exec(
        select(Assignment).where(Assignment.plan_id == action.plan_id, Assignment.kind == AssignmentKind.PRIMARY,
                                 Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(col(Assignment.submitted_at).desc()).limit(1)
    ).first()


def reaudit_cycle(db: Session, action: Action) -> AuditCycle | None:
    """Where the re-audit goes: the first audit's cycle while it is open, else the LA's latest open
    one; None when the plan has no audit to repeat or no cycle is open."""
    original = _original_assignment(db, action) if action.plan_id else None
    if original is None:
        return None
    cycle = db.get(AuditCycle, original.cycle_id)
    if cycle.status == CycleStatus.OPEN:
        return cycle
    return db.exec(select(AuditCycle).where(AuditCycle.la_id == action.la_id, AuditCycle.status == CycleStatus.OPEN)
                   .order_by(col(AuditCycle.period_start).desc())).first()


def reaudit_candidates(db: Session, action: Action) -> list[User]:
    cycle = reaudit_cycle(db, action)
    return reaudit_auditors(db, cycle, _original_assignment(db, action)) if cycle else []


def mark_plan_amended(db: Session, action: Action, actor: User, auditor_id: uuid.UUID, mail: StaffMail) -> Assignment:
    """The plan of a re-audit action has been amended: allocate its re-audit to `auditor_id`."""
    _changeable(action)
    if action.action_type != ActionType.REAUDIT:
        raise ActionError("Only a re-audit action schedules a re-audit. Close this action with a note of what was done.")
    if action.status != ActionStatus.OPEN:
        raise ActionError("Assign the action before marking the plan amended" if action.status == ActionStatus.PROPOSED
                          else "The re-audit has already been scheduled")
    cycle = reaudit_cycle(db, action)
    if cycle is None:
        raise ActionError("The re-audit needs an open audit cycle and a submitted first audit of the plan. Open a cycle first.",
                          "auditor")
    try:
        assignment = assign_reaudit(db, cycle, _original_assignment(db, action), auditor_id, actor, mail)
    except CycleError as error:
        raise ActionError(str(error), "auditor") from None
    action.status, action.reaudit_assignment_id, action.plan_amended_at = ActionStatus.REAUDIT, assignment.id, utcnow()
    if action.cycle_id is None:
        action.cycle_id = cycle.id
    db.add(action)
    db.flush()
    _record(db, action, actor, ActionChangeKind.PLAN_AMENDED,
            f"Plan amended; re-audit allocated to {db.get(User, auditor_id).display_name} in {cycle.name}")
    return assignment


def audits_of_action(db: Session, action: Action) -> tuple[Audit | None, Audit | None]:
    """The audit that raised the action and its re-audit's audit, to show side by side."""
    original = db.get(Audit, action.audit_id) if action.audit_id else None
    reaudit = (db.exec(select(Audit).where(Audit.assignment_id == action.reaudit_assignment_id)).first()
               if action.reaudit_assignment_id else None)
    return original, reaudit


def reaudits_done(db: Session) -> list[uuid.UUID]:
    """Actions waiting for a re-audit that has now been submitted."""
    return list(db.exec(
        select(Action.id).join(Assignment, Assignment.id == Action.reaudit_assignment_id)
        .where(Action.status == ActionStatus.REAUDIT, Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(Action.id)
    ).all())


def record_reaudit_result(db: Session, action: Action) -> bool:
    """Close a re-audit action whose re-audit is submitted, with the grade change. False if not yet."""
    if action.status != ActionStatus.REAUDIT or action.reaudit_assignment_id is None:
        return False
    audit = db.exec(select(Audit).where(Audit.assignment_id == action.reaudit_assignment_id,
                                        Audit.status == AuditStatus.SUBMITTED)).first()
    if audit is None:
        return False
    action.grade_after = audit.overall_grade
    _close(db, action, None, f"Re-audited: {rules.grade_change(action.grade_before, action.grade_after)}")
    return True


# --- Closing -------------------------------------------------------------------------------------


def close_action(db: Session, action: Action, actor: User, note: str) -> None:
    _changeable(action)
    if action.status == ActionStatus.REAUDIT:
        raise ActionError("The plan's re-audit is under way; the action closes when it is submitted", "note")
    _close(db, action, actor, _text(note, "note", "what was done", NOTE_MAX_LENGTH))


def _close(db: Session, action: Action, actor: User | None, note: str) -> None:
    action.status, action.closing_note, action.closed_at = ActionStatus.CLOSED, note, utcnow()
    db.add(action)
    db.flush()
    _record(db, action, actor, ActionChangeKind.CLOSED, note)


def _record(db: Session, action: Action, actor: User | None, change: ActionChangeKind, detail: str | None) -> ActionChange:
    row = ActionChange(la_id=action.la_id, action_id=action.id, actor_id=actor.id if actor else None, change=change,
                       detail=detail[:NOTE_MAX_LENGTH] if detail else None)
    db.add(row)
    db.flush()
    return row


# --- Reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    action: Action
    system_id: str | None
    owner_name: str | None
    cycle_name: str | None

    @property
    def type_label(self) -> str:
        return ActionType(self.action.action_type).label

    @property
    def overdue(self) -> bool:
        return self.action.status != ActionStatus.CLOSED and self.action.due_date is not None and self.action.due_date < today()

    @property
    def team(self) -> str:
        return self.action.owner_team or "No team"

    @property
    def criteria(self) -> list[str]:
        return json.loads(self.action.criteria)


def _rows(db: Session, *conditions) -> list[ActionRow]:
    rows = db.exec(
        select(Action, Plan.system_id, User.display_name, AuditCycle.name)
        .outerjoin(Plan, Plan.id == Action.plan_id)
        .outerjoin(User, User.id == Action.owner_id)
        .outerjoin(AuditCycle, AuditCycle.id == Action.cycle_id)
        .where(*conditions)
        .order_by(col(Action.due_date).is_(None), Action.due_date, Action.created_at)
    ).all()
    return [ActionRow(*row) for row in rows]


ACTION_FILTERS = ("proposed", "open", "overdue", "closed")


def actions_for_la(db: Session, la_id: uuid.UUID, shown: str | None = None) -> list[ActionRow]:
    conditions = [Action.la_id == la_id]
    if shown == "overdue":
        conditions += [Action.status != ActionStatus.CLOSED, Action.due_date < today()]
    elif shown == "open":
        conditions.append(col(Action.status).in_((ActionStatus.OPEN, ActionStatus.REAUDIT)))
    elif shown in ("proposed", "closed"):
        conditions.append(Action.status == shown)
    return _rows(db, *conditions)


def action_row(db: Session, action: Action) -> ActionRow:
    return _rows(db, Action.id == action.id)[0]


def actions_for_plan(db: Session, plan: Plan) -> list[ActionRow]:
    return _rows(db, Action.plan_id == plan.id)


def history(db: Session, action_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[ActionChange, str | None]]]:
    """Each action's changes in order, with who made them (None: the service itself)."""
    found: dict[uuid.UUID, list[tuple[ActionChange, str | None]]] = {action_id: [] for action_id in action_ids}
    for change, name in db.exec(
        select(ActionChange, User.display_name).outerjoin(User, User.id == ActionChange.actor_id)
        .where(col(ActionChange.action_id).in_(action_ids)).order_by(ActionChange.at, ActionChange.id)
    ).all():
        found[change.action_id].append((change, name))
    return found


def open_count(db: Session, la_id: uuid.UUID) -> tuple[int, int]:
    """(actions not closed, of which overdue)."""
    not_closed = (Action.la_id == la_id, Action.status != ActionStatus.CLOSED)
    total = db.exec(select(func.count()).select_from(Action).where(*not_closed)).one()
    overdue = db.exec(select(func.count()).select_from(Action).where(*not_closed, Action.due_date < today())).one()
    return total, overdue


# --- Themes ----------------------------------------------------------------------------------------


def cycle_themes(db: Session, cycle: AuditCycle) -> list[rules.Theme]:
    """Criteria missed in at least the LA's theme share of the cycle's audited plans (first audits
    only: a re-audit would count its plan twice). A criterion is missed where a graded section
    ticked it in a weak band or left it unticked as a core Good criterion (rules.missed_criteria)."""
    rows = db.exec(
        select(Audit, Assignment.plan_id).join(Assignment, Assignment.id == Audit.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.PRIMARY, Audit.status == AuditStatus.SUBMITTED)
        .order_by(Audit.submitted_at)
    ).all()
    if not rows:
        return []
    missed_by_plan: dict[uuid.UUID, set[str]] = {}
    framework = None
    for audit, plan_id in rows:
        framework = framework_for_audit(db, audit)
        missed = missed_by_plan.setdefault(plan_id, set())
        graded = {code: grade for code, grade in _grades(db, audit)[1].items() if grade not in (None, Grade.NOT_APPLICABLE)}
        ticks = _ticks(db, audit)
        for code in graded:
            missed.update(rules.missed_criteria(framework, code, ticks.get(code, ())))
    return rules.themes(framework, missed_by_plan, settings_for(db, cycle.la_id).theme_share)


def raise_theme_action(db: Session, cycle: AuditCycle, criterion_id: str, action_type: str, actor: User) -> Action:
    """An LA-level action from a theme of the cycle: one criterion missed in many plans."""
    theme = next((item for item in cycle_themes(db, cycle) if item.criterion_id == criterion_id), None)
    if theme is None:
        raise ActionError("That criterion is not a theme of this cycle", "criterion")
    if _action_type(action_type) not in (ActionType.PROCESS_CHANGE, ActionType.TRAINING):
        raise ActionError("An action for the whole service is a process or template change, or training", "action_type")
    summary = (f"{ActionType(action_type).label}: '{theme.text.rstrip('.')}' ({theme.criterion_id}) was missed in "
               f"{theme.plans} of {theme.audited} plans audited in {cycle.name}")[:SUMMARY_MAX_LENGTH]
    draft = ActionDraft(action_type, summary, section_code=theme.section_code, criteria=(theme.criterion_id,), cycle_id=cycle.id)
    return create_action(db, cycle.la_id, draft, actor)


# --- The board and a plan's record -----------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    by_type: list
    by_team: list
    by_cycle: list
    rag_over_time: list
    grade_changes: list[ActionRow]


def board_for(db: Session, la_id: uuid.UUID, on: date | None = None) -> Board:
    on = on or today()
    rows = actions_for_la(db, la_id)
    facts = [ActionFacts(row.type_label, row.team, row.cycle_name or "No cycle", row.action.status, row.action.due_date)
             for row in rows]
    reviews = db.exec(select(ActionReview.review_date, ActionReview.rag).where(ActionReview.la_id == la_id)).all()
    return Board(
        by_type=counts_by(facts, lambda item: item.action_type, on),
        by_team=counts_by(facts, lambda item: item.team, on),
        by_cycle=counts_by(facts, lambda item: item.cycle, on),
        rag_over_time=rag_over_time(reviews),
        grade_changes=[row for row in rows if row.action.grade_after is not None],
    )


@dataclass(frozen=True)
class AuditOnRecord:
    assignment: Assignment
    auditor_name: str
    cycle_name: str
    audit: Audit | None
    agreed_grade: str | None = None  # the overall grade moderation's adjudication agreed, if any


def audits_of_plan(db: Session, plan: Plan) -> list[AuditOnRecord]:
    """Every assignment of the plan (first audits, moderation, re-audits), oldest first, with its audit."""
    rows = db.exec(
        select(Assignment, User.display_name, AuditCycle.name, Audit, AgreedGrade.grade)
        .join(User, User.id == Assignment.auditor_id)
        .join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
        .outerjoin(Audit, Audit.assignment_id == Assignment.id)
        .outerjoin(AgreedGrade, (AgreedGrade.audit_id == Audit.id) & (AgreedGrade.section_code == "overall"))
        .where(Assignment.plan_id == plan.id)
        .order_by(Assignment.assigned_at, Assignment.id)
    ).all()
    return [AuditOnRecord(*row) for row in rows]


def feedback_of_plan(db: Session, plan: Plan) -> list[tuple[str, str, int, int]]:
    """(cycle, respondent type, asked, answered) for the plan: how many were asked about it and how
    many answered, never what they answered (a plan's few answers would identify the family)."""
    asked = db.exec(
        select(AuditCycle.name, FeedbackInvitation.respondent_type, func.count(FeedbackInvitation.id),
               func.count(FeedbackResponse.id))
        .join(AuditCycle, AuditCycle.id == FeedbackInvitation.cycle_id)
        .outerjoin(FeedbackResponse, FeedbackResponse.invitation_id == FeedbackInvitation.id)
        .where(FeedbackInvitation.plan_id == plan.id)
        .group_by(AuditCycle.name, FeedbackInvitation.respondent_type)
        .order_by(AuditCycle.name, FeedbackInvitation.respondent_type)
    ).all()
    return [tuple(row) for row in asked]
