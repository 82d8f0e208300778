import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, Index, SQLModel, UniqueConstraint

from ...modelling import created_field, id_field, la_field


class CycleReportText(SQLModel, table=True):
    """What the coordinator wrote for a cycle's report: a recommendation per focus area (health,
    social care) and each topic of the context page for Ofsted and CQC. Checked for a child's
    personal details before it is stored."""

    __tablename__ = "cycle_report_text"
    __table_args__ = (UniqueConstraint("cycle_id", "topic"),)

    id: uuid.UUID = id_field()
    la_id: uuid.UUID = la_field()
    cycle_id: uuid.UUID = Field(foreign_key="audit_cycle.id", ondelete="CASCADE")
    topic: str = Field(max_length=30, description="a focus area key or a context topic key (parts.py)")
    text: str = Field(default="", max_length=4000)
    updated_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    updated_at: datetime = created_field()


class ReportJobStatus(StrEnum):
    REQUESTED = "requested"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CycleReportJob(SQLModel, table=True):
    """One request for a cycle report file, made in the background for big cycles: the scheduler's
    job claims requested rows, records progress, and keeps the finished file here for download."""

    __tablename__ = "cycle_report_job"
    __table_args__ = (Index("ix_cycle_report_job_status_requested", "status", "requested_at"),)

    id: uuid.UUID = id_field()
    la_id: uuid.UUID = la_field()
    cycle_id: uuid.UUID = Field(foreign_key="audit_cycle.id", index=True, ondelete="CASCADE")
    format: str = Field(max_length=4)
    status: str = Field(default=ReportJobStatus.REQUESTED, max_length=10)
    progress: int = 0  # percent
    requested_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    requested_at: datetime = created_field()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = Field(default=None, max_length=500)
    filename: str | None = Field(default=None, max_length=200)
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
