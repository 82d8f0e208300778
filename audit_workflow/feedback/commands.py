"""`audit-workflow questionnaire check|load` and `audit-workflow feedback status CYCLE_ID [--json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from ..authorities.service import AuthorityError, get_by_code
from ..cycles.guards import CycleError
from ..cycles.lifecycle import get_cycle
from ..db import get_engine, session_scope
from . import service
from .questionnaire import (
    QuestionnaireError, check_easy_read_pairs, default_questionnaires_dir, load_questionnaire, shipped_questionnaires,
)

questionnaire_cli = AppGroup("questionnaire", help="Check or load the questionnaires families, young people and schools answer.")
feedback_cli = AppGroup("feedback", help="Feedback from families, young people and schools.")


@questionnaire_cli.command("check")
@click.argument("file", required=False, type=click.Path(path_type=Path))
def check_command(file: Path | None) -> None:
    """Check FILE (default: every shipped questionnaire) and list every problem."""
    try:
        if file is not None:
            loaded = {"": load_questionnaire(file)}
        else:
            loaded = shipped_questionnaires()
            problems = check_easy_read_pairs(loaded)
            if problems:
                raise QuestionnaireError(problems)
    except QuestionnaireError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    for questionnaire in loaded.values():
        where = file or default_questionnaires_dir() / f"{questionnaire.key}.yaml"
        click.echo(f"OK: {where} ({questionnaire.key}, version {questionnaire.version}, "
                   f"{len(questionnaire.questions)} questions)")


@questionnaire_cli.command("load")
@click.option("--la", "la_code", required=True, help="DfE LA code")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@with_appcontext
def load_command(la_code: str, file: Path) -> None:
    """Make FILE the LA's version of its questionnaire. Answers already given keep their version."""
    try:
        with session_scope(get_engine()) as db:
            la = get_by_code(db, la_code)
            row = service.load_la_questionnaire(db, la.id, file)
            click.echo(f"{la.name} now asks questionnaire {row.key} version {row.version}.")
    except QuestionnaireError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    except AuthorityError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


@feedback_cli.command("status")
@click.argument("cycle_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: invited, answered and rate by respondent type, and questions.")
@with_appcontext
def status_command(cycle_id: str, as_json: bool) -> None:
    """Response rates and answers for one cycle (small numbers withheld, no comments)."""
    try:
        with session_scope(get_engine()) as db:
            cycle = get_cycle(db, cycle_id)
            results = service.cycle_results(db, cycle, with_comments=False)
    except CycleError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(results.as_json(), indent=2))
        return
    click.echo(f"{cycle.name}")
    for rate in results.rates:
        shown = f"{rate.rate:.1%}" if rate.rate is not None else "none invited"
        click.echo(f"  {rate.respondent_type:<14} invited {rate.invited:>4}  answered {rate.answered:>4}  {shown}")
