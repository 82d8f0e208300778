"""Who audits which plan: allocating the sample across the pool, and what follows (reassignment,
declines, "plan sent" ticks), with the emails each sends. Every function works in the caller's
transaction and flushes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from ..auth.models import Discipline, User
from ..authorities.models import LocalAuthority
from ..clock import today, utcnow
from ..notifications.outbox import queue_message
from ..notifications.staff_mail import StaffMail
from ..plans.models import Plan
from ..plans.reference import key_stage_label, setting_type_label
from ..workdays import BeyondHolidayData
from . import allocation
from .guards import CycleError, checked_reason, ensure_editable
from .models import (
    ACTIVE_STATUSES,
    HELD_STATUSES,
    AllocationRun,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    AuditCycle,
    CycleAuditor,
    CyclePlan,
    CycleStatus,
)
from .transitions import move_assignment
from .working_days import working_calendar


def _unheld(cycle: AuditCycle):
    """A sampled plan with no primary assignment still held: never allocated, declined, or withdrawn."""
    held = select(Assignment.plan_id).where(
        Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.PRIMARY, col(Assignment.status).in_(HELD_STATUSES)
    )
    return col(CyclePlan.plan_id).not_in(held)


def _in_sample(cycle: AuditCycle):
    return (CyclePlan.cycle_id == cycle.id) & col(CyclePlan.removed_at).is_(None)


def unallocated_plan_ids(db: Session, cycle: AuditCycle) -> list[uuid.UUID]:
    return list(db.exec(select(CyclePlan.plan_id).where(_in_sample(cycle), _unheld(cycle))).all())


def sample_counts(db: Session, cycle: AuditCycle) -> tuple[int, int]:
    """How many plans the sample has and how many of them are unallocated, counted in one query
    (the dashboard shows both on every view)."""
    sampled, unallocated = db.exec(
        select(func.count(), func.coalesce(func.sum(case((_unheld(cycle), 1), else_=0)), 0)).where(_in_sample(cycle))
    ).one()
    return sampled, unallocated


def due_date_for(db: Session, cycle: AuditCycle, start: date | None = None) -> date:
    try:
        return working_calendar(db, cycle.la_id).add_working_days(start or today(), cycle.due_working_days)
    except BeyondHolidayData:
        raise CycleError("The due date falls beyond the bank holidays this service knows about; ask your administrator to update them") from None


def set_discipline_mix(db: Session, cycle: AuditCycle, percentages: dict[str, int | None]) -> None:
    """The share of plans each discipline should audit, in whole per cent (empty or 0 for none).
    All empty means no mix: allocation then balances by capacity alone."""
    ensure_editable(cycle)
    unknown = set(percentages) - {discipline.value for discipline in Discipline}
    if unknown:
        raise CycleError(f"There is no discipline called {', '.join(sorted(unknown))}")
    given = {name: value for name, value in percentages.items() if value}
    if given and (min(given.values()) < 0 or sum(given.values()) != 100):
        raise CycleError("The discipline percentages must add up to 100%, or all be left empty", "education")
    cycle.discipline_mix = json.dumps({name: value / 100 for name, value in given.items()}) if given else None
    db.add(cycle)
    db.flush()


def held_per_auditor(cycle: AuditCycle):
    """A subquery (auditor_id, held): how many of the cycle's plans each auditor holds."""
    return (
        select(Assignment.auditor_id, func.count().label("held"))
        .where(Assignment.cycle_id == cycle.id, col(Assignment.status).in_(HELD_STATUSES))
        .group_by(Assignment.auditor_id)
        .subquery()
    )


def _pool_slots(db: Session, cycle: AuditCycle) -> list[allocation.AuditorSlot]:
    load = held_per_auditor(cycle)
    rows = db.exec(
        select(CycleAuditor.capacity, User.id, User.discipline, User.team, func.coalesce(load.c.held, 0))
        .join(User, User.id == CycleAuditor.user_id)
        .outerjoin(load, load.c.auditor_id == User.id)
        .where(CycleAuditor.cycle_id == cycle.id, User.active)
        .order_by(User.email)
    ).all()
    return [allocation.AuditorSlot(user_id, discipline, team, capacity, held) for capacity, user_id, discipline, team, held in rows]


def _declined_by(db: Session, cycle: AuditCycle) -> dict[uuid.UUID, set[uuid.UUID]]:
    declined: dict[uuid.UUID, set[uuid.UUID]] = {}
    for plan_id, auditor_id in db.exec(select(Assignment.plan_id, Assignment.auditor_id).where(
            Assignment.cycle_id == cycle.id, Assignment.status == AssignmentStatus.DECLINED)).all():
        declined.setdefault(plan_id, set()).add(auditor_id)
    return declined


@dataclass
class AllocationOutcome:
    run: AllocationRun
    assignments: list[Assignment]
    unallocated: list[tuple[str, str]]  # (System ID, reason)
    explanation: list[str] = field(default_factory=list)


def allocate_cycle(db: Session, cycle: AuditCycle, actor: User | None, mail: StaffMail) -> AllocationOutcome:
    """Allocate every unallocated sampled plan that the pool has room for.

    Never to an auditor from the plan's writing team, never back to an auditor who declined it, and
    within each auditor's remaining capacity. Each auditor with new plans gets one email listing them.
    Allocating a draft cycle opens it. Running it again only picks up what is still unallocated.
    """
    ensure_editable(cycle)
    # Serialise allocation runs for the cycle (PostgreSQL; SQLite has a single writer anyway).
    db.exec(select(AuditCycle.id).where(AuditCycle.id == cycle.id).with_for_update()).one()
    pending = unallocated_plan_ids(db, cycle)
    if not pending:
        raise CycleError("There are no unallocated plans in the sample. Draw a sample or add plans first.")
    slots = _pool_slots(db, cycle)
    if not slots:
        raise CycleError("The cycle has no auditors. Add auditors to the pool first.")
    due = due_date_for(db, cycle)
    plans = {plan.id: plan for plan in db.exec(select(Plan).where(col(Plan.id).in_(pending))).all()}
    declined = _declined_by(db, cycle)
    result = allocation.allocate(
        [allocation.PlanToAllocate(plan_id, plans[plan_id].writer_team, frozenset(declined.get(plan_id, ())))
         for plan_id in pending],
        slots,
        discipline_mix=json.loads(cycle.discipline_mix) if cycle.discipline_mix else None,
    )
    if cycle.status == CycleStatus.DRAFT:
        cycle.status, cycle.opened_at = CycleStatus.OPEN, utcnow()
    run = AllocationRun(la_id=cycle.la_id, cycle_id=cycle.id, run_by_id=actor.id if actor else None,
                        assigned=len(result.assignments), unallocated=len(result.unallocated),
                        explanation=json.dumps(result.explanation, ensure_ascii=False))
    db.add_all([cycle, run])
    assignments = [Assignment(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan_id, auditor_id=auditor_id, due_date=due)
                   for plan_id, auditor_id in result.assignments]
    db.add_all(assignments)
    db.flush()
    _queue_assignment_emails(db, mail, cycle, run, actor, assignments, plans)
    return AllocationOutcome(run, assignments, [(plans[plan_id].system_id, reason) for plan_id, reason in result.unallocated],
                             list(result.explanation))


def email_plan(plan: Plan, due: date) -> dict:
    """A plan as the assignment emails describe it: what the auditor needs to match the file the
    coordinator sends them, and nothing that identifies the child."""
    return {"system_id": plan.system_id, "key_stage": key_stage_label(plan.key_stage), "setting_name": plan.setting_name,
            "setting_type": setting_type_label(plan.setting_type), "primary_need": plan.primary_need, "due_date": due}


def _coordinator_name(db: Session, la_id: uuid.UUID, actor: User | None) -> str:
    # Commands run without a person; the email then names the LA's team instead.
    return actor.display_name if actor else f"The {db.get(LocalAuthority, la_id).name} SEND quality assurance team"


def _queue_assignment_emails(db: Session, mail: StaffMail, cycle: AuditCycle, run: AllocationRun, actor: User | None,
                             assignments: list[Assignment], plans: dict[uuid.UUID, Plan]) -> None:
    """One email per auditor per run, listing all their new plans."""
    by_auditor: dict[uuid.UUID, list[Assignment]] = {}
    for assignment in assignments:
        by_auditor.setdefault(assignment.auditor_id, []).append(assignment)
    coordinator = {"display_name": _coordinator_name(db, cycle.la_id, actor)}
    for auditor_id, theirs in by_auditor.items():
        auditor = db.get(User, auditor_id)
        queue_message(
            db, kind="assignment", to=[auditor.email], la_id=cycle.la_id, key=f"allocation:{cycle.id}:{auditor_id}:{run.id}",
            context=mail.context(
                cycle.la_id, auditor.display_name, cycle={"name": cycle.name}, coordinator=coordinator,
                assignments=[email_plan(plans[item.plan_id], item.due_date) for item in theirs],
            ),
        )


def eligible_auditors(db: Session, assignment: Assignment) -> list[User]:
    """Who a coordinator may give this plan to instead: pool members, not the holder, not the
    writing team, not anyone who declined it."""
    plan = db.get(Plan, assignment.plan_id)
    declined = _declined_by(db, db.get(AuditCycle, assignment.cycle_id)).get(plan.id, set())
    members = db.exec(
        select(User).join(CycleAuditor, CycleAuditor.user_id == User.id)
        .where(CycleAuditor.cycle_id == assignment.cycle_id, User.active).order_by(User.display_name)
    ).all()
    # Whoever holds another audit of the plan (its first auditor or its moderator) cannot take this one.
    holders = {assignment.auditor_id, *db.exec(select(Assignment.auditor_id).where(
        Assignment.cycle_id == assignment.cycle_id, Assignment.plan_id == plan.id, col(Assignment.status).in_(HELD_STATUSES))).all()}
    return [user for user in members if user.id not in holders and user.id not in declined
            and not allocation.same_team(user.team, plan.writer_team)]


def reassign(db: Session, assignment: Assignment, new_auditor_id: uuid.UUID, actor: User | None, mail: StaffMail) -> Assignment:
    """Give an allocated plan to another auditor: the old assignment is withdrawn (kept for history)."""
    cycle = db.get(AuditCycle, assignment.cycle_id)
    ensure_editable(cycle)
    if assignment.status not in ACTIVE_STATUSES:
        raise CycleError("Only an assignment that is not started or in progress can be reassigned")
    new_auditor = next((user for user in eligible_auditors(db, assignment) if user.id == new_auditor_id), None)
    if new_auditor is None:
        raise CycleError("Choose an auditor from the cycle's pool who is not on the plan's writing team and has not declined it",
                         "auditor")
    move_assignment(db, assignment, ACTIVE_STATUSES, AssignmentStatus.WITHDRAWN)
    replacement = Assignment(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=assignment.plan_id, auditor_id=new_auditor.id,
                             kind=assignment.kind, due_date=due_date_for(db, cycle))
    db.add_all([assignment, replacement])
    db.flush()
    queue_message(
        db, kind="reassignment", to=[new_auditor.email], la_id=cycle.la_id, assignment_id=replacement.id,
        key=f"assignment:{assignment.id}:reassigned:{new_auditor.id}",
        context=mail.context(
            cycle.la_id, new_auditor.display_name, cycle={"name": cycle.name},
            coordinator={"display_name": _coordinator_name(db, cycle.la_id, actor)},
            assignments=[email_plan(db.get(Plan, assignment.plan_id), replacement.due_date)],
        ),
    )
    previous_auditor = db.get(User, assignment.auditor_id)
    if previous_auditor.active:  # so they stop work on it (and delete their copy of the plan)
        queue_message(
            db, kind="withdrawal", to=[previous_auditor.email], la_id=cycle.la_id, assignment_id=assignment.id,
            key=f"assignment:{assignment.id}:withdrawn",
            context=mail.context(
                cycle.la_id, previous_auditor.display_name, cycle={"name": cycle.name},
                assignment={"system_id": db.get(Plan, assignment.plan_id).system_id, "due_date": assignment.due_date},
            ),
        )
    return replacement


def reaudit_auditors(db: Session, cycle: AuditCycle, original: Assignment) -> list[User]:
    """Who may re-audit an amended plan in this cycle: as for reassignment, with the first auditor
    as the one it is taken from, so the re-audit is a fresh pair of eyes."""
    stand_in = Assignment(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=original.plan_id, auditor_id=original.auditor_id,
                          due_date=today())
    return eligible_auditors(db, stand_in)


def assign_reaudit(db: Session, cycle: AuditCycle, original: Assignment, auditor_id: uuid.UUID, actor: User | None,
                   mail: StaffMail) -> Assignment:
    """A re-audit of an amended plan (asked for by the actions area): an assignment of kind reaudit,
    due in the cycle's working days, announced with the usual assignment email."""
    ensure_editable(cycle)
    auditor = next((user for user in reaudit_auditors(db, cycle, original) if user.id == auditor_id), None)
    if auditor is None:
        raise CycleError("Choose an auditor from the cycle's pool who is not on the plan's writing team and did not "
                         "do the first audit", "auditor")
    plan = db.get(Plan, original.plan_id)
    assignment = Assignment(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan.id, auditor_id=auditor.id,
                            kind=AssignmentKind.REAUDIT, due_date=due_date_for(db, cycle))
    db.add(assignment)
    db.flush()
    queue_message(
        db, kind="assignment", to=[auditor.email], la_id=cycle.la_id, assignment_id=assignment.id,
        key=f"assignment:{assignment.id}:reaudit",
        context=mail.context(cycle.la_id, auditor.display_name, cycle={"name": cycle.name},
                             coordinator={"display_name": _coordinator_name(db, cycle.la_id, actor)},
                             assignments=[email_plan(plan, assignment.due_date)]),
    )
    return assignment


def decline(db: Session, assignment: Assignment, reason: str, mail: StaffMail) -> None:
    """An auditor hands a plan back: it returns to the unallocated queue, never to them again."""
    cycle = db.get(AuditCycle, assignment.cycle_id)
    ensure_editable(cycle)
    if assignment.status != AssignmentStatus.NOT_STARTED:
        raise CycleError("You can only decline an audit you have not started. Ask your coordinator to reassign it.")
    reason = checked_reason(reason)
    move_assignment(db, assignment, [AssignmentStatus.NOT_STARTED], AssignmentStatus.DECLINED,
                    declined_at=utcnow(), decline_reason=reason)
    coordinators = mail.coordinators(cycle.la_id)
    if not coordinators:
        return  # nobody to tell by email; the plan shows in the unallocated queue regardless
    queue_message(
        db, kind="decline_receipt", to=[user.email for user in coordinators], la_id=cycle.la_id, assignment_id=assignment.id,
        key=f"assignment:{assignment.id}:declined",
        context=mail.context(
            cycle.la_id, coordinators[0].display_name if len(coordinators) == 1 else "coordinators",
            auditor={"display_name": db.get(User, assignment.auditor_id).display_name},
            assignment={"system_id": db.get(Plan, assignment.plan_id).system_id, "due_date": assignment.due_date},
            decline={"reason": reason},
        ),
    )


def mark_plan_sent(db: Session, assignment: Assignment, actor: User) -> None:
    """The coordinator ticks that they emailed the plan to the auditor from the LA's own mailbox."""
    ensure_editable(db.get(AuditCycle, assignment.cycle_id))
    if assignment.status not in HELD_STATUSES:
        raise CycleError("That plan is no longer with this auditor, so there is nothing to send")
    if assignment.plan_sent_at is None:
        assignment.plan_sent_at, assignment.plan_sent_by_id = utcnow(), actor.id
        db.add(assignment)
        db.flush()
