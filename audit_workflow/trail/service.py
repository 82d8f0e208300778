"""Reading the access trail, and the retention purge (the only way rows ever leave it)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from ..refusals import Refused
from .models import PURGE_SETTING, AccessEvent

# A page or an export shows at most this many events, newest first; the count says if there were more.
LIMIT = 2000


class TrailError(Refused):
    """A question the trail cannot answer as asked; the message says why."""


def accesses_to_plan(db: Session, la_id: uuid.UUID, system_id: str, limit: int = LIMIT) -> tuple[list[AccessEvent], int]:
    """Every recorded read and change of the LA's plan with this System ID (of the plan itself, its
    assignments, audits and actions), newest first, and how many there are in all."""
    system_id = (system_id or "").strip()
    if not system_id:
        raise TrailError("Enter a System ID")
    where = (AccessEvent.la_id == la_id, AccessEvent.system_id == system_id)
    total = db.exec(select(func.count()).select_from(AccessEvent).where(*where)).one()
    events = db.exec(select(AccessEvent).where(*where).order_by(col(AccessEvent.at).desc(), AccessEvent.id).limit(limit)).all()
    return list(events), total


def as_json(event: AccessEvent) -> dict:
    return {
        "at": event.at.isoformat(), "user_id": str(event.user_id) if event.user_id else None, "user_email": event.user_email,
        "action": event.action, "object_kind": event.object_kind, "object_id": str(event.object_id) if event.object_id else None,
        "system_id": event.system_id, "path": event.path, "client_ip": event.client_ip,
    }


def purge_expired(db: Session, now: datetime, retention_days: int) -> int:
    """Delete events older than the retention period; the number deleted."""
    if retention_days < 1:
        raise TrailError("The access trail's retention must be at least 1 day")
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"SET LOCAL {PURGE_SETTING} = 'on'"))  # the trigger lets this transaction delete
    result = db.execute(delete(AccessEvent).where(AccessEvent.at < now - timedelta(days=retention_days)))
    return result.rowcount
