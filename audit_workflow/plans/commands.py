"""`audit-workflow import-plans --la CODE FILE`: load a register file from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..authorities.service import AuthorityError, get_by_code
from ..cli import BadInputExitsOne, fail
from ..db import get_engine, session_scope
from .parsing import FIELD_CHOICES, field_for, field_label, size_problem
from ..vocabulary import match_key
from .service import PlanImportRefused, import_plans


def _column_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    """--map "Case Team=writing team" as {heading key: field}; bad usage exits 1 with what is accepted."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        heading, _, target = pair.rpartition("=")
        field = field_for(target)
        if not heading.strip() or field is None:
            fail(f'--map "{pair}" must be "Heading in the file=what it is", where what it is is one of '
                 f"{', '.join(label for _, label in FIELD_CHOICES)}")
        mapping[match_key(heading)] = field
    return mapping


@click.command("import-plans", cls=BadInputExitsOne)
@click.option("--la", "la_code", required=True, help="DfE LA code, e.g. 886")
@click.option("--map", "maps", multiple=True, metavar='"HEADING=FIELD"',
              help='What a column of the file is, e.g. --map "Case Team=writing team" (or "=not used"); repeatable')
@click.option("--sheet", help="The workbook's sheet to read (default: the first sheet with plans)")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_plans_command(la_code: str, maps: tuple[str, ...], sheet: str | None, file: Path):
    """Import a register of plans (CSV or XLSX); nothing lands if any row has a problem."""
    columns = _column_mapping(maps)
    try:
        too_big = size_problem(file.stat().st_size)  # before reading: a huge file is refused without its memory
        if too_big:
            fail(too_big)
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    try:
        with session_scope(get_engine()) as db:
            la = get_by_code(db, la_code)
            summary = import_plans(db, la.id, file.name, data, columns=columns, sheet=sheet)
    except AuthorityError as error:
        fail(str(error))
    except PlanImportRefused as refusal:
        if refusal.result is not None and refusal.result.columns:
            _echo_mapping(refusal.result.where_read(), refusal.result.mapping_used().items(), refusal.result.ignored_columns)
        for problem in refusal.problems:
            click.echo(str(problem), err=True)
        fail(str(refusal))
    _echo_mapping(summary.where_read, ((field, heading) for heading, field in summary.columns_read), summary.ignored_columns)
    click.echo(f"Imported {file.name} into {la.name}: {summary.created} new, {summary.updated} updated, "
               f"{summary.unchanged} unchanged.")


def _echo_mapping(where_read: str, fields_and_headings, ignored: tuple[str, ...]) -> None:
    """The mapping used (on standard output; problems go to standard error), so a coordinator can
    check it and repeat it with --map."""
    click.echo(f"{where_read}. Columns read:")
    for field, heading in fields_and_headings:
        click.echo(f'  "{heading}" as {field_label(field)}')
    if ignored:
        click.echo(f"Columns not used: {', '.join(ignored)}")
