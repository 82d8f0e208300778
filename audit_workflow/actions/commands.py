"""`audit-workflow actions list --la CODE [--json]`: an LA's actions, for scripts and exports."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlmodel import Session

from ..authorities.service import AuthorityError, get_by_code
from ..db import get_engine
from ..cli import BadInputExitsOne, fail
from . import service

actions_cli = AppGroup("actions", help="Actions that follow weak audits.")


@actions_cli.command("list", cls=BadInputExitsOne)
@click.option("--la", "la_code", required=True, help="DfE LA code, e.g. 886")
@click.option("--shown", type=click.Choice(service.ACTION_FILTERS), help="Only proposed, open, overdue or closed actions")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of lines of text")
def list_command(la_code, shown, as_json):
    """List the LA's actions by due date."""
    with Session(get_engine()) as db:
        try:
            la = get_by_code(db, la_code)
        except AuthorityError as error:
            fail(str(error))
        rows = service.actions_for_la(db, la.id, shown)
    items = [{"id": str(row.action.id), "system_id": row.system_id, "type": row.action.action_type, "status": row.action.status,
              "overdue": row.overdue, "owner": row.owner_name, "team": row.action.owner_team, "cycle": row.cycle_name,
              "due_date": row.action.due_date.isoformat() if row.action.due_date else None,
              "grade_before": row.action.grade_before, "grade_after": row.action.grade_after} for row in rows]
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for item in items:
        click.echo(f"{item['due_date'] or 'no due date':<12} {item['status']:<9} {item['type']:<15} {item['system_id'] or 'whole service':<16} "
                   f"{item['owner'] or item['team'] or '-'}")
    click.echo(f"{len(items)} action{'s' if len(items) != 1 else ''}.")
