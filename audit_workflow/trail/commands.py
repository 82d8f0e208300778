"""`audit-workflow trail --system-id X --la CODE [--json]`: who read or changed one plan, for a
data-protection officer answering a breach report within 72 hours."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from ..authorities.service import AuthorityError, get_by_code
from ..db import get_engine
from ..cli import BadInputExitsOne, fail
from .service import TrailError, accesses_to_plan, as_json


@click.command("trail", cls=BadInputExitsOne)
@click.option("--system-id", required=True, help="The plan's System ID")
@click.option("--la", "la_code", required=True, help="DfE LA code, e.g. 886")
@click.option("--json", "as_json_output", is_flag=True, help="One JSON document instead of lines of text")
@with_appcontext
def trail_command(system_id, la_code, as_json_output):
    """List every recorded read and change of one plan (its assignments, audits and actions), newest first."""
    with Session(get_engine()) as db:
        try:
            la = get_by_code(db, la_code)
            events, total = accesses_to_plan(db, la.id, system_id)
        except (AuthorityError, TrailError) as error:
            fail(str(error))
    if as_json_output:
        click.echo(json.dumps({"la": la.code, "system_id": system_id.strip(), "total": total,
                               "events": [as_json(event) for event in events]}, indent=2))
        return
    for event in events:
        click.echo(f"{event.at:%Y-%m-%d %H:%M:%S} UTC  {event.action:<8} {event.object_kind or '-':<12} "
                   f"{event.user_email or '-':<32} {event.client_ip or '-'}  {event.path or ''}")
    shown = f" (newest {len(events)} shown)" if total > len(events) else ""
    click.echo(f"{total} access{'es' if total != 1 else ''} to {system_id.strip()} recorded{shown}.")
