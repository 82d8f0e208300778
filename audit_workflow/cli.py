"""The `audit-workflow` command: a Flask CLI group; each area adds its own commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlmodel import Session

from .db import get_engine, session_scope


class BadInputExitsOne(click.Command):
    """Click answers bad usage (a missing option, a word where a number goes) with exit status 2;
    the CLI contract says any bad input exits with 1, so scripts need check only one code."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            error.exit_code = 1
            raise


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@contextmanager
def transaction(*refused: type[Exception]) -> Iterator[Session]:
    """A session committed at the end (session_scope); one of the refused errors ends the command with its
    message and exit status 1, after the rollback."""
    try:
        with session_scope(get_engine()) as db:
            yield db
    except refused as error:
        fail(str(error))


db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
@with_appcontext
def db_upgrade():
    """Bring the database schema up to date (safe to run repeatedly)."""
    from .migrate import upgrade

    upgrade(get_engine())
    click.echo("Database is up to date.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message):
    """For developers: write a migration for model changes (autogenerate)."""
    from .migrate import make_revision

    make_revision(current_app.config["DATABASE_URL"], message)


la_cli = AppGroup("la", help="Local authorities.")


@la_cli.command("create")
@click.option("--code", required=True, help="DfE LA code, e.g. 886")
@click.option("--name", required=True)
@click.option("--region", required=True, help="One of the nine English regions (name or ONS code)")
@click.option("--contact-email", default=None, help="Shown in emails as the contact")
@with_appcontext
def la_create(code, name, region, contact_email):
    """Add a local authority."""
    from .authorities.service import AuthorityError, create_local_authority

    try:
        with session_scope(get_engine()) as db:
            la = create_local_authority(db, code, name, region, contact_email)
            click.echo(f"Created {la.name} ({la.code}).")
            click.echo(str(la.id))
    except AuthorityError as error:
        fail(str(error))


@click.command("create-user")
@click.option("--la", "la_code", required=True, help="DfE LA code")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", required=True, help="auditor, coordinator, manager or admin; several separated by commas")
@click.option("--discipline", default="other", type=click.Choice(["education", "health", "social_care", "other"]))
@click.option("--team", default=None)
@click.option("--password", default=None, help="Without it the user signs in through Microsoft Entra ID")
@with_appcontext
def create_user_command(la_code, email, name, roles, discipline, team, password):
    """Add a staff account."""
    from .auth.service import UserError, create_user
    from .authorities.service import AuthorityError, get_by_code

    try:
        with session_scope(get_engine()) as db:
            la = get_by_code(db, la_code)
            user = create_user(db, la.id, email, name, roles, discipline, team, password)
            how = "a local password" if password else "Microsoft Entra ID"
            click.echo(f"Created {user.email} ({user.roles}) in {la.name}; signs in with {how}.")
    except (UserError, AuthorityError) as error:
        fail(str(error))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", 5000)), show_default="5000 or $PORT")
@click.option("--threads", default=8, show_default=True)
@with_appcontext
def serve(host, port, threads):
    """Serve the web application, with the scheduler embedded (one machine)."""
    from waitress import serve as waitress_serve

    app = current_app._get_current_object()
    from .notifications.delivery import undelivered_warning

    if warning := undelivered_warning(app.config):
        app.logger.warning("%s: set MAIL_TRANSPORT to graph or smtp (docs/email.md)", warning)
    if app.config["SCHEDULER_EMBEDDED"]:
        from .scheduler.runner import start_embedded

        start_embedded(app)
    click.echo(f"Serving on http://{host}:{port}")
    waitress_serve(app, host=host, port=port, threads=threads, ident="audit-workflow")


def register_commands(app) -> None:
    """On app.cli, so `audit-workflow`, `flask` and the tests' runner all see the same commands."""
    from importlib import import_module

    from .areas import COMMANDS
    from .demo import demo_command

    for command in (db_cli, la_cli, create_user_command, serve, demo_command):
        app.cli.add_command(command)
    for path in COMMANDS:
        module_name, attribute = path.split(":")
        app.cli.add_command(getattr(import_module(module_name), attribute))


def _create_app():
    from . import create_app  # late: create_app() itself imports this module to add the commands

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main():
    """EHCP quality-assurance audit workflow."""

