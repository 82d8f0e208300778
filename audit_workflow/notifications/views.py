"""Email for the people who look after it: the outbox and the development mailbox (admins), and
alerts about messages that could not be sent (coordinators and admins), plus the mail part of
/healthz.

Everyone sees only their own LA's messages and alerts; messages and alerts that belong to no LA
(`mail test`) only admins. Message bodies are shown only in the development mailbox: in the outbox
they may hold a family's single-use feedback link, which is theirs alone.
"""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, abort, current_app, render_template, request, url_for

from ..access import allow, require_user
from ..auth.models import Role
from ..clock import utcnow
from ..db import get_session
from ..web import navigation
from ..web.changes import Done, apply_change
from ..web.contributions import HEALTH_CHECKS, HOME_PANELS, HomePanel
from . import listing, service
from .catalogue import message_kind
from .delivery import undelivered_warning
from .models import MessageStatus, OutboxMessage

bp = Blueprint("notifications", __name__, template_folder="templates")

PAGE_SIZE = 50
# Far past any real outbox; a larger page number would overflow the database's OFFSET (a 500).
MAX_PAGE = 100_000
DEVMAIL_SHOWN = 100
RECENTLY_RESOLVED_SHOWN = 20
HOME_ALERTS_SHOWN = 3

navigation.register("Email alerts", "notifications.alerts", (Role.COORDINATOR, Role.ADMIN),
                    "Emails that could not be sent", order=70)
navigation.register("Outbox", "notifications.outbox", (Role.ADMIN,),
                    "Every email the service sends, and what became of it", order=80)


def mail_health() -> dict:
    config = current_app.config
    return service.health(get_session(), config["MAIL_TRANSPORT"], utcnow(), undelivered_warning(config))


HEALTH_CHECKS["mail"] = mail_health


def alerts_panel(user: User) -> HomePanel | None:
    """Emails that failed or were blocked, for the coordinators and admins who can put them right."""
    if not user.has_role(Role.COORDINATOR, Role.ADMIN):
        return None
    newest, total = listing.open_alerts(get_session(), user, limit=HOME_ALERTS_SHOWN)
    if not total:
        return None
    items = [(alert.message, url_for("notifications.alerts")) for alert in newest]
    if total > len(newest):
        items.append((f"and {total - len(newest)} more", url_for("notifications.alerts")))
    return HomePanel("Emails that need your attention", items)


HOME_PANELS["alerts"] = alerts_panel


@bp.context_processor
def template_helpers():
    return {"recipient_role": recipient_role, "recipients_of": recipients_of,
            "can_retry": service.can_retry, "can_cancel": service.can_cancel}


def recipient_role(message: OutboxMessage) -> str:
    return message_kind(message.kind).audience


def recipients_of(message: OutboxMessage) -> list[str]:
    return json.loads(message.recipients)


# --- Outbox ----------------------------------------------------------------------------------------


@bp.get("/outbox")
@allow(Role.ADMIN)
def outbox():
    db = get_session()
    status = request.args.get("status")
    if status not in set(MessageStatus):
        status = None
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)
    rows = listing.outbox_page(db, require_user(), status, page, PAGE_SIZE)
    return render_template(
        "notifications/outbox.html",
        messages=rows[:PAGE_SIZE],
        counts=service.status_counts(db, listing.visible_messages(require_user())),
        statuses=list(MessageStatus),
        status=status,
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        transport=current_app.config["MAIL_TRANSPORT"],
        undelivered=undelivered_warning(current_app.config),
    )


@bp.get("/outbox/<uuid:message_id>")
@allow(Role.ADMIN)
def message(message_id: uuid.UUID):
    return _message_page(_visible_message(message_id))


@bp.post("/outbox/<uuid:message_id>/retry")
@allow(Role.ADMIN)
def retry(message_id: uuid.UUID):
    outbox_message = _visible_message(message_id)
    return _change_message(outbox_message, lambda db: service.retry_message(db, outbox_message, require_user(), utcnow()),
                "The email will be sent again.")


@bp.post("/outbox/<uuid:message_id>/cancel")
@allow(Role.ADMIN)
def cancel(message_id: uuid.UUID):
    outbox_message = _visible_message(message_id)
    return _change_message(outbox_message, lambda db: service.cancel_message(db, outbox_message), "The email was cancelled.")


def _change_message(outbox_message: OutboxMessage, action, done: str):
    """Retry or cancel: a message no longer in a state that allows it is a 409 saying why."""
    def change(db) -> Done:
        action(db)
        return Done(url_for("notifications.message", message_id=outbox_message.id), done)

    return apply_change(change, refused=service.OutboxActionRefused,
                        when_refused=lambda refusal: _message_page(outbox_message, refusal=str(refusal), status=409))


def _message_page(outbox_message: OutboxMessage, refusal: str | None = None, status: int = 200):
    return render_template(
        "notifications/message.html",
        message=outbox_message,
        refusal=refusal,
        in_dev_mailbox=_in_dev_mailbox(outbox_message),
    ), status


def _visible_message(message_id: uuid.UUID) -> OutboxMessage:
    found = listing.visible_message(get_session(), require_user(), message_id)
    if found is None:
        abort(404)
    return found


# --- Development mailbox -------------------------------------------------------------------------


def _dev_mailbox_refused():
    """Outside demo mode the development mailbox is closed: it would show real people's email."""
    return render_template(
        "web/page.html", heading="The development mailbox is only open in demo mode",
        paragraphs=["It shows the content of every email the service has sent, so it is open only while the "
                    "service runs in demo mode (AUDIT_WORKFLOW_DEMO_MODE=true, as `make run` sets it). "
                    "Look at the outbox for what was sent and to whom."],
    )


def _in_dev_mailbox(outbox_message: OutboxMessage) -> bool:
    return current_app.config["DEMO_MODE"] and listing.in_dev_mailbox(outbox_message)


@bp.get("/dev/mailbox")
@allow(Role.ADMIN)
def dev_mailbox():
    if not current_app.config["DEMO_MODE"]:
        return _dev_mailbox_refused()
    return render_template("notifications/dev_mailbox.html", messages=listing.dev_mailbox(get_session(), require_user(), DEVMAIL_SHOWN),
                           transport=current_app.config["MAIL_TRANSPORT"], shown=DEVMAIL_SHOWN)


@bp.get("/dev/mailbox/<uuid:devmail_id>")
@allow(Role.ADMIN)
def dev_mailbox_message(devmail_id: uuid.UUID):
    delivered = _visible_message(devmail_id)
    if not current_app.config["DEMO_MODE"]:
        return _dev_mailbox_refused()
    if not _in_dev_mailbox(delivered):
        abort(404)
    return render_template("notifications/dev_message.html", message=delivered)


# --- Alerts ------------------------------------------------------------------------------------------


@bp.get("/alerts")
@allow(Role.COORDINATOR, Role.ADMIN)
def alerts():
    db = get_session()
    user = require_user()
    open_now, _ = listing.open_alerts(db, user)
    return render_template("notifications/alerts.html", open_alerts=open_now,
                           resolved=listing.recently_resolved_alerts(db, user, RECENTLY_RESOLVED_SHOWN),
                           is_admin=user.has_role(Role.ADMIN))


@bp.post("/alerts/<uuid:alert_id>/resolve")
@allow(Role.COORDINATOR, Role.ADMIN)
def resolve_alert(alert_id: uuid.UUID):
    alert = listing.visible_alert(get_session(), require_user(), alert_id)
    if alert is None:
        abort(404)

    def resolve(db) -> Done:
        service.resolve_alert(db, alert, require_user(), utcnow())
        return Done(url_for("notifications.alerts"), "Alert marked as resolved.")

    return apply_change(resolve)
