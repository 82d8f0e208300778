"""Noting accesses during a request, and writing them once the response is ready.

access.load_owned() notes every owned object it hands to a view (a read on GET, a change on any
other method); auth notes sign-in and sign-out; views note exports. The notes are written after
the request, in a transaction of their own, and only for a response that succeeded (below 400):
a refused or failed request showed nothing and changed nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Response, current_app, g, has_request_context, request
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

from ..auth.models import User
from ..clock import utcnow
from ..cycles.models import Assignment
from ..db import SAFE_METHODS, describe_error, get_engine
from ..plans.models import Plan
from .models import AccessEvent, TrailAction

PENDING_KEY = "trail_pending"


@dataclass(frozen=True)
class Note:
    """Plain values, taken when noted: the request's objects may be expired by the time it is written."""

    action: TrailAction
    user_id: uuid.UUID | None
    user_email: str | None
    object_kind: str | None = None
    object_id: uuid.UUID | None = None
    system_id: str | None = None
    la_id: uuid.UUID | None = None


def system_id_of(db: Session, obj: SQLModel) -> str | None:
    """The System ID of the plan an object is about: a plan, anything with a plan_id (assignment,
    action, sample entry), or anything with an assignment_id (audit); None for the rest (a cycle)."""
    if isinstance(obj, Plan):
        return obj.system_id
    plan_id = getattr(obj, "plan_id", None)
    if plan_id is None and getattr(obj, "assignment_id", None) is not None:
        plan_id = db.get(Assignment, obj.assignment_id).plan_id
    plan = db.get(Plan, plan_id) if plan_id else None
    return plan.system_id if plan else None


def note(action: TrailAction, user: User | None, obj: SQLModel | None = None, *, db: Session | None = None,
         object_kind: str | None = None, system_id: str | None = None) -> None:
    """Note one access in this request, to be written after it (no-op outside a request)."""
    if not has_request_context():
        return
    if obj is not None:
        object_kind = object_kind or obj.__tablename__
        if system_id is None and db is not None:
            system_id = system_id_of(db, obj)
    g.setdefault(PENDING_KEY, []).append(Note(
        action, user.id if user else None, user.email if user else None, object_kind, getattr(obj, "id", None), system_id, getattr(obj, "la_id", None) or (user.la_id if user else None)))


def note_loaded(db: Session, user: User, obj: SQLModel) -> None:
    """access.load_owned's hook: a read on a safe method, a change otherwise."""
    note(TrailAction.READ if request.method in SAFE_METHODS else TrailAction.CHANGE, user, obj, db=db)


def write_pending(response: Response) -> Response:
    """after_request (registered by the trail's blueprint): write this request's notes."""
    notes: list[Note] = g.pop(PENDING_KEY, [])
    if not notes or response.status_code >= 400:
        return response
    at = utcnow()
    rows = [dict(id=uuid.uuid4(), at=at, la_id=item.la_id, user_id=item.user_id, user_email=item.user_email,
                 action=item.action, object_kind=item.object_kind, object_id=item.object_id, system_id=item.system_id,
                 path=request.path[:300], client_ip=(request.remote_addr or "")[:45] or None) for item in notes]
    if "db_session" in g:
        # End the request's transaction first: its work is committed or abandoned by now, and on
        # SQLite it may hold the write lock the trail is about to need.
        g.db_session.rollback()
    try:
        # A plain INSERT in a transaction of its own: this runs after every page that shows an
        # owned object, and the ORM's unit of work would cost more than the insert itself.
        with get_engine().execution_options(sqlite_immediate=True).begin() as connection:
            connection.execute(insert(AccessEvent.__table__), rows)
    except SQLAlchemyError as error:
        # The page has been built already; refusing it now would not undo what was seen.
        current_app.logger.error("access trail not written for %s: %s", request.path, describe_error(error))
    return response

