"""`audit-workflow benchmark ...`: load published benchmark figures, statistical neighbours and
context figures (docs/reports.md gives each file's columns), and set an LA's opt-in. Each file is
loaded whole or not at all; a refusal is one line on stderr and exit status 1."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click
from flask.cli import AppGroup
from sqlmodel import Session

from ..authorities.service import AuthorityError, get_by_code
from ..cli import BadInputExitsOne, fail
from ..db import get_engine, session_scope
from . import service
from .benchmarking import BenchmarkFileError

benchmark_cli = AppGroup("benchmark", help="Benchmarks for the reports: published figures, neighbours, opt-in.")


def _load(file: Path, loader: Callable[[Session, str], int], what: str) -> None:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {getattr(error, 'strerror', None) or 'not UTF-8 text'}")
    try:
        with session_scope(get_engine()) as db:
            stored = loader(db, text)
    except BenchmarkFileError as error:
        fail(f"{file.name}: {error}")
    click.echo(f"Loaded {stored} {what} from {file.name}.")


@benchmark_cli.command("load", cls=BadInputExitsOne)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def load_command(file: Path):
    """Load published benchmark figures (CSV: source,section,grade,percent[,plans][,la_code])."""
    _load(file, service.load_benchmark_file, "benchmark figures")


@benchmark_cli.command("neighbours", cls=BadInputExitsOne)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def neighbours_command(file: Path):
    """Load statistical neighbours (CSV: la_code,neighbour_code,rank)."""
    _load(file, service.load_neighbours_file, "statistical neighbours")


@benchmark_cli.command("context", cls=BadInputExitsOne)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def context_command(file: Path):
    """Load context figures such as DfE SEN2's (CSV: area,measure,year,value,unit,source)."""
    _load(file, service.load_context_file, "context figures")


@benchmark_cli.command("opt-in", cls=BadInputExitsOne)
@click.option("--la", "la_code", required=True, help="DfE LA code, e.g. 886")
@click.option("--off", is_flag=True, help="Stop sharing instead")
def opt_in_command(la_code: str, off: bool):
    """Share (or with --off stop sharing) an LA's grades, unnamed, in the benchmarks."""
    try:
        with session_scope(get_engine()) as db:
            la = get_by_code(db, la_code)
            service.set_benchmark_opt_in(db, la, not off)
    except AuthorityError as error:
        fail(str(error))
    click.echo(f"{la.name} {'no longer shares' if off else 'shares'} its grades in the benchmarks.")
