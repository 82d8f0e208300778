import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, UniqueConstraint

from ..modelling import HistoryRow, LaOwned, created_field, parent_field


class AuditStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Audit(LaOwned, table=True):
    __tablename__ = "audit"

    assignment_id: uuid.UUID = parent_field("assignment", unique=True)
    framework_version_id: uuid.UUID = Field(foreign_key="framework_version.id")
    status: str = Field(default=AuditStatus.DRAFT, max_length=10)
    current_section: str | None = Field(default=None, max_length=4)
    overall_grade: str | None = Field(default=None, max_length=24)
    overall_explanation: str | None = None
    score: float | None = None
    started_at: datetime = created_field()
    updated_at: datetime = created_field()
    submitted_at: datetime | None = None


class SectionJudgement(LaOwned, table=True):
    __tablename__ = "section_judgement"
    __table_args__ = (UniqueConstraint("audit_id", "section_code"),)

    audit_id: uuid.UUID = parent_field("audit")
    section_code: str = Field(max_length=4)
    ticked: str = Field(default="[]", description="JSON list of criterion ids")
    comment: str = Field(default="", max_length=4000, description="the auditor's remarks, checked for personal data")
    grade: str | None = Field(default=None, max_length=24)
    explanation: str | None = None
    updated_at: datetime = created_field()


class AuditAction(StrEnum):
    STARTED = "started"
    SAVED = "saved"
    SUBMITTED = "submitted"
    REOPENED = "reopened"


class AuditHistory(HistoryRow, table=True):
    """Append-only: started, each section saved, submitted, reopened (with the coordinator's reason)."""

    __tablename__ = "audit_history"

    audit_id: uuid.UUID = parent_field("audit")
    action: str = Field(max_length=20)
    section_code: str | None = Field(default=None, max_length=4)
    reason: str | None = Field(default=None, max_length=1000)
