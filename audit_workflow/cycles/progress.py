"""What the cycle pages and `cycle status` show: counts done in SQL (GROUP BY), never by loading
every assignment, because the dashboard runs against the national-scale database."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from ..audits.models import Audit
from ..auth.models import Role, User
from ..clock import today
from ..natural_order import natural_key
from ..plans.models import Plan
from . import sampling
from .models import (ACTIVE_STATUSES, HELD_STATUSES, AllocationRun, Assignment, AssignmentKind, AssignmentStatus, AuditCycle, CycleAuditor, CyclePlan,
                     CycleStatus, SampleChange)
from .allocating import held_per_auditor, sample_counts, unallocated_plan_ids
from .plan_sample import register_size, target_size

OVERDUE = "overdue"


def _overdue(on: date):
    return col(Assignment.status).in_(ACTIVE_STATUSES) & (Assignment.due_date < on)


@dataclass(frozen=True)
class AuditorProgress:
    auditor_id: uuid.UUID
    name: str
    email: str
    assigned: int  # first audits held (not declined, not handed on)
    submitted: int  # first audits submitted
    moderation: int  # second audits for moderation held
    reaudits: int  # re-audits held
    overdue: int  # work of every kind past due: what the scheduler chases


@dataclass(frozen=True)
class KindProgress:
    """One kind of assignment's counts."""
    by_status: dict[str, int]  # every assignment once, by its stored status
    overdue: int  # active assignments past their due date (also counted in by_status)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def in_cycle(self) -> int:
        """What "N of M submitted" is out of: a withdrawn assignment was handed on to another."""
        return self.total - self.by_status.get(AssignmentStatus.WITHDRAWN, 0)

    @property
    def submitted(self) -> int:
        return self.by_status.get(AssignmentStatus.SUBMITTED, 0)

    @property
    def unfinished(self) -> int:
        return sum(self.by_status.get(status, 0) for status in ACTIVE_STATUSES)


@dataclass(frozen=True)
class CycleProgress(KindProgress):
    """by_status and overdue count the first audits of the sampled plans, which is the cycle's
    completion; moderation's second audits and re-audits are counted apart, so that neither counts
    a plan twice."""
    moderation: KindProgress
    reaudits: KindProgress
    by_auditor: list[AuditorProgress]


def _counts_by_kind(rows) -> dict[str, dict[str, int]]:
    """(kind, key, count) rows -> kind -> key -> count, with every kind present."""
    counts: dict[str, dict[str, int]] = {kind: {} for kind in AssignmentKind}
    for kind, key, count in rows:
        counts[kind][key] = counts[kind].get(key, 0) + count
    return counts


def cycle_progress(db: Session, cycle: AuditCycle, on: date | None = None) -> CycleProgress:
    on = on or today()
    # One pass gives each kind's statuses and how many of them are overdue.
    counted = db.exec(
        select(Assignment.kind, Assignment.status, func.count(), func.sum(case((_overdue(on), 1), else_=0)))
        .where(Assignment.cycle_id == cycle.id).group_by(Assignment.kind, Assignment.status)
    ).all()
    by_status = _counts_by_kind((kind, status, count) for kind, status, count, _ in counted)
    overdue = {kind: 0 for kind in AssignmentKind}
    for kind, _, _, late in counted:
        overdue[kind] += late

    def of_kind(kind: AssignmentKind) -> KindProgress:
        return KindProgress(by_status[kind], overdue[kind])

    held = col(Assignment.status).in_(HELD_STATUSES)

    def number_of(kind: AssignmentKind, condition):
        return func.sum(case((condition & (Assignment.kind == kind), 1), else_=0))

    rows = db.exec(
        select(User.id, User.display_name, User.email,
               number_of(AssignmentKind.PRIMARY, held),
               number_of(AssignmentKind.PRIMARY, Assignment.status == AssignmentStatus.SUBMITTED),
               number_of(AssignmentKind.MODERATION, held),
               number_of(AssignmentKind.REAUDIT, held),
               func.sum(case((_overdue(on), 1), else_=0)))
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.cycle_id == cycle.id)
        .group_by(User.id, User.display_name, User.email)
        .order_by(User.display_name)
    ).all()
    by_auditor = sorted((AuditorProgress(*row) for row in rows), key=lambda auditor: natural_key(auditor.name))
    first_audits = of_kind(AssignmentKind.PRIMARY)
    return CycleProgress(first_audits.by_status, first_audits.overdue, of_kind(AssignmentKind.MODERATION), of_kind(AssignmentKind.REAUDIT),
                         by_auditor)


def status_report(db: Session, cycle: AuditCycle, on: date | None = None) -> dict:
    """The `cycle status --json` document. Its top level counts the first audits of the sampled
    plans (the cycle's completion); "moderation" and "reaudit" hold the same three counts for
    those kinds. by_status counts each assignment once by stored status, plus "overdue" for the
    active ones past due; by_auditor counts the plans each auditor holds.

    One GROUP BY (kind, auditor, status, overdue) gives it all: the CLI runs it for every open cycle
    in the country, where three queries a cycle cost twice the one (benchmarks: cycle_status)."""
    is_overdue = case((_overdue(on or today()), 1), else_=0).label("is_overdue")
    rows = db.exec(
        select(Assignment.kind, User.email, Assignment.status, is_overdue, func.count())
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.cycle_id == cycle.id)
        .group_by(Assignment.kind, User.email, Assignment.status, is_overdue)
    ).all()
    by_status = _counts_by_kind((kind, status, count) for kind, _email, status, _late, count in rows)
    overdue = {kind: sum(late * count for of_kind, _email, _status, late, count in rows if of_kind == kind) for kind in AssignmentKind}
    # Every auditor with an assignment of the kind is listed, if only with declines.
    by_auditor = _counts_by_kind((kind, email, count if status in HELD_STATUSES else 0) for kind, email, status, _late, count in rows)

    def document(kind: AssignmentKind) -> dict:
        return {
            "assignments": sum(by_status[kind].values()),
            "by_status": {**by_status[kind], OVERDUE: overdue[kind]},
            "by_auditor": dict(sorted(by_auditor[kind].items())),  # the same order on every database
        }

    return {"cycle": str(cycle.id), **document(AssignmentKind.PRIMARY),
            **{kind.value: document(kind) for kind in (AssignmentKind.MODERATION, AssignmentKind.REAUDIT)}}


@dataclass(frozen=True)
class PlanToSend:
    assignment_id: uuid.UUID
    system_id: str
    auditor_name: str
    auditor_email: str
    assigned_at: datetime


def plans_to_send(db: Session, cycle: AuditCycle) -> list[PlanToSend]:
    """The "send the plan" checklist: active assignments whose plan the coordinator has not yet
    emailed to the auditor through the LA's own mailbox."""
    rows = db.exec(
        select(Assignment.id, Plan.system_id, User.display_name, User.email, Assignment.assigned_at)
        .join(Plan, Plan.id == Assignment.plan_id)
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.cycle_id == cycle.id, col(Assignment.status).in_(ACTIVE_STATUSES),
               col(Assignment.plan_sent_at).is_(None))
        .order_by(User.display_name, Plan.system_id)
    ).all()
    return sorted((PlanToSend(*row) for row in rows), key=lambda item: (natural_key(item.auditor_name), natural_key(item.system_id)))


def plans_sent_count(db: Session, cycle: AuditCycle) -> int:
    return db.exec(select(func.count()).select_from(Assignment).where(
        Assignment.cycle_id == cycle.id, col(Assignment.status).in_(ACTIVE_STATUSES), col(Assignment.plan_sent_at).is_not(None)
    )).one()


@dataclass(frozen=True)
class MarginOfError:
    sample_size: int
    population: int
    percentage_points: float
    sizes_for: dict[int, int]  # margin in percentage points -> sample size needed


def margin_for(sample_size: int | None, population: int) -> MarginOfError | None:
    """How precisely a sample of this size measures the share of plans graded Good or better, at
    95% confidence and assuming the worst case (a half); with the sizes needed for ±5 and ±10."""
    if not population or not sample_size or not 1 <= sample_size <= population:
        return None
    return MarginOfError(
        sample_size, population,
        percentage_points=sampling.margin_of_error(sample_size, population) * 100,
        sizes_for={points: sampling.sample_size_for_margin(population, points / 100) for points in (5, 10)},
    )


@dataclass(frozen=True)
class SampleOverview:
    population: int
    target: int | None
    sampled: int
    unallocated: int
    margin: MarginOfError | None


def sample_overview(db: Session, cycle: AuditCycle) -> SampleOverview:
    population = register_size(db, cycle.la_id)
    sampled, unallocated = sample_counts(db, cycle)
    target = target_size(cycle, population)
    return SampleOverview(population, target, sampled, unallocated, margin_for(sampled or target, population))


@dataclass(frozen=True)
class StratumShare:
    label: str
    in_register: int
    drawn: int


def strata_of_last_draw(cycle: AuditCycle) -> list[StratumShare]:
    return [StratumShare(label, *counts) for label, counts in json.loads(cycle.sample_allocation or "{}").items()]


@dataclass(frozen=True)
class SampledPlan:
    entry_id: uuid.UUID
    plan: Plan
    source: str
    reason: str | None
    auditor_name: str | None


def sampled_plans(db: Session, cycle: AuditCycle) -> list[SampledPlan]:
    """The sample in System ID order, with who holds each plan now (if anyone)."""
    holder = (
        select(Assignment.plan_id, User.display_name)
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.PRIMARY, col(Assignment.status).in_(HELD_STATUSES))
        .subquery()
    )
    rows = db.exec(
        select(CyclePlan.id, Plan, CyclePlan.source, CyclePlan.reason, holder.c.display_name)
        .join(Plan, Plan.id == CyclePlan.plan_id)
        .outerjoin(holder, holder.c.plan_id == CyclePlan.plan_id)
        .where(CyclePlan.cycle_id == cycle.id, col(CyclePlan.removed_at).is_(None))
        .order_by(Plan.system_id)
    ).all()
    return [SampledPlan(*row) for row in rows]


@dataclass(frozen=True)
class SampleHistoryEntry:
    at: datetime
    action: str
    system_id: str | None
    reason: str | None
    actor_name: str | None


def sample_history(db: Session, cycle: AuditCycle) -> list[SampleHistoryEntry]:
    rows = db.exec(
        select(SampleChange.at, SampleChange.action, Plan.system_id, SampleChange.reason, User.display_name)
        .outerjoin(Plan, Plan.id == SampleChange.plan_id)
        .outerjoin(User, User.id == SampleChange.actor_id)
        .where(SampleChange.cycle_id == cycle.id)
        .order_by(col(SampleChange.at).desc())
    ).all()
    return [SampleHistoryEntry(*row) for row in rows]


@dataclass(frozen=True)
class PoolMember:
    member_id: uuid.UUID
    name: str
    email: str
    discipline: str
    team: str | None
    capacity: int
    holding: int


def pool(db: Session, cycle: AuditCycle) -> list[PoolMember]:
    load = held_per_auditor(cycle)
    rows = db.exec(
        select(CycleAuditor.id, User.display_name, User.email, User.discipline, User.team, CycleAuditor.capacity,
               func.coalesce(load.c.held, 0))
        .join(User, User.id == CycleAuditor.user_id)
        .outerjoin(load, load.c.auditor_id == User.id)
        .where(CycleAuditor.cycle_id == cycle.id)
        .order_by(User.display_name)
    ).all()
    return sorted((PoolMember(*row) for row in rows), key=lambda member: natural_key(member.name))


def pool_size(db: Session, cycle: AuditCycle) -> int:
    return db.exec(select(func.count()).select_from(CycleAuditor).where(CycleAuditor.cycle_id == cycle.id)).one()


def unallocated_plans(db: Session, cycle: AuditCycle) -> list[Plan]:
    """The coordinator's queue: sampled plans nobody holds, with who declined them and why."""
    ids = unallocated_plan_ids(db, cycle)
    return list(db.exec(select(Plan).where(col(Plan.id).in_(ids)).order_by(Plan.system_id)).all()) if ids else []


def declines(db: Session, cycle: AuditCycle) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """Plan id -> [(auditor name, reason)] for every decline in the cycle."""
    result: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for plan_id, name, reason in db.exec(
        select(Assignment.plan_id, User.display_name, Assignment.decline_reason)
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.status == AssignmentStatus.DECLINED)
    ).all():
        result.setdefault(plan_id, []).append((name, reason or ""))
    return result


# What the list of a cycle's assignments can be narrowed to: a stored status, or overdue.
LIST_FILTERS = (AssignmentStatus.NOT_STARTED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED, OVERDUE,
                AssignmentStatus.DECLINED, AssignmentStatus.WITHDRAWN)


@dataclass(frozen=True)
class AssignmentRow:
    assignment_id: uuid.UUID
    system_id: str
    auditor_id: uuid.UUID
    auditor_name: str
    due_date: date
    status: str
    decline_reason: str | None
    audit_id: uuid.UUID | None  # once the auditor has started it
    overdue: bool

    @property
    def reassignable(self) -> bool:
        return self.status in ACTIVE_STATUSES


def assignments(db: Session, cycle: AuditCycle, status: str | None = None, auditor_id: uuid.UUID | None = None,
                on: date | None = None) -> list[AssignmentRow]:
    """The cycle's assignments by System ID, with their audit if started: every one, or those in
    one of LIST_FILTERS, or one auditor's."""
    on = on or today()
    conditions = [Assignment.cycle_id == cycle.id]
    if status == OVERDUE:
        conditions.append(_overdue(on))
    elif status:
        conditions.append(Assignment.status == status)
    if auditor_id:
        conditions.append(Assignment.auditor_id == auditor_id)
    rows = db.exec(
        select(Assignment.id, Plan.system_id, User.id, User.display_name, Assignment.due_date, Assignment.status,
               Assignment.decline_reason, Audit.id)
        .join(Plan, Plan.id == Assignment.plan_id)
        .join(User, User.id == Assignment.auditor_id)
        .outerjoin(Audit, Audit.assignment_id == Assignment.id)
        .where(*conditions)
        .order_by(Plan.system_id, Assignment.assigned_at)
    ).all()
    return [AssignmentRow(*row, overdue=row[5] in ACTIVE_STATUSES and row[4] < on) for row in rows]


def allocated(db: Session, cycle: AuditCycle, on: date | None = None) -> list[AssignmentRow]:
    """Plans held by an auditor (not declined or replaced), by System ID."""
    return [row for row in assignments(db, cycle, on=on) if row.status in HELD_STATUSES]


# --- What the cycle pages list besides the progress of one cycle ---------------------------------


def cycles_of(db: Session, la_id: uuid.UUID) -> list[AuditCycle]:
    """The LA's cycles, the latest period first."""
    return list(db.exec(select(AuditCycle).where(AuditCycle.la_id == la_id)
                        .order_by(col(AuditCycle.period_start).desc(), AuditCycle.name)).all())


def open_cycles(db: Session, la_id: uuid.UUID) -> list[AuditCycle]:
    cycles = db.exec(select(AuditCycle).where(AuditCycle.la_id == la_id, AuditCycle.status == CycleStatus.OPEN)).all()
    return sorted(cycles, key=lambda cycle: natural_key(cycle.name))


def auditor_of_la(db: Session, la_id: uuid.UUID, user_id: uuid.UUID | None) -> User | None:
    """The user, if there is one by that id in the LA (a list narrowed to one auditor)."""
    user = db.get(User, user_id) if user_id else None
    return user if user is not None and user.la_id == la_id else None


def auditors_to_choose(db: Session, la_id: uuid.UUID) -> list[User]:
    """The LA's active auditors, by name, to add to a cycle's pool."""
    users = db.exec(select(User).where(User.la_id == la_id, User.active)).all()
    return sorted((user for user in users if user.has_role(Role.AUDITOR)), key=lambda user: natural_key(user.display_name))


def last_allocation_run(db: Session, cycle: AuditCycle) -> AllocationRun | None:
    return db.exec(select(AllocationRun).where(AllocationRun.cycle_id == cycle.id)
                   .order_by(col(AllocationRun.run_at).desc()).limit(1)).first()
