"""`audit-workflow scheduler` (the dedicated scheduler process) and `audit-workflow run-job JOB_ID`
(one job once, for cron)."""

from __future__ import annotations

import os
import socket

import click
from flask import current_app
from flask.cli import with_appcontext

from ..cli import BadInputExitsOne, fail
from ..db import get_engine
from .jobs import JOBS, run_and_record
from .models import RunStatus
from .runner import run_dedicated


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduled jobs in this process until stopped (one per installation is enough; more
    wait as standbys). Use it instead of the embedded scheduler when serving with gunicorn."""
    run_dedicated(current_app._get_current_object())


@click.command("run-job", cls=BadInputExitsOne)
@click.argument("job_id", type=click.Choice(sorted(job.id for job in JOBS)))
@with_appcontext
def run_job_command(job_id):
    """Run one scheduled job once, now (for cron instead of the scheduler). Safe to repeat."""
    run = run_and_record(get_engine(), current_app.config, job_id, f"run-job:{socket.gethostname()}:{os.getpid()}")
    if run.status != RunStatus.SUCCEEDED:
        fail(f"{job_id} failed: {run.error}")
    click.echo(f"{job_id}: {run.summary}")
    if run.warning:
        click.echo(f"Warning: {run.warning}", err=True)
