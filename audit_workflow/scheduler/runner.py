"""The timetable, run by APScheduler 3.11 in exactly one process at a time.

- Embedded: `audit-workflow serve` calls start_embedded(app), a BackgroundScheduler thread beside
  waitress (one machine, one process).
- Dedicated: `audit-workflow scheduler` calls run_dedicated(app), a BlockingScheduler in a process
  of its own, for when the web application runs under gunicorn with several workers.

Never from create_app(): every gunicorn worker and the Werkzeug reloader's child build the app, and
each would start its own scheduler (start_embedded refuses to run in either). The timetable lives
in this module, so the job store is APScheduler's MemoryJobStore: nothing to pickle or migrate.

Any number of these processes may run (two servers, a restart overlapping the old process). Each
renews-or-takes the database lease on its heartbeat; only the holder runs jobs, and a waiting one
takes over once the holder stops renewing. The jobs are idempotent (jobs.py), so the brief
overlap possible when a paused holder wakes up after losing its lease does no harm.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Mapping

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from werkzeug.serving import is_running_from_reloader

from ..clock import ENGLAND, utcnow
from ..db import describe_error, get_engine
from ..outcome import JobOutcome
from .jobs import JOBS, run_and_record
from .lease import Lease

logger = logging.getLogger(__name__)

# One run at a time per job; runs missed while the process was down or busy collapse into one, and
# are still made if no more than an hour late.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
HEARTBEAT_JOB = "heartbeat"


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    when: str  # in words, for the admin page
    trigger: str  # an APScheduler trigger alias, with its arguments
    trigger_args: dict = field(default_factory=dict)
    # Also run shortly after the scheduler starts, so a machine that was off at the job's time
    # (or a new installation) does not wait a day for it.
    soon_after_start: bool = False


TIMETABLE = [
    # The dispatcher stops each run within 25 seconds (dispatcher.JOB_MAX_SECONDS), so runs never overlap.
    ScheduledJob("dispatch_outbox", "Every 30 seconds", "interval", {"seconds": 30}),
    # Hourly through the working day: a run missed at 07:05 (machine off) is made up the same day.
    # Reallocation first, so that the chase five minutes later reminds the new auditor, not the old.
    ScheduledJob("reallocate", "Weekdays, every hour from 07:00 to 17:00", "cron",
                 {"day_of_week": "mon-fri", "hour": "7-17", "minute": 0, "timezone": ENGLAND}),
    ScheduledJob("chase", "Weekdays, every hour from 07:05 to 17:05", "cron",
                 {"day_of_week": "mon-fri", "hour": "7-17", "minute": 5, "timezone": ENGLAND}),
    ScheduledJob("weekly_digest", "Weekdays at 08:00; each digest goes once a week, normally on Monday", "cron",
                 {"day_of_week": "mon-fri", "hour": 8, "minute": 0, "timezone": ENGLAND}),
    ScheduledJob("retention_purge", "Daily at 02:30, and a minute after the scheduler starts", "cron",
                 {"hour": 2, "minute": 30, "timezone": ENGLAND}, soon_after_start=True),
    ScheduledJob("moderation_sample", "Weekdays, every hour from 07:10 to 17:10", "cron",
                 {"day_of_week": "mon-fri", "hour": "7-17", "minute": 10, "timezone": ENGLAND}),
]


def heartbeat_seconds(config: Mapping[str, Any]) -> int:
    """A quarter of the lease: the holder can miss three renewals in a row and keep the lease, and
    a waiting process notices an expired lease within a quarter of its length."""
    return max(1, config["SCHEDULER_LEASE_SECONDS"] // 4)


def handover_seconds(config: Mapping[str, Any]) -> int:
    """The longest a standby can take to replace a holder that died just after renewing: the lease
    has to run out, then the standby's next heartbeat takes it (56 s with the default 45 s lease)."""
    return config["SCHEDULER_LEASE_SECONDS"] + heartbeat_seconds(config)


class SchedulerRunner:
    def __init__(self, app: Flask, scheduler_class: type[BaseScheduler], timetable: list[ScheduledJob] = TIMETABLE,
                 jobs: Mapping[str, Callable[..., JobOutcome]] = JOBS):
        self.app = app
        self.engine = get_engine(app)
        self.config = app.config
        self.jobs = jobs
        self.lease = Lease(self.engine, self.config["SCHEDULER_LEASE_SECONDS"])
        self._holding = False
        self.scheduler = scheduler_class(jobstores={"default": MemoryJobStore()}, job_defaults=JOB_DEFAULTS, timezone=ENGLAND)
        self.scheduler.add_job(self.heartbeat, "interval", seconds=heartbeat_seconds(self.config), id=HEARTBEAT_JOB,
                               name=HEARTBEAT_JOB, replace_existing=True, next_run_time=utcnow())
        for job in timetable:
            # A minute gives the heartbeat time to take the lease first.
            first_run = {"next_run_time": utcnow() + timedelta(minutes=1)} if job.soon_after_start else {}
            self.scheduler.add_job(self.run_if_holder, job.trigger, args=[job.id], id=job.id, name=job.id,
                                   replace_existing=True, **job.trigger_args, **first_run)
        # APScheduler logs every run at INFO: four lines a minute from the heartbeat alone.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)

    def heartbeat(self) -> None:
        try:
            held = self.lease.acquire_or_renew()
        except Exception as error:  # a database outage: the lease, if held, lasts until it runs out
            logger.error("scheduler heartbeat failed: %s", describe_error(error))
            return
        if held != self._holding:
            logger.info("scheduler %s %s the lease", self.lease.holder, "took" if held else "lost")
        self._holding = held

    def run_if_holder(self, job_id: str) -> None:
        if not self.lease.is_held():
            return  # another process holds the lease and runs this job
        try:
            # Jobs call the same services as the views, and some of those read current_app.
            with self.app.app_context():
                run_and_record(self.engine, self.config, job_id, self.lease.holder, self.jobs)
        except Exception as error:  # only if the JobRun row itself cannot be written
            logger.error("job %s could not be recorded: %s", job_id, describe_error(error))

    def start(self) -> None:
        logger.info("scheduler %s starting (%s)", self.lease.holder, type(self.scheduler).__name__)
        self.scheduler.start()

    def stop(self) -> None:
        """Finish running jobs, then hand the lease over at once rather than when it runs out."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        try:
            self.lease.release()
        except Exception as error:
            logger.error("scheduler lease not released (it will expire): %s", describe_error(error))


def _inside_gunicorn() -> bool:
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")


def start_embedded(app: Flask) -> SchedulerRunner | None:
    """Start the scheduler in a background thread of this (single) web process."""
    if is_running_from_reloader() or _inside_gunicorn():
        app.logger.warning("embedded scheduler not started in a reloader child or gunicorn worker; "
                           "run `audit-workflow scheduler` as a separate process")
        return None
    runner = SchedulerRunner(app, BackgroundScheduler)
    runner.start()
    # On SIGTERM (systemd stop, a restart) exit normally, so that atexit hands the lease over.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    atexit.register(runner.stop)
    return runner


def _exit_on_sigterm(_signal, _frame):
    raise SystemExit(0)


def run_dedicated(app: Flask, runner: SchedulerRunner | None = None) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl+C."""
    runner = runner or SchedulerRunner(app, BlockingScheduler)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runner.stop()
