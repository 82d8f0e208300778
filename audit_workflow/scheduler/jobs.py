"""The table of scheduled jobs, and running one of them with a record of how it went.

Each area owns its jobs: a plain function `<name>_job(engine, config, now=None) -> JobOutcome` in
its own module that scans the database for due work, so the scheduler, `audit-workflow run-job
JOB_ID` (cron) and the tests run the same code. An area adds a job with one line in JOBS: its id,
the function as "module:function" (imported when the job runs, so the scheduler imports no area's
code), and when it runs. Every job must be safe to run twice, late, or in two processes at once
(an idempotency key on each email, or a conditional update); the lease only stops the work being
done twice, it is not what makes it safe.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sqlalchemy.engine import Engine

from ..clock import ENGLAND, utcnow
from ..db import describe_error, dialect_insert, session_scope
from ..outcome import JobOutcome
from .models import JobRun, RunStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    function: str  # "module:function", imported when the job runs
    when: str  # in words, for the admin page
    trigger: str  # an APScheduler trigger alias, with its arguments
    trigger_args: dict = field(default_factory=dict)
    # Also run shortly after the scheduler starts, so a machine that was off at the job's time
    # (or a new installation) does not wait a day for it.
    soon_after_start: bool = False
    # "module:function" of `alert(last_succeeded_at, now) -> str | None`, for a job whose not running
    # for too long needs an administrator (shown on the admin page, and by code in /healthz).
    overdue_alert: str | None = None

    def load(self) -> Callable[..., JobOutcome]:
        return load_function(self.function)


JOBS = [
    # The dispatcher stops each run within 25 seconds (dispatcher.JOB_MAX_SECONDS), so runs never overlap.
    ScheduledJob("dispatch_outbox", "audit_workflow.notifications.jobs:dispatch_outbox_job", "Every 30 seconds",
                 "interval", {"seconds": 30}),
    # Hourly through the working day: a run missed at 07:05 (machine off) is made up the same day.
    # Reallocation first, so that the chase five minutes later reminds the new auditor, not the old.
    ScheduledJob("reallocate", "audit_workflow.cycles.reallocation:reallocate_job", "Weekdays, every hour from 07:00 to 17:00",
                 "cron", {"day_of_week": "mon-fri", "hour": "7-17", "minute": 0, "timezone": ENGLAND}),
    ScheduledJob("chase", "audit_workflow.cycles.chasing:chase_job", "Weekdays, every hour from 07:05 to 17:05",
                 "cron", {"day_of_week": "mon-fri", "hour": "7-17", "minute": 5, "timezone": ENGLAND}),
    ScheduledJob("weekly_digest", "audit_workflow.cycles.digest:weekly_digest_job",
                 "Weekdays at 08:00; each digest goes once a week, normally on Monday",
                 "cron", {"day_of_week": "mon-fri", "hour": 8, "minute": 0, "timezone": ENGLAND}),
    ScheduledJob("retention_purge", "audit_workflow.notifications.jobs:retention_purge_job",
                 "Daily at 02:30, and a minute after the scheduler starts",
                 "cron", {"hour": 2, "minute": 30, "timezone": ENGLAND}, soon_after_start=True,
                 overdue_alert="audit_workflow.notifications.jobs:retention_alert"),
    ScheduledJob("feedback_invite", "audit_workflow.feedback.jobs:feedback_invite_job", "Weekdays at 10:00",
                 "cron", {"day_of_week": "mon-fri", "hour": 10, "minute": 0, "timezone": ENGLAND}),
    ScheduledJob("feedback_purge", "audit_workflow.feedback.jobs:feedback_purge_job",
                 "Daily at 02:45, and a minute after the scheduler starts",
                 "cron", {"hour": 2, "minute": 45, "timezone": ENGLAND}, soon_after_start=True),
    ScheduledJob("actions_propose", "audit_workflow.actions.jobs:actions_propose_job", "Every 15 minutes",
                 "interval", {"minutes": 15}),
    ScheduledJob("actions_chase", "audit_workflow.actions.jobs:actions_chase_job", "Weekdays at 07:10",
                 "cron", {"day_of_week": "mon-fri", "hour": 7, "minute": 10, "timezone": ENGLAND}),
    ScheduledJob("actions_weekly", "audit_workflow.actions.jobs:actions_weekly_job",
                 "Weekdays at 08:10; each review and summary once a week, normally on Monday",
                 "cron", {"day_of_week": "mon-fri", "hour": 8, "minute": 10, "timezone": ENGLAND}),
    ScheduledJob("trail_purge", "audit_workflow.trail.jobs:trail_purge_job", "Daily at 02:50",
                 "cron", {"hour": 2, "minute": 50, "timezone": ENGLAND}),
    ScheduledJob("cycle_reports", "audit_workflow.reports.cycle_report.jobs:cycle_reports_job", "Every 15 seconds",
                 "interval", {"seconds": 15}),
    ScheduledJob("moderation_sample", "audit_workflow.moderation.jobs:moderation_sample_job",
                 "Weekdays, every hour from 07:10 to 17:10",
                 "cron", {"day_of_week": "mon-fri", "hour": "7-17", "minute": 10, "timezone": ENGLAND}),
    ScheduledJob("rate_limit_purge", "audit_workflow.rate_limit.jobs:rate_limit_purge_job", "Daily at 02:55",
                 "cron", {"hour": 2, "minute": 55, "timezone": ENGLAND}),
]


def load_function(target: str) -> Callable:
    module_name, _, name = target.partition(":")
    return getattr(importlib.import_module(module_name), name)


def job_named(job_id: str, timetable: list[ScheduledJob] = JOBS) -> ScheduledJob:
    return next(job for job in timetable if job.id == job_id)


def run_and_record(engine: Engine, config: Mapping[str, Any], job_id: str, ran_by: str,
                   timetable: list[ScheduledJob] = JOBS) -> JobRun:
    """Run one job now and keep its start, finish, status and error in JobRun. A failure is recorded
    and logged, never raised: the caller (the scheduler, or run-job's exit status) reads the row."""
    values = {"job_id": job_id, "status": RunStatus.RUNNING, "ran_by": ran_by, "started_at": utcnow(),
              "finished_at": None, "error": None}
    with session_scope(engine, immediate=True) as db:
        db.execute(dialect_insert(db, JobRun).values(**values).on_conflict_do_update(index_elements=["job_id"], set_=values))
    try:
        outcome = job_named(job_id, timetable).load()(engine, config)
    except Exception as error:  # whatever went wrong (an import, too), it is reported the same way
        description = describe_error(error)
        logger.error("job %s failed: %s", job_id, description)
        return _finish(engine, job_id, status=RunStatus.FAILED, error=description)
    return _finish(engine, job_id, status=RunStatus.SUCCEEDED, last_succeeded_at=utcnow(), summary=outcome.summary[:500],
                   warning=outcome.warning and outcome.warning[:500])


def _finish(engine: Engine, job_id: str, **values) -> JobRun:
    with session_scope(engine, immediate=True) as db:
        run = db.get(JobRun, job_id)
        for name, value in {"finished_at": utcnow(), **values}.items():
            setattr(run, name, value)
        db.add(run)
    return run
