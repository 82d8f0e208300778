"""`audit-workflow report CYCLE_ID --format pptx|pdf|xlsx --out FILE`: the cycle report, written
while you wait (for a board paper, or a scheduled export)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ...cli import BadInputExitsOne, fail
from ...cycles.guards import CycleError
from ...cycles.lifecycle import get_cycle
from ...db import get_engine, session_scope
from ...framework.versions import configured_framework_file
from . import service
from .pdf_writer import PdfUnavailable


@click.command("report", cls=BadInputExitsOne)
@click.argument("cycle_id")
@click.option("--format", "format_name", type=click.Choice(sorted(service.FORMATS)), required=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="The file to write")
@with_appcontext
def report_command(cycle_id: str, format_name: str, out: Path):
    """Write a cycle's report: summary, grades, comparison with the previous cycle, sections,
    health and social care focus, and the context page."""
    try:
        with session_scope(get_engine()) as db:
            cycle = get_cycle(db, cycle_id)
            content, _ = service.generate(db, cycle, format_name, shipped_framework_file=configured_framework_file(current_app.config))
            name = cycle.name
    except (CycleError, PdfUnavailable) as error:
        fail(str(error))
    try:
        out.write_bytes(content)
    except OSError as error:
        fail(f"Cannot write {out}: {error.strerror}")
    click.echo(f"Wrote the {service.FORMATS[format_name].label} report of {name} to {out}")
