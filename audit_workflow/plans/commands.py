"""`audit-workflow import-plans --la CODE FILE`: load a register file from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..authorities.service import AuthorityError, get_by_code
from ..cli import BadInputExitsOne, fail
from ..db import get_engine, session_scope
from .service import PlanImportRefused, import_plans


@click.command("import-plans", cls=BadInputExitsOne)
@click.option("--la", "la_code", required=True, help="DfE LA code, e.g. 886")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_plans_command(la_code: str, file: Path):
    """Import a register of plans (CSV or XLSX); nothing lands if any row has a problem."""
    try:
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    try:
        with session_scope(get_engine()) as db:
            la = get_by_code(db, la_code)
            summary = import_plans(db, la.id, file.name, data)
    except AuthorityError as error:
        fail(str(error))
    except PlanImportRefused as refusal:
        for problem in refusal.problems:
            click.echo(str(problem), err=True)
        fail(str(refusal))
    click.echo(f"Imported {file.name} into {la.name}: {summary.created} new, {summary.updated} updated, "
               f"{summary.unchanged} unchanged.")
