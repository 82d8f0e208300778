"""Moderation's tables. The second audit itself is an Assignment (kind moderation) and its Audit, so
chasing, declining, My audits and the audit journey work for it unchanged; these tables hold what
is moderation's own: which plans were picked and why, the moderators, and the agreed grades."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, UniqueConstraint

from ..modelling import LaOwned, actor_field, created_field, parent_field


class PickSource(StrEnum):
    SAMPLE = "sample"  # chosen by the seeded, stratified selection
    MANUAL = "manual"  # added by a coordinator, with a reason


class ModerationCycle(LaOwned, table=True):
    """A cycle's moderation seed, recorded on the first selection so every later one can be reproduced."""

    __tablename__ = "moderation_cycle"

    cycle_id: uuid.UUID = parent_field("audit_cycle", unique=True)
    seed: int
    created_at: datetime = created_field()


class ModerationPick(LaOwned, table=True):
    """A plan whose audit is to be audited a second time, blind. Removal keeps the row and the reason,
    and a removed plan is never picked again by the selection."""

    __tablename__ = "moderation_pick"
    __table_args__ = (UniqueConstraint("cycle_id", "plan_id"),)

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    plan_id: uuid.UUID = parent_field("plan", index=False)
    source: str = Field(default=PickSource.SAMPLE, max_length=10)
    # Why: the selection's own words ("every auditor moderated"), or the coordinator's reason.
    reason: str = Field(max_length=500)
    picked_by_id: uuid.UUID | None = actor_field()
    picked_at: datetime = created_field()
    removed_at: datetime | None = None
    removed_reason: str | None = Field(default=None, max_length=500)
    removed_by_id: uuid.UUID | None = actor_field()


class Moderator(LaOwned, table=True):
    """An auditor marked as a moderator: preferred as a second auditor, and may adjudicate pairs
    they did not audit themselves."""

    __tablename__ = "moderator"

    user_id: uuid.UUID = parent_field("app_user", unique=True)
    added_at: datetime = created_field()


class AgreedGrade(LaOwned, table=True):
    """The grade adjudication agreed for one section (or "overall") of a primary audit. Reports use it
    in place of the original (COALESCE(agreed, original)); the original audits are never changed."""

    __tablename__ = "agreed_grade"
    __table_args__ = (UniqueConstraint("audit_id", "section_code"),)

    audit_id: uuid.UUID = parent_field("audit")
    # A section code (at most 4 characters) or "overall", which needs 7.
    section_code: str = Field(max_length=7, description='a section code, or "overall"')
    grade: str = Field(max_length=24)
    decided_at: datetime = created_field()
    decided_by_id: uuid.UUID | None = actor_field()


class Adjudication(LaOwned, table=True):
    """Append-only log: who agreed the grades of a pair, when, and why (checked by the privacy guard)."""

    __tablename__ = "adjudication"

    audit_id: uuid.UUID = parent_field("audit")
    moderation_audit_id: uuid.UUID = parent_field("audit", index=False)
    decided_by_id: uuid.UUID | None = actor_field()
    decided_at: datetime = created_field()
    rationale: str = Field(max_length=2000)
    # What was agreed, as JSON {section code or "overall": grade}, so the log reads on its own.
    agreed: str = Field(description="JSON {section: grade}")
