"""Who may see what: the one place where roles and LA boundaries are decided.

Views declare a rule with @public, @signed_in or @allow(roles...). A before_request hook enforces
it before any view runs; a view without a rule is refused outright (and a structural test fails
it), so a new route can never be open by accident. Objects are loaded through load_owned(), which
answers 404 for anything belonging to another LA, so the existence of others' data never leaks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, url_for
from sqlmodel import SQLModel, col, select

from .audits.models import Audit, AuditStatus
from .auth.models import Role, User
from .cycles.models import HELD_STATUSES, Assignment
from .db import get_session
from .trail import recorder as trail

ALL_ROLES = frozenset(Role)
RULE_ATTRIBUTE = "_access_rule"

View = TypeVar("View", bound=Callable)
Model = TypeVar("Model", bound=SQLModel)


@dataclass(frozen=True)
class AccessRule:
    roles: frozenset[Role] | None  # None: anyone, signed in or not

    @property
    def is_public(self) -> bool:
        return self.roles is None


def _with_rule(rule: AccessRule) -> Callable[[View], View]:
    def mark(view: View) -> View:
        setattr(view, RULE_ATTRIBUTE, rule)
        return view

    return mark


def public(view: View) -> View:
    return _with_rule(AccessRule(None))(view)


def signed_in(view: View) -> View:
    return _with_rule(AccessRule(ALL_ROLES))(view)


def allow(*roles: Role) -> Callable[[View], View]:
    if not roles:
        raise ValueError("allow() needs at least one role; use @signed_in for any role")
    return _with_rule(AccessRule(frozenset(roles)))


def rule_for(view: Callable) -> AccessRule | None:
    return getattr(view, RULE_ATTRIBUTE, None)


def current_user() -> User | None:
    return g.get("user")


def require_user() -> User:
    user = current_user()
    if user is None:
        abort(401)
    return user


def has_role(*roles: Role) -> bool:
    user = current_user()
    return user is not None and user.has_role(*roles)


def _enforce() -> None:
    if request.endpoint is None:
        return  # 404/405 from routing: nothing to protect
    if request.endpoint == "static":
        return
    view = current_app.view_functions[request.endpoint]
    rule = rule_for(view)
    if rule is None:
        current_app.logger.error("route %s has no access rule; refused", request.endpoint)
        abort(403)
    if rule.is_public:
        return
    user = current_user()
    if user is None:
        if g.get("session_ended"):
            abort(401)  # a cookie that no longer names a live session: replay after sign-out, timeout
        if request.method == "GET":
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        abort(401)
    if not user.role_set & rule.roles:
        current_app.logger.warning(
            "authorisation refused: user %s (%s) to %s", user.id, user.roles, request.endpoint
        )
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_enforce)


def load_owned(model: type[Model], object_id: uuid.UUID) -> Model:
    """The object if it belongs to the signed-in user's LA; 404 otherwise (ASVS 8.2.2)."""
    user = require_user()
    db = get_session()
    obj = db.get(model, object_id)
    if obj is None or getattr(obj, "la_id") != user.la_id:
        abort(404)
    trail.note_loaded(db, user, obj)  # every owned object a view is given is on the access trail
    return obj


def in_my_la(model: type[Model]):
    """A select() of model rows limited to the signed-in user's LA."""
    return select(model).where(getattr(model, "la_id") == require_user().la_id)


def blind_to(audit: Audit) -> bool:
    """Blind moderation: someone who holds an audit of a plan (first auditor or moderator) may not
    see another audit of that plan in the same cycle until both are submitted, whatever their roles.
    Views that show an audit refuse it (404) when this is true."""
    user = require_user()
    db = get_session()
    target = db.get(Assignment, audit.assignment_id)
    if target.auditor_id == user.id:
        return False
    own = db.exec(
        select(Audit.status).select_from(Assignment).outerjoin(Audit, Audit.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == target.cycle_id, Assignment.plan_id == target.plan_id,
               Assignment.auditor_id == user.id, col(Assignment.status).in_(HELD_STATUSES))
    ).all()
    if not own:
        return False
    return audit.status != AuditStatus.SUBMITTED or any(status != AuditStatus.SUBMITTED for status in own)
