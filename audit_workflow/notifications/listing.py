"""What the outbox, development mailbox and alerts pages list, and who may see which: everyone
sees only their own LA's messages and alerts; those of no LA (`mail test`) only admins."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..auth.models import Role, User
from .models import Alert, OutboxMessage

DEVMAIL_PREFIX = "devmail:"


def visible_messages(user: User):
    # Only admins reach the outbox: their LA's messages and those of no LA.
    return or_(OutboxMessage.la_id == user.la_id, OutboxMessage.la_id.is_(None))


def outbox_page(db: Session, user: User, status: str | None, page: int, size: int) -> list[OutboxMessage]:
    """One page of the messages the user may see, newest first, with one more than `size` when
    there is a next page."""
    query = select(OutboxMessage).where(visible_messages(user))
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.execute(
        query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).offset((page - 1) * size).limit(size + 1)
    ).scalars().all())


def visible_message(db: Session, user: User, message_id: uuid.UUID) -> OutboxMessage | None:
    return db.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id, visible_messages(user))
    ).scalar_one_or_none()


def in_dev_mailbox(message: OutboxMessage) -> bool:
    return (message.provider_id or "").startswith(DEVMAIL_PREFIX) and message.purged_at is None


def dev_mailbox(db: Session, user: User, shown: int) -> list[OutboxMessage]:
    """The newest messages the development mailbox delivered and still holds."""
    return list(db.execute(
        select(OutboxMessage)
        .where(visible_messages(user), OutboxMessage.provider_id.startswith(DEVMAIL_PREFIX),
               OutboxMessage.purged_at.is_(None))
        .order_by(OutboxMessage.sent_at.desc())
        .limit(shown)
    ).scalars().all())


def visible_alerts(user: User):
    """Coordinators: their LA's coordinator alerts. Admins: all their LA's alerts, and those of no LA."""
    own = Alert.la_id == user.la_id
    if user.has_role(Role.ADMIN):
        return or_(own, Alert.la_id.is_(None))
    return and_(own, Alert.audience == Role.COORDINATOR.value)


def open_alerts(db: Session, user: User, limit: int | None = None) -> tuple[list[Alert], int]:
    """The unresolved alerts the user may see, newest first (only the newest `limit`, when given), and how
    many there are in all: the alerts page lists them, the home page shows a few and counts the rest."""
    query = select(Alert).where(visible_alerts(user), Alert.resolved_at.is_(None))
    newest = list(db.execute(query.order_by(Alert.created_at.desc(), Alert.id).limit(limit)).scalars().all())
    if limit is None:
        return newest, len(newest)
    return newest, db.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def recently_resolved_alerts(db: Session, user: User, shown: int) -> list[Alert]:
    return list(db.execute(
        select(Alert).where(visible_alerts(user), Alert.resolved_at.is_not(None)).order_by(Alert.resolved_at.desc()).limit(shown)
    ).scalars().all())


def visible_alert(db: Session, user: User, alert_id: uuid.UUID) -> Alert | None:
    return db.execute(select(Alert).where(Alert.id == alert_id, visible_alerts(user))).scalar_one_or_none()
