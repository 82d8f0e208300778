"""Server-side sessions behind Flask's signed cookie (ASVS 7.2-7.4).

The cookie carries a 256-bit random token; the database keeps only its SHA-256. A session ends on
sign-out, after the idle or absolute timeout, and when its user is disabled, and an ended token
is never accepted again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import Flask, current_app, g, session
from sqlmodel import Session, col, select, update

from ..authorities.models import LocalAuthority
from ..clock import utcnow
from ..db import get_session
from ..trail import recorder as trail
from ..trail.models import TrailAction
from .models import User, UserSession

SESSION_TOKEN_KEY = "sid"
# Writing last_seen_at on every request would make each page view a database write.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def start_session(db: Session, user: User, method: str) -> None:
    """Sign the user in with a brand-new session id; anything in the old cookie is dropped."""
    session.clear()
    token = secrets.token_urlsafe(32)
    db.add(UserSession(token_hash=_hash(token), user_id=user.id, method=method))
    user.last_signed_in_at = utcnow()
    db.add(user)
    db.commit()
    session[SESSION_TOKEN_KEY] = token
    session.permanent = True
    trail.note(TrailAction.SIGN_IN, user)


def end_session(db: Session, reason: str = "signed_out") -> None:
    token = session.get(SESSION_TOKEN_KEY)
    if token:
        db.exec(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )
        db.commit()
        trail.note(TrailAction.SIGN_OUT, g.get("user"))
    session.clear()


def end_all_sessions(db: Session, user: User, reason: str) -> None:
    """Used when a user is disabled (ASVS 7.4.2)."""
    db.exec(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def _why_ended(record: UserSession, user: User | None) -> str | None:
    now = utcnow()
    config = current_app.config
    if record.ended_at is not None:
        return record.end_reason or "ended"
    if user is None or not user.active:
        return "user_disabled"
    if now - record.created_at > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        return "absolute_timeout"
    if now - record.last_seen_at > timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        return "idle_timeout"
    return None


def load_user() -> None:
    """before_request: put the signed-in user on g, or mark the cookie's session as ended."""
    g.user = None
    token = session.get(SESSION_TOKEN_KEY)
    if not token:
        return
    db = get_session()
    # The session, its user and the user's LA (which every page's layout names) in one query.
    record, user, la = db.exec(
        select(UserSession, User, LocalAuthority).outerjoin(User, User.id == UserSession.user_id)
        .outerjoin(LocalAuthority, LocalAuthority.id == User.la_id).where(UserSession.token_hash == _hash(token))
    ).first() or (None, None, None)
    reason = "unknown" if record is None else _why_ended(record, user)
    # End the read before any write: on SQLite a transaction that has read cannot wait for the write
    # lock (it fails at once if another writer is busy), and a request that may write takes the lock
    # with its first statement, which should be the view's, not this lookup's.
    db.commit()
    if reason:
        if record is not None and record.ended_at is None:
            # Writes here are their transaction's first statement, so they wait their turn for the lock.
            db.execute(update(UserSession).where(UserSession.id == record.id, col(UserSession.ended_at).is_(None))
                       .values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False))
            db.commit()
        session.clear()
        g.session_ended = reason
        return
    now = utcnow()
    if now - record.last_seen_at > LAST_SEEN_GRANULARITY:
        db.execute(update(UserSession).where(UserSession.id == record.id, UserSession.last_seen_at < now)
                   .values(last_seen_at=now).execution_options(synchronize_session=False))
        db.commit()
    g.user = user
    g.user_la = la


def signed_in_la() -> LocalAuthority | None:
    """The signed-in user's LA, read with their session on this request."""
    return g.get("user_la")


def init_app(app: Flask) -> None:
    app.before_request(load_user)
