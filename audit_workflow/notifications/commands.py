"""`audit-workflow mail test` and `audit-workflow mail dispatch`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..clock import utcnow
from ..db import get_engine, session_scope
from .delivery import delivery_from_config
from .dispatcher import JOB_MAX_SECONDS, dispatch_due, send_now
from .models import MessageStatus, OutboxMessage
from .service import queue_test_message, unsent_counts

mail_cli = AppGroup("mail", help="Email: test the transport, send what is queued.")


@mail_cli.command("test")
@click.option("--to", "address", required=True, help="Who should receive the test email")
@with_appcontext
def mail_test(address):
    """Send a test email now, through the configured transport, and say what happened."""
    if "@" not in address.strip(" @"):
        raise click.BadParameter("enter an email address, like name@example.gov.uk", param_hint="--to")
    config = current_app.config
    engine = get_engine()
    delivery = delivery_from_config(config)
    click.echo(f"Sending a test email through {delivery.transport.describe()}.")
    with session_scope(engine) as db:
        message_id = queue_test_message(db, address.strip(), config, delivery.transport.describe(), utcnow())
    send_now(engine, config, message_id, delivery=delivery)
    with session_scope(engine) as db:
        message = db.get(OutboxMessage, message_id)
    if message.status == MessageStatus.SENT:
        click.echo(f"Sent (provider reference {message.provider_id}).")
        return
    click.echo(f"Not sent: {message.status.replace('_', ' ')}. {message.last_error or ''}".rstrip(), err=True)
    if message.status == MessageStatus.RETRYING:
        click.echo("The dispatcher will try again; cancel it in the outbox if you do not want it.", err=True)
    sys.exit(1)


@mail_cli.command("dispatch")
@click.option("--until-empty", is_flag=True,
              help="Keep going, waiting for the rate limit and for retries, until nothing is queued or retrying")
@with_appcontext
def mail_dispatch(until_empty):
    """Send the queued email that is due, in the foreground (the scheduler does this every few seconds)."""
    counts = dispatch_due(
        get_engine(), current_app.config, until_empty=until_empty, max_seconds=None if until_empty else JOB_MAX_SECONDS
    )
    if not counts:
        click.echo("No email was due.")
    for status, count in sorted(counts.items()):
        click.echo(f"{status}: {count}")
    with session_scope(get_engine()) as db:
        left = unsent_counts(db)
    if not left:
        click.echo("Nothing is left to send.")
        return
    click.echo("Left unsent: " + ", ".join(f"{count} {status}" for status, count in sorted(left.items())),
               err=until_empty)
    if until_empty:  # queued meanwhile by someone else; say so to whoever waits for an empty outbox
        sys.exit(1)
