import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, Index, UniqueConstraint

from ..modelling import HistoryRow, LaOwned, actor_field, created_field, parent_field


class CycleStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class AssignmentKind(StrEnum):
    PRIMARY = "primary"
    MODERATION = "moderation"
    REAUDIT = "reaudit"  # of an amended plan, scheduled by an action (actions area)


class AssignmentStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    DECLINED = "declined"
    # Replaced by another assignment of the same plan (reassignment); kept for history.
    WITHDRAWN = "withdrawn"


# Statuses in which an auditor still owes work: the scheduler chases only these.
ACTIVE_STATUSES = (AssignmentStatus.NOT_STARTED, AssignmentStatus.IN_PROGRESS)
# An auditor holds the plan (it counts against their capacity): not declined, not handed to someone else.
HELD_STATUSES = (*ACTIVE_STATUSES, AssignmentStatus.SUBMITTED)


class AuditCycle(LaOwned, table=True):
    __tablename__ = "audit_cycle"

    name: str = Field(max_length=120)
    period_start: date
    period_end: date
    status: str = Field(default=CycleStatus.DRAFT, max_length=10, index=True)
    # Target sample: a number of plans, or a share of the register (one of the two).
    sample_size: int | None = None
    sample_share: float | None = None
    strata: str = Field(default="key_stage,primary_need,setting_type", max_length=200)
    sample_seed: int | None = None
    # The last draw: when, by which fields, and for each stratum its plans in the register and drawn.
    sample_drawn_at: datetime | None = None
    sample_strata: str | None = Field(default=None, max_length=200)
    sample_allocation: str | None = Field(default=None, description="JSON {stratum label: [in register, drawn]}")
    due_working_days: int = 15
    # Reminder policy, in working days.
    remind_days_before: int = 2
    overdue_interval_days: int = 3
    escalate_after_days: int = 5
    reallocate_after_days: int | None = None
    discipline_mix: str | None = Field(default=None, max_length=200, description="JSON {discipline: share}")
    moderation_share: float = 0.1
    feedback_enabled: bool = False
    feedback_settings: str | None = Field(default=None, description="JSON, filled by the feedback module")
    framework_version: str | None = Field(default=None, max_length=40)
    created_at: datetime = created_field()
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class CycleAuditor(LaOwned, table=True):
    """An auditor in a cycle's pool, with how many plans they can take this cycle."""

    __tablename__ = "cycle_auditor"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id"),)

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    user_id: uuid.UUID = parent_field("app_user", index=False)
    capacity: int = 5


class CyclePlan(LaOwned, table=True):
    """A plan in a cycle's sample, drawn or added by hand; removal keeps the row and the reason."""

    __tablename__ = "cycle_plan"
    __table_args__ = (UniqueConstraint("cycle_id", "plan_id"),)

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    plan_id: uuid.UUID = parent_field("plan", index=False)
    source: str = Field(default="sample", max_length=10, description="sample or manual")
    reason: str | None = Field(default=None, max_length=500)
    added_at: datetime = created_field()
    removed_at: datetime | None = None
    removed_reason: str | None = Field(default=None, max_length=500)


class Assignment(LaOwned, table=True):
    __tablename__ = "assignment"
    __table_args__ = (
        # The scheduler's chase scan: active assignments by due date.
        Index("ix_assignment_status_due", "status", "due_date"),
        # A cycle's progress and the chase scan of open cycles: by cycle, status and due date.
        Index("ix_assignment_cycle_status_due", "cycle_id", "status", "due_date"),
        Index("ix_assignment_auditor_status", "auditor_id", "status"),
    )

    cycle_id: uuid.UUID = parent_field("audit_cycle", index=False)
    plan_id: uuid.UUID = parent_field("plan")
    auditor_id: uuid.UUID = parent_field("app_user", index=False)
    kind: str = Field(default=AssignmentKind.PRIMARY, max_length=12)
    status: str = Field(default=AssignmentStatus.NOT_STARTED, max_length=12)
    due_date: date
    assigned_at: datetime = created_field()
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: str | None = Field(default=None, max_length=500)
    # The "send the plan" checklist: the coordinator ticks when they emailed the plan themselves.
    plan_sent_at: datetime | None = None
    plan_sent_by_id: uuid.UUID | None = actor_field()


class SampleAction(StrEnum):
    DRAWN = "drawn"
    ADDED = "added"
    REMOVED = "removed"


class SampleChange(HistoryRow, table=True):
    """Append-only history of a cycle's sample: every draw, and every plan added or removed by hand
    with the coordinator's reason, so "why was this plan (not) audited?" always has an answer."""

    __tablename__ = "sample_change"

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    action: str = Field(max_length=10)
    plan_id: uuid.UUID | None = Field(default=None, foreign_key="plan.id", ondelete="SET NULL")
    reason: str | None = Field(default=None, max_length=500)


class AllocationRun(LaOwned, table=True):
    """One press of "Allocate": what it did and why, shown to the coordinator afterwards. Its id
    is part of each assignment email's idempotency key."""

    __tablename__ = "allocation_run"

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    run_by_id: uuid.UUID | None = actor_field()
    run_at: datetime = created_field()
    assigned: int = 0
    unallocated: int = 0
    explanation: str = Field(default="[]", description="JSON list of sentences")
