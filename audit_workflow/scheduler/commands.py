"""`audit-workflow scheduler` (the dedicated scheduler process), `audit-workflow run-job JOB_ID`
(one job once, for cron) and `audit-workflow cycle calendar CYCLE_ID` (the chase calendar)."""

from __future__ import annotations

import json
import os
import socket

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from ..cycles.guards import CycleError
from ..cycles.lifecycle import get_cycle
from ..db import get_engine
from ..plans.commands import BadInputExitsOne, fail
from ..workdays import BeyondHolidayData
from .chase import chase_calendar
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
@click.argument("job_id", type=click.Choice(sorted(JOBS)))
@with_appcontext
def run_job_command(job_id):
    """Run one scheduled job once, now (for cron instead of the scheduler). Safe to repeat."""
    run = run_and_record(get_engine(), current_app.config, job_id, f"run-job:{socket.gethostname()}:{os.getpid()}")
    if run.status != RunStatus.SUCCEEDED:
        fail(f"{job_id} failed: {run.error}")
    click.echo(f"{job_id}: {run.summary}")
    if run.warning:
        click.echo(f"Warning: {run.warning}", err=True)


@click.command("calendar", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {assignment, auditor, kind, date}")
@with_appcontext
def calendar_command(cycle_id, as_json):
    """The chase emails planned for the cycle's active audits, by working day."""
    try:
        with Session(get_engine()) as db:
            entries = chase_calendar(db, get_cycle(db, cycle_id))
    except (CycleError, BeyondHolidayData) as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    for entry in entries:
        click.echo(f"{entry['date']}  {entry['kind']:<10}  {entry['auditor']}  {entry['assignment']}")
