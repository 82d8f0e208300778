"""A cycle's settings, and opening and closing it. Every function works in the caller's
transaction and flushes; views and commands commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from ..clock import utcnow
from .guards import CycleError, ensure_editable
from .models import AuditCycle, CycleStatus

# Plan attributes a sample may be stratified by, with the words coordinators see.
STRATA_FIELDS = {
    "key_stage": "Key stage",
    "primary_need": "Primary need",
    "setting_type": "Setting type",
    "plan_type": "Plan type",
}


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


def update_cycle(db: Session, cycle: AuditCycle, settings: CycleSettings) -> None:
    ensure_editable(cycle)
    _apply(cycle, settings)
    db.add(cycle)
    db.flush()


def open_cycle(db: Session, cycle: AuditCycle) -> None:
    ensure_editable(cycle)
    if cycle.status == CycleStatus.OPEN:
        raise CycleError(f"{cycle.name} is already open")
    cycle.status = CycleStatus.OPEN
    cycle.opened_at = utcnow()
    db.add(cycle)
    db.flush()


def close_cycle(db: Session, cycle: AuditCycle) -> None:
    ensure_editable(cycle)
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
