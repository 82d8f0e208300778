"""Audit cycles, one use case per function: settings, opening and closing, the sample, the auditor
pool, allocation, and what follows it (reassignment, declines, "plan sent" ticks).

Every function works in the caller's transaction and flushes; views and commands commit. A closed
cycle is read-only: every change goes through _editable(), which refuses it with a clear message.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from ..auth.models import Discipline, Role, User
from ..auth.service import active_users_with_role
from ..authorities.models import ClosureDay, LocalAuthority
from ..clock import today, utcnow
from ..notifications.catalogue import staff_context
from ..notifications.outbox import queue_message
from ..notifications.privacy import personal_data_in
from ..plans.models import Plan
from ..plans.reference import key_stage_label, need_label, plan_type_label, setting_type_label
from ..workdays import BeyondHolidayData, WorkingCalendar
from . import allocation, sampling
from .transitions import move_assignment
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
    SampleAction,
    SampleChange,
)

# Plan attributes a sample may be stratified by, with the words coordinators see.
STRATA_FIELDS = {
    "key_stage": "Key stage",
    "primary_need": "Primary need",
    "setting_type": "Setting type",
    "plan_type": "Plan type",
}
# How a stratum's values read, e.g. "Key stage 2 · Autistic spectrum disorder".
VALUE_LABELS = {"key_stage": key_stage_label, "primary_need": need_label, "setting_type": setting_type_label,
                "plan_type": plan_type_label}
POOL_CSV_LIMIT = 5000


class CycleError(ValueError):
    """A change the rules refuse; the message is for the coordinator. `field` names the form field
    the message belongs to, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Settings, opening and closing -------------------------------------------------------------


@dataclass
class CycleSettings:
    name: str
    period_start: date
    period_end: date
    due_working_days: int = 15
    sample_size: int | None = None
    sample_share: float | None = None
    strata: tuple[str, ...] = ("key_stage", "primary_need", "setting_type")
    remind_days_before: int = 2
    overdue_interval_days: int = 3
    escalate_after_days: int = 5
    reallocate_after_days: int | None = None
    moderation_share: float = 0.1
    feedback_enabled: bool = False

    @classmethod
    def of(cls, cycle: AuditCycle) -> "CycleSettings":
        values = {name: getattr(cycle, name) for name in cls.__dataclass_fields__ if name != "strata"}
        return cls(strata=tuple(split_strata(cycle.strata)), **values)


# More plans than any LA holds (England has about 640,000 in all); keeps numbers within the database's integers.
MAX_SAMPLE_PLANS = 1_000_000
SEED_LIMIT = 2**31  # recorded in an INTEGER column


def parse_target(text: str) -> tuple[int | None, float | None]:
    """A target sample as coordinators write it: "60" plans, or "10%" of the register."""
    cleaned = (text or "").strip().replace(" ", "")
    if not cleaned:
        return None, None
    if cleaned.endswith("%"):
        try:
            percent = float(cleaned[:-1])
        except ValueError:
            raise CycleError("Enter the target as a number of plans, like 60, or a percentage, like 10%", "target") from None
        return None, percent / 100
    if not cleaned.isdigit():
        raise CycleError("Enter the target as a number of plans, like 60, or a percentage, like 10%", "target")
    return int(cleaned), None


def describe_target(cycle: AuditCycle) -> str:
    if cycle.sample_size is not None:
        return f"{cycle.sample_size} plans"
    if cycle.sample_share is not None:
        return f"{cycle.sample_share * 100:g}% of the plans"
    return "Not set"


def split_strata(strata: str | None) -> list[str]:
    return [name for name in (strata or "").split(",") if name]


def _check(settings: CycleSettings) -> None:
    if not settings.name.strip():
        raise CycleError("Enter a name for the cycle", "name")
    if len(settings.name.strip()) > 120:
        raise CycleError("The name must be 120 characters or fewer", "name")
    if settings.period_end < settings.period_start:
        raise CycleError("The end of the period must be the same as or after its start", "period_end")
    if settings.sample_size is not None and settings.sample_share is not None:
        raise CycleError("Give the target as a number of plans or a percentage, not both", "target")
    if settings.sample_size is not None and not 1 <= settings.sample_size <= MAX_SAMPLE_PLANS:
        raise CycleError(f"The target must be from 1 to {MAX_SAMPLE_PLANS:,} plans", "target")
    if settings.sample_share is not None and not 0 < settings.sample_share <= 1:
        raise CycleError("The target percentage must be more than 0% and no more than 100%", "target")
    unknown = set(settings.strata) - set(STRATA_FIELDS)
    if unknown:
        raise CycleError(f"Stratify by {', '.join(STRATA_FIELDS)} only; not {', '.join(sorted(unknown))}", "strata")
    if not 1 <= settings.due_working_days <= 100:
        raise CycleError("Audits must be due between 1 and 100 working days after allocation", "due_working_days")
    for name, label in (("remind_days_before", "Remind auditors"), ("overdue_interval_days", "Chase overdue audits every"),
                        ("escalate_after_days", "Escalate after")):
        if not 0 <= getattr(settings, name) <= 100:
            raise CycleError(f"{label}: enter a number of working days from 0 to 100", name)
    if settings.overdue_interval_days < 1:
        raise CycleError("Chase overdue audits at least every 1 working day", "overdue_interval_days")
    if settings.reallocate_after_days is not None and not 1 <= settings.reallocate_after_days <= 100:
        raise CycleError("Reallocate after: enter a number of working days from 1 to 100, or leave it empty", "reallocate_after_days")
    if not 0 <= settings.moderation_share <= 1:
        raise CycleError("The moderation share must be from 0% to 100%", "moderation_share")


def _apply(cycle: AuditCycle, settings: CycleSettings) -> None:
    _check(settings)
    for name in CycleSettings.__dataclass_fields__:
        setattr(cycle, name, getattr(settings, name))
    cycle.name = settings.name.strip()
    cycle.strata = ",".join(name for name in STRATA_FIELDS if name in settings.strata)


def create_cycle(db: Session, la_id: uuid.UUID, settings: CycleSettings) -> AuditCycle:
    cycle = AuditCycle(la_id=la_id, name=settings.name, period_start=settings.period_start, period_end=settings.period_end)
    _apply(cycle, settings)
    db.add(cycle)
    db.flush()
    return cycle


def _editable(cycle: AuditCycle) -> None:
    if cycle.status == CycleStatus.CLOSED:
        raise CycleError(f"{cycle.name} is closed, so it can no longer be changed")


def update_cycle(db: Session, cycle: AuditCycle, settings: CycleSettings) -> None:
    _editable(cycle)
    _apply(cycle, settings)
    db.add(cycle)
    db.flush()


def open_cycle(db: Session, cycle: AuditCycle) -> None:
    _editable(cycle)
    if cycle.status == CycleStatus.OPEN:
        raise CycleError(f"{cycle.name} is already open")
    cycle.status = CycleStatus.OPEN
    cycle.opened_at = utcnow()
    db.add(cycle)
    db.flush()


def close_cycle(db: Session, cycle: AuditCycle) -> None:
    _editable(cycle)
    cycle.status = CycleStatus.CLOSED
    cycle.closed_at = utcnow()
    db.add(cycle)
    db.flush()


def get_cycle(db: Session, cycle_id: str | uuid.UUID) -> AuditCycle:
    """For commands, which name a cycle by its id (views use access.load_owned)."""
    try:
        key = cycle_id if isinstance(cycle_id, uuid.UUID) else uuid.UUID(str(cycle_id))
    except ValueError:
        raise CycleError(f"{cycle_id!r} is not a cycle id (it looks like 2f1c9e4a-...)") from None
    cycle = db.get(AuditCycle, key)
    if cycle is None:
        raise CycleError(f"No cycle with id {cycle_id}")
    return cycle


# --- The sample --------------------------------------------------------------------------------


def register_size(db: Session, la_id: uuid.UUID) -> int:
    return db.exec(select(func.count()).select_from(Plan).where(Plan.la_id == la_id)).one()


def target_size(cycle: AuditCycle, population: int) -> int | None:
    """The cycle's target in plans; a share is rounded up, so the sample is never below it."""
    if cycle.sample_size is not None:
        return cycle.sample_size
    if cycle.sample_share is not None:
        return sampling.sample_size_for_share(population, cycle.sample_share)
    return None


def has_assignments(db: Session, cycle: AuditCycle) -> bool:
    return db.exec(select(Assignment.id).where(Assignment.cycle_id == cycle.id).limit(1)).first() is not None


def stratum_label(values: tuple[str, ...], strata: list[str]) -> str:
    return " · ".join(VALUE_LABELS[name](value) for name, value in zip(strata, values)) or "All plans"


def draw_sample(db: Session, cycle: AuditCycle, size: int | None = None, seed: int | None = None,
                actor_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Draw (or redraw) the cycle's sample from the LA's register, stratified by the cycle's fields.

    The same register, size, strata and seed always give the same sample; the seed is recorded on
    the cycle so a draw can be reproduced. Drawing again replaces the sample, including plans added
    by hand, and is refused once any plan has been allocated.
    """
    _editable(cycle)
    if has_assignments(db, cycle):
        raise CycleError("The sample cannot be drawn again because plans have already been allocated to auditors. Add or remove plans by hand instead.")
    strata = split_strata(cycle.strata)
    rows = db.exec(select(Plan.id, *(getattr(Plan, name) for name in strata)).where(Plan.la_id == cycle.la_id)).all()
    if not rows:
        raise CycleError("There are no plans to sample. Import the plan register first.")
    size = size if size is not None else target_size(cycle, len(rows))
    if size is None:
        raise CycleError("Enter how many plans to sample, or set the cycle's target", "size")
    if not 1 <= size <= len(rows):
        raise CycleError(f"The sample must be between 1 and {len(rows)} plans (the number in the register)", "size")
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    elif not 0 <= seed < SEED_LIMIT:
        raise CycleError(f"The seed must be a whole number from 0 to {SEED_LIMIT - 1}", "seed")
    population = [sampling.SampleUnit(row[0], dict(zip(strata, row[1:]))) for row in rows]
    draw = sampling.stratified_sample(population, size, strata, seed)

    now = utcnow()
    db.exec(delete(CyclePlan).where(CyclePlan.cycle_id == cycle.id))
    db.execute(
        CyclePlan.__table__.insert(),
        [{"id": uuid.uuid4(), "la_id": cycle.la_id, "cycle_id": cycle.id, "plan_id": plan_id, "source": "sample",
          "added_at": now} for plan_id in draw.ids],
    )
    cycle.sample_seed = draw.seed
    cycle.sample_drawn_at = now
    cycle.sample_strata = cycle.strata
    cycle.sample_allocation = json.dumps(
        {stratum_label(key, strata): [in_register, drawn] for key, (in_register, drawn) in draw.allocation.items()},
        ensure_ascii=False,
    )
    db.add(cycle)
    db.add(SampleChange(la_id=cycle.la_id, cycle_id=cycle.id, action=SampleAction.DRAWN, actor_id=actor_id,
                        reason=f"Drew {len(draw.ids)} of {len(rows)} plans with seed {draw.seed}"))
    db.flush()
    return list(draw.ids)


def _reason(reason: str) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise CycleError("Enter a reason", "reason")
    if len(cleaned) > 500:
        raise CycleError("The reason must be 500 characters or fewer", "reason")
    found = personal_data_in(cleaned)
    if found:
        raise CycleError(f"Remove {' and '.join(found)} from the reason. This service must not hold a child's "
                         "personal details.", "reason")
    return cleaned


def add_to_sample(db: Session, cycle: AuditCycle, system_id: str, reason: str, actor_id: uuid.UUID | None) -> CyclePlan:
    _editable(cycle)
    reason = _reason(reason)
    plan = db.exec(select(Plan).where(Plan.la_id == cycle.la_id, Plan.system_id == system_id.strip())).first()
    if plan is None:
        raise CycleError(f"There is no plan with System ID {system_id.strip()} in the register", "system_id")
    entry = db.exec(select(CyclePlan).where(CyclePlan.cycle_id == cycle.id, CyclePlan.plan_id == plan.id)).first()
    if entry is not None and entry.removed_at is None:
        raise CycleError(f"{plan.system_id} is already in the sample", "system_id")
    if entry is None:
        entry = CyclePlan(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan.id)
    # A plan added back after removal keeps its row (one per plan); the log keeps both reasons.
    entry.source, entry.reason, entry.added_at = "manual", reason, utcnow()
    entry.removed_at = entry.removed_reason = None
    db.add(entry)
    db.add(SampleChange(la_id=cycle.la_id, cycle_id=cycle.id, action=SampleAction.ADDED, plan_id=plan.id,
                        reason=reason, actor_id=actor_id))
    db.flush()
    return entry


def remove_from_sample(db: Session, entry: CyclePlan, reason: str, actor_id: uuid.UUID | None) -> None:
    cycle = db.get(AuditCycle, entry.cycle_id)
    _editable(cycle)
    reason = _reason(reason)
    if entry.removed_at is not None:
        raise CycleError("That plan has already been removed from the sample")
    held = db.exec(select(Assignment.id).where(
        Assignment.cycle_id == cycle.id, Assignment.plan_id == entry.plan_id, col(Assignment.status).in_(HELD_STATUSES)
    ).limit(1)).first()
    if held is not None:
        raise CycleError("That plan is allocated to an auditor. Reassign it, or let the audit finish, instead of removing it.")
    entry.removed_at, entry.removed_reason = utcnow(), reason
    db.add(entry)
    db.add(SampleChange(la_id=cycle.la_id, cycle_id=cycle.id, action=SampleAction.REMOVED, plan_id=entry.plan_id,
                        reason=reason, actor_id=actor_id))
    db.flush()


# --- The auditor pool --------------------------------------------------------------------------


def _auditor_in_la(db: Session, la_id: uuid.UUID, email: str) -> User:
    user = db.exec(select(User).where(User.email == email.strip().lower(), User.la_id == la_id)).first()
    if user is None or not user.active or not user.has_role(Role.AUDITOR):
        raise CycleError(f"{email.strip()} is not an active auditor in this LA", "email")
    return user


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= 500:
        raise CycleError("Capacity must be a whole number of plans from 1 to 500", "capacity")


def add_auditor(db: Session, cycle: AuditCycle, user: User, capacity: int) -> CycleAuditor:
    """Put an auditor in the pool, or change their capacity if they are in it already."""
    _editable(cycle)
    _check_capacity(capacity)
    if user.la_id != cycle.la_id or not user.active or not user.has_role(Role.AUDITOR):
        raise CycleError(f"{user.email} is not an active auditor in this LA", "auditor")
    member = db.exec(select(CycleAuditor).where(CycleAuditor.cycle_id == cycle.id, CycleAuditor.user_id == user.id)).first()
    member = member or CycleAuditor(la_id=cycle.la_id, cycle_id=cycle.id, user_id=user.id)
    member.capacity = capacity
    db.add(member)
    db.flush()
    return member


def add_auditors_by_email(db: Session, cycle: AuditCycle, emails: list[str], capacity: int) -> list[CycleAuditor]:
    """For the CLI: the auditors named, or every active auditor in the LA when none are."""
    if emails:
        users = [_auditor_in_la(db, cycle.la_id, email) for email in emails]
    else:
        users = [user for user in db.exec(select(User).where(User.la_id == cycle.la_id, User.active)).all()
                 if user.has_role(Role.AUDITOR)]
        if not users:
            raise CycleError("There are no active auditors in this LA; add some with `audit-workflow create-user`")
    return [add_auditor(db, cycle, user, capacity) for user in users]


@dataclass
class PoolImportProblem:
    row: int
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}"


class PoolImportRefused(CycleError):
    def __init__(self, problems: list[PoolImportProblem]):
        super().__init__(f"The file has {len(problems)} problem{'s' if len(problems) != 1 else ''}; nobody was added", "file")
        self.problems = problems


def _check_against_record(user: User, discipline: str, team: str) -> None:
    """A pool file may give each auditor's discipline and team, as coordinators' own lists do.
    Allocation uses the service's record of them (a wrong team could send a plan to its own
    writers), so a file that disagrees with the record is refused, never believed or ignored."""
    fix = "correct the file, or ask an administrator to change their record"
    if discipline:
        key = "_".join(discipline.casefold().replace("-", " ").split())
        if key not in {choice.value for choice in Discipline}:
            raise CycleError(f"discipline must be one of {', '.join(choice.replace('_', ' ') for choice in Discipline)}")
        if key != user.discipline:
            raise CycleError(f"the file gives {user.email}'s discipline as {discipline}, but the service has "
                             f"{user.discipline.replace('_', ' ')}; {fix}")
    if team and not allocation.same_team(team, user.team):
        held = f'"{user.team}"' if user.team else "no team"
        raise CycleError(f'the file gives {user.email}\'s team as "{team}", but the service has {held}; {fix}')


def import_pool(db: Session, cycle: AuditCycle, data: bytes) -> list[CycleAuditor]:
    """A pool from a CSV with the columns email and capacity, and optionally discipline and team
    (checked against each auditor's record); all rows land, or none."""
    _editable(cycle)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PoolImportRefused([PoolImportProblem(1, "the file is not a CSV saved as UTF-8")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [name for name in ("email", "capacity") if name not in headers]
    if missing:
        raise PoolImportRefused([PoolImportProblem(1, f"the header row needs the column{'s' if len(missing) > 1 else ''} {' and '.join(missing)}")])
    problems: list[PoolImportProblem] = []
    wanted: dict[uuid.UUID, tuple[User, int]] = {}
    try:
        for number, record in enumerate(reader, start=2):
            if number > POOL_CSV_LIMIT:
                raise PoolImportRefused([PoolImportProblem(number, f"the file has more than {POOL_CSV_LIMIT} rows")])
            email, capacity, discipline, team = (
                (record.get(headers[name]) or "").strip() if name in headers else ""
                for name in ("email", "capacity", "discipline", "team"))
            if not email and not capacity:
                continue
            try:
                if not capacity.isdigit():
                    raise CycleError("capacity must be a whole number of plans")
                _check_capacity(int(capacity))
                user = _auditor_in_la(db, cycle.la_id, email)
                _check_against_record(user, discipline, team)
            except CycleError as error:
                problems.append(PoolImportProblem(number, str(error)))
                continue
            wanted[user.id] = (user, int(capacity))
    except csv.Error as error:
        raise PoolImportRefused([PoolImportProblem(reader.line_num, f"the file is not a readable CSV ({error})")]) from None
    if problems:
        raise PoolImportRefused(problems)
    if not wanted:
        raise PoolImportRefused([PoolImportProblem(2, "the file has no auditors in it")])
    return [add_auditor(db, cycle, user, capacity) for user, capacity in wanted.values()]


def remove_auditor(db: Session, member: CycleAuditor) -> None:
    """Take an auditor out of the pool; plans they hold stay with them until reassigned."""
    _editable(db.get(AuditCycle, member.cycle_id))
    db.delete(member)
    db.flush()


# --- Allocation --------------------------------------------------------------------------------


def unallocated_plan_ids(db: Session, cycle: AuditCycle) -> list[uuid.UUID]:
    """Sampled plans with no primary assignment still held: never allocated, declined, or withdrawn."""
    held = select(Assignment.plan_id).where(
        Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.PRIMARY, col(Assignment.status).in_(HELD_STATUSES)
    )
    return list(db.exec(
        select(CyclePlan.plan_id).where(CyclePlan.cycle_id == cycle.id, col(CyclePlan.removed_at).is_(None),
                                        col(CyclePlan.plan_id).not_in(held))
    ).all())


def due_date_for(db: Session, cycle: AuditCycle, start: date | None = None) -> date:
    closures = db.exec(select(ClosureDay.day).where(ClosureDay.la_id == cycle.la_id)).all()
    try:
        return WorkingCalendar(closures).add_working_days(start or today(), cycle.due_working_days)
    except BeyondHolidayData:
        raise CycleError("The due date falls beyond the bank holidays this service knows about; ask your administrator to update them") from None


def set_discipline_mix(db: Session, cycle: AuditCycle, percentages: dict[str, int | None]) -> None:
    """The share of plans each discipline should audit, in whole per cent (empty or 0 for none).
    All empty means no mix: allocation then balances by capacity alone."""
    _editable(cycle)
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


def allocate_cycle(db: Session, cycle: AuditCycle, actor: User | None) -> AllocationOutcome:
    """Allocate every unallocated sampled plan that the pool has room for.

    Never to an auditor from the plan's writing team, never back to an auditor who declined it, and
    within each auditor's remaining capacity. Each auditor with new plans gets one email listing them.
    Allocating a draft cycle opens it. Running it again only picks up what is still unallocated.
    """
    _editable(cycle)
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
    _queue_assignment_emails(db, cycle, run, actor, assignments, plans)
    return AllocationOutcome(run, assignments, [(plans[plan_id].system_id, reason) for plan_id, reason in result.unallocated],
                             list(result.explanation))


def _email_plan(plan: Plan, due: date) -> dict:
    """A plan as the assignment emails describe it: what the auditor needs to match the file the
    coordinator sends them, and nothing that identifies the child."""
    return {"system_id": plan.system_id, "key_stage": key_stage_label(plan.key_stage), "setting_name": plan.setting_name,
            "setting_type": setting_type_label(plan.setting_type), "primary_need": plan.primary_need, "due_date": due}


def _email_context(db: Session, la_id: uuid.UUID, recipient_name: str, **fields) -> dict:
    return staff_context(current_app.config, db.get(LocalAuthority, la_id), recipient_name, **fields)


def _coordinator_name(db: Session, la_id: uuid.UUID, actor: User | None) -> str:
    # Commands run without a person; the email then names the LA's team instead.
    return actor.display_name if actor else f"The {db.get(LocalAuthority, la_id).name} SEND quality assurance team"


def _queue_assignment_emails(db: Session, cycle: AuditCycle, run: AllocationRun, actor: User | None,
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
            context=_email_context(
                db, cycle.la_id, auditor.display_name, cycle={"name": cycle.name}, coordinator=coordinator,
                assignments=[_email_plan(plans[item.plan_id], item.due_date) for item in theirs],
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


def reassign(db: Session, assignment: Assignment, new_auditor_id: uuid.UUID, actor: User | None) -> Assignment:
    """Give an allocated plan to another auditor: the old assignment is withdrawn (kept for history)."""
    cycle = db.get(AuditCycle, assignment.cycle_id)
    _editable(cycle)
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
        context=_email_context(
            db, cycle.la_id, new_auditor.display_name, cycle={"name": cycle.name},
            coordinator={"display_name": _coordinator_name(db, cycle.la_id, actor)},
            assignments=[_email_plan(db.get(Plan, assignment.plan_id), replacement.due_date)],
        ),
    )
    previous_auditor = db.get(User, assignment.auditor_id)
    if previous_auditor.active:  # so they stop work on it (and delete their copy of the plan)
        queue_message(
            db, kind="withdrawal", to=[previous_auditor.email], la_id=cycle.la_id, assignment_id=assignment.id,
            key=f"assignment:{assignment.id}:withdrawn",
            context=_email_context(
                db, cycle.la_id, previous_auditor.display_name, cycle={"name": cycle.name},
                assignment={"system_id": db.get(Plan, assignment.plan_id).system_id, "due_date": assignment.due_date},
            ),
        )
    return replacement


def decline(db: Session, assignment: Assignment, reason: str) -> None:
    """An auditor hands a plan back: it returns to the unallocated queue, never to them again."""
    cycle = db.get(AuditCycle, assignment.cycle_id)
    _editable(cycle)
    if assignment.status != AssignmentStatus.NOT_STARTED:
        raise CycleError("You can only decline an audit you have not started. Ask your coordinator to reassign it.")
    reason = _reason(reason)
    move_assignment(db, assignment, [AssignmentStatus.NOT_STARTED], AssignmentStatus.DECLINED,
                    declined_at=utcnow(), decline_reason=reason)
    coordinators = active_users_with_role(db, cycle.la_id, Role.COORDINATOR)
    if not coordinators:
        return  # nobody to tell by email; the plan shows in the unallocated queue regardless
    queue_message(
        db, kind="decline_receipt", to=[user.email for user in coordinators], la_id=cycle.la_id, assignment_id=assignment.id,
        key=f"assignment:{assignment.id}:declined",
        context=_email_context(
            db, cycle.la_id, coordinators[0].display_name if len(coordinators) == 1 else "coordinators",
            auditor={"display_name": db.get(User, assignment.auditor_id).display_name},
            assignment={"system_id": db.get(Plan, assignment.plan_id).system_id, "due_date": assignment.due_date},
            decline={"reason": reason},
        ),
    )


def mark_plan_sent(db: Session, assignment: Assignment, actor: User) -> None:
    """The coordinator ticks that they emailed the plan to the auditor from the LA's own mailbox."""
    _editable(db.get(AuditCycle, assignment.cycle_id))
    if assignment.status not in HELD_STATUSES:
        raise CycleError("That plan is no longer with this auditor, so there is nothing to send")
    if assignment.plan_sent_at is None:
        assignment.plan_sent_at, assignment.plan_sent_by_id = utcnow(), actor.id
        db.add(assignment)
        db.flush()
