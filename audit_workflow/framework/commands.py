"""`audit-workflow framework check [FILE]` and `framework show [--json] [--file FILE]`.

So that an LA can check its own framework file before loading it, and see exactly what it says.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from ..authorities.service import AuthorityError, get_by_code
from ..db import get_engine, session_scope
from .loader import FrameworkError, default_framework_path, framework_to_dict, load_framework
from .model import GRADES_BEST_FIRST, Framework, Grade, Rules
from .versions import FrameworkVersionError, load_la_framework

framework_cli = AppGroup(
    "framework", help="Check or show a grading framework: the criteria auditors tick and the grading rules."
)


@framework_cli.command("check")
@click.argument("file", required=False, type=click.Path(path_type=Path))
def check_command(file: Path | None) -> None:
    """Check FILE (default: the shipped framework) and list every problem."""
    path = _file_or_default(file)
    framework = _load_or_exit(path)
    click.echo(
        f"OK: {path} (version {framework.version}, {len(framework.sections)} sections, "
        f"{framework.criteria_count} criteria)"
    )


@framework_cli.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the framework as JSON, in the file's own layout.")
@click.option("--file", type=click.Path(path_type=Path), help="Framework file (default: the shipped one).")
def show_command(as_json: bool, file: Path | None) -> None:
    """Print a framework: its rules, then each section's criteria by band."""
    framework = _load_or_exit(_file_or_default(file))
    if as_json:
        click.echo(json.dumps(framework_to_dict(framework), indent=2, ensure_ascii=False))
    else:
        click.echo(describe(framework))


def describe(framework: Framework) -> str:
    lines = [f"{framework.name}, version {framework.version}", "", "Rules", *_describe_rules(framework.rules)]
    for section in framework.sections:
        applies = "always applies" if section.applicable_always else "can be not applicable"
        lines += ["", f"{section.code}  {section.title} (weight {section.weight}, {applies})"]
        for band, criteria in section.bands.items():
            lines.append(f"  {band.label}" + (" (* core)" if any(c.core for c in criteria) else ""))
            lines += [f"  {'*' if c.core else ' '} {c.id:<9} {c.text}" for c in criteria]
    return "\n".join(lines)


def _describe_rules(rules: Rules) -> list[str]:
    blocking = " and no Requires improvement criterion ticked" if rules.requires_improvement_blocks_good else ""
    scores = ", ".join(f"{grade.label} {rules.scores[grade]:g}" for grade in GRADES_BEST_FIRST)
    thresholds = ", ".join(f"{grade.label} from {threshold:g}" for grade, threshold in rules.thresholds.items())
    limiting = " or ".join(rules.limiting_sections)
    lines = [
        "  Section: any Inadequate criterion ticked makes it Inadequate. Good needs every core Good criterion, "
        f"at least {rules.good_minimum} Good criteria{blocking}. Outstanding needs Good and at least "
        f"{rules.outstanding_minimum} Outstanding criteria. Otherwise Requires improvement.",
        f"  Overall: weighted mean of section scores ({scores}), leaving out Not applicable sections; "
        f"{thresholds}, otherwise {Grade.INADEQUATE.label}.",
    ]
    if rules.limiting_sections:
        lines.append(f"  Limit: an Inadequate {limiting} caps the overall grade at {rules.limiting_cap.label}.")
    return lines


def _file_or_default(file: Path | None) -> Path:
    """The given file, or the shipped default (shown relative to the working directory when inside it)."""
    if file is not None:
        return file
    default = default_framework_path()
    return default.relative_to(Path.cwd()) if default.is_relative_to(Path.cwd()) else default


@framework_cli.command("load")
@click.option("--la", "la_code", required=True, help="DfE LA code")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@with_appcontext
def load_command(la_code: str, file: Path) -> None:
    """Make FILE the LA's active framework. Audits already graded keep the version they used."""
    _load_or_exit(file)  # every problem listed, before anything is stored
    try:
        with session_scope(get_engine()) as db:
            la = get_by_code(db, la_code)
            row = load_la_framework(db, la.id, file)
            click.echo(f"{la.name} now grades new audits with framework version {row.version}.")
    except (AuthorityError, FrameworkVersionError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


def _load_or_exit(path: Path) -> Framework:
    try:
        return load_framework(path)
    except FrameworkError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
