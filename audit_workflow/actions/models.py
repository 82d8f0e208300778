"""Actions that follow a weak audit: what is to be done about a plan (or, for a theme, about the
LA's practice), by whom and by when, until it is closed with a note of what was done.

An action keeps its whole story: every change appends an ActionChange row, and its red/amber/green
status at each weekly review is an ActionReview row of its own, so the board can show how the
status moved over time rather than only what it is today.
"""

import uuid
from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from ..modelling import HistoryRow, LaOwned, actor_field, created_field, id_field, parent_field
from .kinds import ActionStatus


class Action(LaOwned, table=True):
    __tablename__ = "action"

    # None for an LA-level action raised from a theme across many plans.
    plan_id: uuid.UUID | None = Field(default=None, foreign_key="plan.id", index=True, ondelete="CASCADE")
    audit_id: uuid.UUID | None = Field(default=None, foreign_key="audit.id", ondelete="SET NULL")
    cycle_id: uuid.UUID | None = Field(default=None, foreign_key="audit_cycle.id", index=True, ondelete="SET NULL")
    action_type: str = Field(max_length=20)
    status: str = Field(default=ActionStatus.PROPOSED, max_length=10, index=True)
    summary: str = Field(max_length=500, description="what is to be done, checked for personal data")
    section_code: str | None = Field(default=None, max_length=4)
    criteria: str = Field(default="[]", description="JSON list of the criterion ids missed")
    # Who does it: a member of staff, or a team by name (the plan's writing team when proposed).
    owner_id: uuid.UUID | None = actor_field()
    owner_team: str | None = Field(default=None, max_length=120)
    due_date: date | None = None
    # What triggered a proposal ("audit:<id>"), so scanning the same audit twice proposes once.
    source_key: str | None = Field(default=None, max_length=80, unique=True)
    reaudit_assignment_id: uuid.UUID | None = Field(default=None, foreign_key="assignment.id", ondelete="SET NULL")
    grade_before: str | None = Field(default=None, max_length=24)
    grade_after: str | None = Field(default=None, max_length=24)
    closing_note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = created_field()
    assigned_at: datetime | None = None
    plan_amended_at: datetime | None = None
    closed_at: datetime | None = None


class ActionChange(HistoryRow, table=True):
    """Append-only history of an action: proposed or created, assigned, edited, amended, closed."""

    __tablename__ = "action_change"

    action_id: uuid.UUID = parent_field("action")
    change: str = Field(max_length=20)
    detail: str | None = Field(default=None, max_length=1000)


class ActionReview(LaOwned, table=True):
    """An action's red/amber/green status at one review date: written once, never overwritten."""

    __tablename__ = "action_review"
    __table_args__ = (UniqueConstraint("action_id", "review_date"),)

    action_id: uuid.UUID = parent_field("action")
    review_date: date = Field(index=True)
    status: str = Field(max_length=10)
    rag: str = Field(max_length=5)


class ActionSettings(SQLModel, table=True):
    """An LA's action settings (defaults apply until a coordinator saves their own)."""

    __tablename__ = "action_settings"

    id: uuid.UUID = id_field()
    la_id: uuid.UUID = Field(foreign_key="local_authority.id", unique=True, ondelete="CASCADE")
    due_working_days: int = 20
    remind_days_before: int = 3
    overdue_interval_days: int = 5
    # A criterion missed in at least this share of a cycle's audited plans is shown as a theme.
    theme_share: float = 0.3
