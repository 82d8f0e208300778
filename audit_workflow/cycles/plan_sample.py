"""The cycle's sample: drawing it from the LA's register, and adding or removing plans by hand
with a reason. Every function works in the caller's transaction and flushes."""

from __future__ import annotations

import json
import secrets
import uuid

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from ..clock import utcnow
from ..plans.models import Plan
from ..plans.reference import key_stage_label, need_label, plan_type_label, setting_type_label
from . import sampling
from .guards import CycleError, checked_reason, ensure_editable
from .lifecycle import split_strata
from .models import HELD_STATUSES, Assignment, AuditCycle, CyclePlan, SampleAction, SampleChange

# How a stratum's values read, e.g. "Key stage 2 · Autistic spectrum disorder".
VALUE_LABELS = {"key_stage": key_stage_label, "primary_need": need_label, "setting_type": setting_type_label,
                "plan_type": plan_type_label}
SEED_LIMIT = 2**31  # recorded in an INTEGER column


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
    ensure_editable(cycle)
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


def add_to_sample(db: Session, cycle: AuditCycle, system_id: str, reason: str, actor_id: uuid.UUID | None) -> CyclePlan:
    ensure_editable(cycle)
    reason = checked_reason(reason)
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
    ensure_editable(cycle)
    reason = checked_reason(reason)
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
