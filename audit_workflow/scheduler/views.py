"""The administrator's view of the scheduler (/admin/scheduler) and its part of /healthz: the
heartbeat and lease holder, the last run of each job, and anything that needs acting on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, current_app, render_template
from sqlmodel import Session, select

from ..access import allow
from ..auth.models import Role
from ..clock import govuk_date_time, utcnow
from ..db import describe_error, get_session
from ..notifications.delivery import undelivered_warning
from ..web import navigation
from ..web.contributions import HEALTH_CHECKS
from ..workdays import WorkingCalendar
from .jobs import JOBS, load_function
from .lease import current_lease
from .models import JobRun, RunStatus, SchedulerLease
from .runner import handover_seconds, heartbeat_seconds

bp = Blueprint("scheduler", __name__, template_folder="templates")

navigation.register("Scheduler", "scheduler.status", (Role.ADMIN,), "Background jobs: heartbeat, lease and last runs", order=90)


@dataclass(frozen=True)
class Alert:
    code: str  # for /healthz, which is public and so never carries names or errors
    message: str  # for the admin page


@dataclass(frozen=True)
class JobStatus:
    id: str
    when: str
    run: JobRun | None


@dataclass(frozen=True)
class SchedulerStatus:
    lease: SchedulerLease | None
    live: bool  # a process holds the lease now
    heartbeat_age_seconds: float | None
    jobs: list[JobStatus]
    alerts: list[Alert]
    holiday_data_until: date  # the last day working days can be counted for


def scheduler_status(db: Session, now: datetime) -> SchedulerStatus:
    lease = current_lease(db)
    runs = {run.job_id: run for run in db.exec(select(JobRun)).all()}
    live = lease is not None and lease.expires_at > now
    alerts = []
    if not live:
        since = f"since {govuk_date_time(lease.heartbeat_at, seconds=True)}" if lease else "ever"
        alerts.append(Alert("no_heartbeat", f"No scheduler is running: there has been no heartbeat {since}. Emails are not being sent."))
    for job in JOBS:
        run = runs.get(job.id)
        overdue = job.overdue_alert and load_function(job.overdue_alert)(run and run.last_succeeded_at, now)
        if overdue:
            alerts.append(Alert(f"{job.id}_overdue", overdue))
    for job in JOBS:
        run = runs.get(job.id)
        if run and run.status == RunStatus.FAILED:
            alerts.append(Alert(f"{job.id}_failed", f"The last {job.id} run failed at {govuk_date_time(run.finished_at, seconds=True)}: {run.error}"))
        if run and run.warning:
            alerts.append(Alert(f"{job.id}_warning", f"{job.id}: {run.warning}"))
    return SchedulerStatus(
        lease=lease,
        live=live,
        heartbeat_age_seconds=(now - lease.heartbeat_at).total_seconds() if lease else None,
        jobs=[JobStatus(job.id, job.when, runs.get(job.id)) for job in JOBS],
        alerts=alerts,
        holiday_data_until=WorkingCalendar().known_until,
    )


@bp.get("/admin/scheduler")
@allow(Role.ADMIN)
def status():
    return render_template(
        "scheduler/status.html", status=scheduler_status(get_session(), utcnow()),
        heartbeat_every=heartbeat_seconds(current_app.config), handover_within=handover_seconds(current_app.config),
        mail_warning=undelivered_warning(current_app.config),
    )


def health() -> dict:
    db = get_session()
    try:
        status = scheduler_status(db, utcnow())
    except Exception as error:  # /healthz reports the database itself; this part just says unknown
        db.rollback()
        current_app.logger.error("health check: scheduler status unavailable: %s", describe_error(error))
        return {"status": "unknown"}
    return {
        "status": "alert" if status.alerts else "ok",
        "heartbeat_age_seconds": None if status.heartbeat_age_seconds is None else round(status.heartbeat_age_seconds, 1),
        "lease_holder": status.lease.holder if status.live else None,
        "jobs": {
            job.id: {"status": job.run.status, "started_at": job.run.started_at.isoformat(),
                     "finished_at": job.run.finished_at and job.run.finished_at.isoformat()} if job.run else None
            for job in status.jobs
        },
        "alerts": [alert.code for alert in status.alerts],
    }


HEALTH_CHECKS["scheduler"] = health
