"""Staff accounts: create, disable; the sign-in rate limit."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlmodel import Session, col, select

from ..rate_limit import service as rate_limit
from ..rate_limit.rules import Limit
from ..refusals import Refused
from .models import Discipline, Role, User
from .passwords import hash_password, password_problem
from .sessions import end_all_sessions

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(Refused):
    """A user account the rules refuse: an unknown role, a bad or taken email address."""


def parse_roles(roles: str | list[str]) -> str:
    values = roles.split(",") if isinstance(roles, str) else roles
    cleaned = sorted({value.strip().lower() for value in values if value.strip()})
    unknown = [value for value in cleaned if value not in {role.value for role in Role}]
    if unknown or not cleaned:
        raise UserError(f"Role must be one or more of {', '.join(r.value for r in Role)}; got {', '.join(unknown) or 'none'}")
    return ",".join(cleaned)


def create_user(
    db: Session,
    la_id: uuid.UUID,
    email: str,
    display_name: str,
    roles: str | list[str],
    discipline: str = Discipline.OTHER,
    team: str | None = None,
    password: str | None = None,
) -> User:
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise UserError(f"{email!r} is not an email address")
    if discipline not in {d.value for d in Discipline}:
        raise UserError(f"Discipline must be one of {', '.join(d.value for d in Discipline)}")
    if db.exec(select(User).where(User.email == email)).first():
        raise UserError(f"A user with email {email} already exists")
    if password is not None and (problem := password_problem(password)):
        raise UserError(problem)
    user = User(
        la_id=la_id,
        email=email,
        display_name=display_name.strip() or email,
        roles=parse_roles(roles),
        discipline=discipline,
        team=(team or "").strip() or None,
        password_hash=hash_password(password) if password else None,
    )
    db.add(user)
    db.flush()
    return user


def set_active(db: Session, user: User, active: bool) -> None:
    user.active = active
    db.add(user)
    if not active:
        end_all_sessions(db, user, reason="user_disabled")


def active_users_with_role(db: Session, la_id: uuid.UUID, role: Role) -> list[User]:
    """The LA's active users who hold the role, by email (so emails to them list them alike each time)."""
    candidates = db.exec(select(User).where(User.la_id == la_id, User.active, col(User.roles).contains(role.value))).all()
    # roles is a comma-separated list: the SQL filter narrows, has_role decides exactly.
    return sorted((user for user in candidates if user.has_role(role)), key=lambda user: user.email)


def user_by_email(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(User.email == email)).first()


def user_by_entra_object_id(db: Session, object_id: str) -> User | None:
    return db.exec(select(User).where(User.entra_object_id == object_id)).first()


# --- Sign-in rate limit (ASVS 2.4.1, 6.6.3) ---------------------------------------------------


@dataclass(frozen=True)
class SignInLimits:
    """Failed sign-ins allowed within the window, counted per account and per client address apart.

    The account limit stops guessing one person's password. The address limit stops one address
    trying many accounts, and is far higher because a council's staff often share one address
    (its proxy): one person's ten mistakes must not lock their colleagues out."""

    per_account: int
    per_address: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "SignInLimits":
        return cls(per_account=settings["SIGNIN_MAX_ATTEMPTS"], per_address=settings["SIGNIN_MAX_ATTEMPTS_PER_ADDRESS"],
                   window=timedelta(minutes=settings["SIGNIN_WINDOW_MINUTES"]))

    def checks(self, email: str, address: str | None) -> list[rate_limit.Check]:
        return [(Limit("signin-account", self.per_account, self.window), email.strip().lower()),
                (Limit("signin-address", self.per_address, self.window), address or "unknown")]


def sign_in_throttled(db: Session, email: str, address: str | None, limits: SignInLimits, now: datetime) -> bool:
    """True when the account or the address has used up its failed attempts within the window."""
    return rate_limit.any_used_up(db, limits.checks(email, address), now)


def record_failed_sign_in(db: Session, email: str, address: str | None, limits: SignInLimits, now: datetime) -> None:
    rate_limit.record(db, limits.checks(email, address), now)
