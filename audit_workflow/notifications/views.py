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

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import and_, or_, select

from ..access import allow, require_user
from ..auth.models import Role, User
from ..clock import england_time, utcnow
from ..db import get_session
from ..web import navigation
from ..web.contributions import HEALTH_CHECKS, HOME_PANELS, HomePanel
from . import service
from .catalogue import message_kind
from .delivery import undelivered_warning
from .models import Alert, MessageStatus, OutboxMessage

bp = Blueprint("notifications", __name__, template_folder="templates")

PAGE_SIZE = 50
# Far past any real outbox; a larger page number would overflow the database's OFFSET (a 500).
MAX_PAGE = 100_000
DEVMAIL_SHOWN = 100
RECENTLY_RESOLVED_SHOWN = 20
HOME_ALERTS_SHOWN = 3

STATUS_TAGS = {
    MessageStatus.QUEUED: ("Queued", "govuk-tag--grey"),
    MessageStatus.SENDING: ("Sending", "govuk-tag--light-blue"),
    MessageStatus.RETRYING: ("Retrying", "govuk-tag--yellow"),
    MessageStatus.SENT: ("Sent", "govuk-tag--green"),
    MessageStatus.PERMANENT_FAILURE: ("Refused", "govuk-tag--red"),
    MessageStatus.TECHNICAL_FAILURE: ("Failed", "govuk-tag--red"),
    MessageStatus.BLOCKED: ("Blocked", "govuk-tag--orange"),
    MessageStatus.CANCELLED: ("Cancelled", "govuk-tag--grey"),
}

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
    newest, total = service.open_alerts(get_session(), _visible_alerts(user), limit=HOME_ALERTS_SHOWN)
    if not total:
        return None
    items = [(alert.message, url_for("notifications.alerts")) for alert in newest]
    if total > len(newest):
        items.append((f"and {total - len(newest)} more", url_for("notifications.alerts")))
    return HomePanel("Emails that need your attention", items)


HOME_PANELS["alerts"] = alerts_panel


@bp.context_processor
def template_helpers():
    return {"message_tag": message_tag, "recipient_role": recipient_role, "recipients_of": recipients_of,
            "england_time": england_time, "can_retry": service.can_retry, "can_cancel": service.can_cancel}


def message_tag(status: str) -> dict:
    text, classes = STATUS_TAGS[MessageStatus(status)]
    return {"text": text, "classes": classes}


def recipient_role(message: OutboxMessage) -> str:
    return message_kind(message.kind).audience


def recipients_of(message: OutboxMessage) -> list[str]:
    return json.loads(message.recipients)


# --- Outbox ----------------------------------------------------------------------------------------


@bp.get("/outbox")
@allow(Role.ADMIN)
def outbox():
    db = get_session()
    visible = _visible_messages(require_user())
    status = request.args.get("status")
    if status not in STATUS_TAGS:
        status = None
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)
    query = select(OutboxMessage).where(visible)
    if status:
        query = query.where(OutboxMessage.status == status)
    rows = db.execute(
        query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).scalars().all()
    return render_template(
        "notifications/outbox.html",
        messages=rows[:PAGE_SIZE],
        counts=service.status_counts(db, visible),
        statuses=list(STATUS_TAGS),
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
    return _act(outbox_message, lambda db: service.retry_message(db, outbox_message, require_user(), utcnow()),
                "The email will be sent again.")


@bp.post("/outbox/<uuid:message_id>/cancel")
@allow(Role.ADMIN)
def cancel(message_id: uuid.UUID):
    outbox_message = _visible_message(message_id)
    return _act(outbox_message, lambda db: service.cancel_message(db, outbox_message), "The email was cancelled.")


def _act(outbox_message: OutboxMessage, action, done: str):
    db = get_session()
    try:
        action(db)
    except service.OutboxActionRefused as refusal:
        db.rollback()
        return _message_page(outbox_message, refusal=str(refusal), status=409)
    db.commit()
    flash(done)
    return redirect(url_for("notifications.message", message_id=outbox_message.id))


def _message_page(outbox_message: OutboxMessage, refusal: str | None = None, status: int = 200):
    return render_template(
        "notifications/message.html",
        message=outbox_message,
        refusal=refusal,
        in_dev_mailbox=_in_dev_mailbox(outbox_message),
    ), status


def _visible_messages(user: User):
    # Only admins reach the outbox: their LA's messages and those of no LA.
    return or_(OutboxMessage.la_id == user.la_id, OutboxMessage.la_id.is_(None))


def _visible_message(message_id: uuid.UUID) -> OutboxMessage:
    found = get_session().execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id, _visible_messages(require_user()))
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    return found


# --- Development mailbox -------------------------------------------------------------------------


def _in_dev_mailbox(outbox_message: OutboxMessage) -> bool:
    return (current_app.config["DEMO_MODE"] and (outbox_message.provider_id or "").startswith("devmail:")
            and outbox_message.purged_at is None)


def _dev_mailbox_refused():
    """Outside demo mode the development mailbox is closed: it would show real people's email."""
    return render_template(
        "web/page.html", heading="The development mailbox is only open in demo mode",
        paragraphs=["It shows the content of every email the service has sent, so it is open only while the "
                    "service runs in demo mode (AUDIT_WORKFLOW_DEMO_MODE=true, as `make run` sets it). "
                    "Look at the outbox for what was sent and to whom."],
    )


@bp.get("/dev/mailbox")
@allow(Role.ADMIN)
def dev_mailbox():
    if not current_app.config["DEMO_MODE"]:
        return _dev_mailbox_refused()
    delivered = get_session().execute(
        select(OutboxMessage)
        .where(_visible_messages(require_user()), OutboxMessage.provider_id.startswith("devmail:"),
               OutboxMessage.purged_at.is_(None))
        .order_by(OutboxMessage.sent_at.desc())
        .limit(DEVMAIL_SHOWN)
    ).scalars().all()
    return render_template("notifications/dev_mailbox.html", messages=delivered,
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
    visible = _visible_alerts(require_user())
    open_alerts = db.execute(
        select(Alert).where(visible, Alert.resolved_at.is_(None)).order_by(Alert.created_at.desc())
    ).scalars().all()
    resolved = db.execute(
        select(Alert).where(visible, Alert.resolved_at.is_not(None)).order_by(Alert.resolved_at.desc()).limit(RECENTLY_RESOLVED_SHOWN)
    ).scalars().all()
    return render_template("notifications/alerts.html", open_alerts=open_alerts, resolved=resolved,
                           is_admin=require_user().has_role(Role.ADMIN))


@bp.post("/alerts/<uuid:alert_id>/resolve")
@allow(Role.COORDINATOR, Role.ADMIN)
def resolve_alert(alert_id: uuid.UUID):
    db = get_session()
    alert = db.execute(select(Alert).where(Alert.id == alert_id, _visible_alerts(require_user()))).scalar_one_or_none()
    if alert is None:
        abort(404)
    service.resolve_alert(db, alert, require_user(), utcnow())
    db.commit()
    flash("Alert marked as resolved.")
    return redirect(url_for("notifications.alerts"))


def _visible_alerts(user: User):
    """Coordinators: their LA's coordinator alerts. Admins: all their LA's alerts, and those of no LA."""
    own = Alert.la_id == user.la_id
    if user.has_role(Role.ADMIN):
        return or_(own, Alert.la_id.is_(None))
    return and_(own, Alert.audience == Role.COORDINATOR.value)
