"""`audit-workflow moderation ...` and `audit-workflow export moderation`: the moderation sample
now, the agreement statistics (`--json` for scripts), moderators, and the pairs as CSV. Each command
is one transaction; any refusal is one line on stderr and exit status 1."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import select

from ..auth.models import User
from ..cli import BadInputExitsOne, fail, transaction
from ..cycles.guards import CycleError
from ..cycles.lifecycle import get_cycle
from . import service
from .export import write_csv

moderation_cli = AppGroup("moderation", help="Moderation: blind second audits, agreement statistics, moderators.")
export_cli = AppGroup("export", help="Export data as files.")


def _transaction():
    return transaction(service.ModerationError, CycleError)


@moderation_cli.command("sample", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--seed", type=int, default=None, help="Record this seed on the cycle's first run; default a random one")
def sample(cycle_id, seed):
    """Pick the cycle's moderation sample now and assign second auditors (what the scheduler does)."""
    with _transaction() as db:
        cycle = get_cycle(db, cycle_id)
        outcome = service.select_and_assign(db, cycle, current_app.config, seed=seed)
        recorded = service.moderation_seed(db, cycle)
    for system_id, name in outcome.assigned:
        click.echo(f"{system_id}: moderated by {name}")
    for system_id, reason in outcome.unassigned:
        click.echo(f"{system_id}: no moderator yet: {reason}")
    click.echo(f"{outcome.summary()} (seed {recorded}).")


@moderation_cli.command("stats", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts")
def stats(cycle_id, as_json):
    """How well auditors agree in the cycle: overall, by section and by auditor."""
    with _transaction() as db:
        cycle = get_cycle(db, cycle_id)
        report = service.statistics_report(db, [cycle])
    if as_json:
        click.echo(json.dumps(report.as_json()))
        return
    overall = report.overall
    click.echo(f"{cycle.name}: {overall.pairs} pairs, {report.flagged} flagged, {report.adjudicated} adjudicated")
    for label, estimate in (("Exact agreement", overall.exact_agreement), ("Within one band", overall.within_one),
                            ("Weighted kappa", overall.weighted_kappa), ("Krippendorff's alpha", overall.krippendorff_alpha)):
        click.echo(f"  {label}: {_figure(estimate)} ({estimate.words})")


def _figure(estimate) -> str:
    if estimate.value is None:
        return "none"
    interval = f", 95% interval {estimate.ci[0]:.2f} to {estimate.ci[1]:.2f}" if estimate.ci else ""
    return f"{estimate.value:.2f}{interval}"


@moderation_cli.command("moderator", cls=BadInputExitsOne)
@click.argument("email")
@click.option("--remove", is_flag=True, help="Unmark them instead")
def moderator(email, remove):
    """Mark an auditor as a moderator (or, with --remove, unmark them)."""
    with _transaction() as db:
        user = db.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            fail(f"There is no user with the email {email}")
        service.set_moderator(db, user, not remove)
    click.echo(f"{user.email} is {'no longer ' if remove else ''}a moderator.")


@export_cli.command("moderation", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The CSV file to write")
def export_moderation(cycle_id, out: Path):
    """One row per moderated pair and section: System ID, section, first, second and agreed grade."""
    with _transaction() as db:
        rows = service.export_rows(db, get_cycle(db, cycle_id))
    try:
        with out.open("w", newline="", encoding="utf-8") as handle:
            write_csv(handle, service.EXPORT_COLUMNS, rows)
    except OSError as error:
        fail(f"Cannot write {out}: {error.strerror}")
    click.echo(f"Wrote {len(rows)} rows to {out}.")
