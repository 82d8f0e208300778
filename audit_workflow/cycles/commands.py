"""`audit-workflow cycle ...`: the coordinator's flow from the command line, for scripting and
for LAs that set cycles up in bulk. Each command is one transaction; any refusal is one line on
stderr and exit status 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import click
from flask.cli import AppGroup
from sqlmodel import Session

from ..authorities.service import AuthorityError, get_by_code
from ..cli import BadInputExitsOne, fail, transaction
from ..db import get_engine
from ..notifications.staff_mail import StaffMail
from ..workdays import BeyondHolidayData
from . import allocating, auditor_pool, lifecycle, plan_sample, progress
from .chasing import chase_calendar
from .guards import CycleError
from .models import AuditCycle

cycle_cli = AppGroup("cycle", help="Audit cycles: create, sample, choose auditors, allocate, track.")


def _transaction():
    return transaction(CycleError, AuthorityError)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2026-09-01, not {value!r}")


@cycle_cli.command("create", cls=BadInputExitsOne)
@click.option("--la", "la_code", required=True, help="DfE LA code, e.g. 886")
@click.option("--name", required=True)
@click.option("--start", required=True, help="First day of the period, YYYY-MM-DD")
@click.option("--end", required=True, help="Last day of the period, YYYY-MM-DD")
@click.option("--due-working-days", type=int, default=lifecycle.CycleSettings.due_working_days, show_default=True,
              help="Working days an auditor has for each plan")
@click.option("--target", default="", help="Target sample: a number of plans (60) or a share of the register (10%)")
@click.option("--strata", default=",".join(lifecycle.CycleSettings.strata), show_default=True,
              help=f"Comma-separated fields to stratify by: {', '.join(lifecycle.STRATA_FIELDS)}; empty for none")
def create(la_code, name, start, end, due_working_days, target, strata):
    """Create a draft cycle; prints its id on the last line."""
    start_day, end_day = _day(start, "--start"), _day(end, "--end")
    with _transaction() as db:
        la = get_by_code(db, la_code)
        size, share = lifecycle.parse_target(target)
        settings = lifecycle.CycleSettings(
            name=name, period_start=start_day, period_end=end_day, due_working_days=due_working_days,
            sample_size=size, sample_share=share, strata=tuple(lifecycle.split_strata(strata.replace(" ", ""))),
        )
        cycle = lifecycle.create_cycle(db, la.id, settings)
    # Only once committed: a script must never be handed the id of a cycle that does not exist.
    click.echo(f"Created {cycle.name} for {la.name} (draft).")
    click.echo(str(cycle.id))


@cycle_cli.command("sample", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--size", type=int, default=None, help="Plans to sample; default the cycle's target")
@click.option("--seed", type=int, default=None, help="Reproduce a draw; default a new random seed")
def sample(cycle_id, size, seed):
    """Draw the cycle's stratified sample from the LA's register."""
    with _transaction() as db:
        cycle = lifecycle.get_cycle(db, cycle_id)
        drawn = plan_sample.draw_sample(db, cycle, size=size, seed=seed)
        overview = progress.sample_overview(db, cycle)
        click.echo(f"Drew {len(drawn)} of {overview.population} plans with seed {cycle.sample_seed}.")
        if overview.margin:
            click.echo(f"Margin of error for the share graded Good or better: ±{overview.margin.percentage_points:.1f} "
                       "percentage points at 95% confidence.")


@cycle_cli.command("add-auditors", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--capacity", type=int, required=True, help="Plans each auditor can take this cycle")
@click.option("--email", "emails", multiple=True, help="An auditor's email; repeat it. Default: every active auditor in the LA")
def add_auditors(cycle_id, capacity, emails):
    """Put auditors in the cycle's pool (or change their capacity)."""
    with _transaction() as db:
        cycle = lifecycle.get_cycle(db, cycle_id)
        members = auditor_pool.add_auditors_by_email(db, cycle, list(emails), capacity)
        click.echo(f"{len(members)} auditors in the pool with capacity {capacity}.")


@cycle_cli.command("allocate", cls=BadInputExitsOne)
@click.argument("cycle_id")
def allocate(cycle_id):
    """Allocate the sample's unallocated plans to the pool, and email each auditor their list."""
    with _transaction() as db:
        cycle = lifecycle.get_cycle(db, cycle_id)
        outcome = allocating.allocate_cycle(db, cycle, actor=None, mail=StaffMail.with_app_settings(db))
        for sentence in outcome.explanation:
            click.echo(sentence)
        for system_id, reason in outcome.unallocated:
            click.echo(f"Not allocated: {system_id}: {reason}")
        click.echo(f"Allocated {len(outcome.assignments)} plans; {len(outcome.unallocated)} not allocated.")


def _moving_command(name: str, move: Callable[[Session, AuditCycle], None], now: str, description: str) -> click.Command:
    """`cycle <name> CYCLE_ID`: move the cycle on with `move` and say what it is `now`."""
    @cycle_cli.command(name, cls=BadInputExitsOne, help=description)
    @click.argument("cycle_id")
    def command(cycle_id):
        with _transaction() as db:
            cycle = lifecycle.get_cycle(db, cycle_id)
            move(db, cycle)
            click.echo(f"{cycle.name} is {now}.")

    return command


open_cycle = _moving_command("open", lifecycle.open_cycle, "open", "Open a draft cycle.")
close_cycle = _moving_command("close", lifecycle.close_cycle, "closed", "Close a cycle; it becomes read-only.")


@cycle_cli.command("status", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts")
def status(cycle_id, as_json):
    """Assignments by status and by auditor: the first audits, then moderation and re-audits."""
    with _transaction() as db:
        cycle = lifecycle.get_cycle(db, cycle_id)
        report = progress.status_report(db, cycle)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{cycle.name} ({cycle.status})")
    for title, counts in (("First audits of the sampled plans", report), ("Moderation (second audits)", report["moderation"]),
                          ("Re-audits of amended plans", report["reaudit"])):
        click.echo(f"{title}: {counts['assignments']} assignments")
        for name, count in sorted(counts["by_status"].items()):
            click.echo(f"  {name.replace('_', ' ')}: {count}")
        for email, count in counts["by_auditor"].items():
            click.echo(f"  {email}: {count}")


@cycle_cli.command("calendar", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {assignment, auditor, kind, date}")
def calendar_command(cycle_id, as_json):
    """The chase emails planned for the cycle's active audits, by working day."""
    try:
        with Session(get_engine()) as db:
            entries = chase_calendar(db, lifecycle.get_cycle(db, cycle_id))
    except (CycleError, BeyondHolidayData) as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    for entry in entries:
        click.echo(f"{entry['date']}  {entry['kind']:<10}  {entry['auditor']}  {entry['assignment']}")
