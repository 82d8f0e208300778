"""The scheduler's own state: who may run the jobs (the lease) and how each job last went.

Both tables are keyed by a fixed name rather than a random id: there is one lease per name and one
row per job, and the lease's conditional UPDATE / INSERT needs a key every process agrees on.
"""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class SchedulerLease(SQLModel, table=True):
    """Only the process named in `holder`, while `expires_at` is in the future, runs the jobs."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=200, description="hostname:pid:random of the holding process")
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(SQLModel, table=True):
    """The latest run of one job, for the admin page and /healthz."""

    __tablename__ = "scheduler_job_run"

    job_id: str = Field(primary_key=True, max_length=40)
    status: str = Field(max_length=10)
    ran_by: str = Field(max_length=200, description="the lease holder, or run-job:<host>:<pid>")
    started_at: datetime
    finished_at: datetime | None = None
    last_succeeded_at: datetime | None = None
    summary: str | None = Field(default=None, max_length=500)
    # Something an administrator must act on even though the run succeeded (holiday data ending).
    warning: str | None = Field(default=None, max_length=500)
    error: str | None = Field(default=None, max_length=1000)
