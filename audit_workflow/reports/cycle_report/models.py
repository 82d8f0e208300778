import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, Index, UniqueConstraint

from ...modelling import LaOwned, actor_field, created_field, parent_field


class CycleReportText(LaOwned, table=True):
    """What the coordinator wrote for a cycle's report: a recommendation per focus area (health,
    social care) and each topic of the context page for Ofsted and CQC. Checked for a child's
    personal details before it is stored."""

    __tablename__ = "cycle_report_text"
    __table_args__ = (UniqueConstraint("cycle_id", "topic"),)

    cycle_id: uuid.UUID = parent_field("audit_cycle", index=False)
    topic: str = Field(max_length=30, description="a focus area key or a context topic key (parts.py)")
    text: str = Field(default="", max_length=4000)
    updated_by_id: uuid.UUID | None = actor_field()
    updated_at: datetime = created_field()


class ReportJobStatus(StrEnum):
    REQUESTED = "requested"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CycleReportJob(LaOwned, table=True):
    """One request for a cycle report file, made in the background for big cycles: the scheduler's
    job claims requested rows, records progress, and keeps the finished file here for download."""

    __tablename__ = "cycle_report_job"
    __table_args__ = (Index("ix_cycle_report_job_status_requested", "status", "requested_at"),)

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    format: str = Field(max_length=4)
    status: str = Field(default=ReportJobStatus.REQUESTED, max_length=10)
    progress: int = 0  # percent
    requested_by_id: uuid.UUID | None = actor_field()
    requested_at: datetime = created_field()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = Field(default=None, max_length=500)
    filename: str | None = Field(default=None, max_length=200)
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
