"""`audit-workflow demo`: synthetic data for trying the service, safe to run again and again.

Two fictional councils in different regions, about forty staff across roles and disciplines, 600
plans whose key stages, needs and setting types follow the national mix, one closed cycle with
submitted audits and one open cycle in progress. Everything is invented; System IDs are shaped so
they can never be mistaken for a UPN or an NHS number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, select

from .auth.models import User
from .auth.service import create_user
from .authorities.models import LocalAuthority
from .authorities.service import create_local_authority
from .db import get_engine, session_scope
from .plans.models import Plan
from .plans.reference import KEY_STAGE_MIX, NATIONAL_NEED_MIX, SETTING_TYPE_MIX

DEMO_PASSWORD = "demo-password-2026"
PLANS_PER_LA = 300


@dataclass(frozen=True)
class DemoAuthority:
    code: str
    name: str
    region: str
    prefix: str


DEMO_AUTHORITIES = (
    DemoAuthority("990", "Northmoor Council (demo)", "North West", "NM"),
    DemoAuthority("991", "Southvale Council (demo)", "South East", "SV"),
)

# (role, discipline, team, how many) per LA: 20 staff each, 40 in all.
STAFF = (
    ("admin", "other", None, 1),
    ("coordinator", "education", "SEND QA", 2),
    ("manager", "other", "SEND leadership", 2),
    ("auditor", "education", "SEN North", 4),
    ("auditor", "education", "SEN South", 4),
    ("auditor", "health", "Designated Clinical Officer team", 4),
    ("auditor", "social_care", "Children with disabilities team", 3),
)
WRITER_TEAMS = ("SEN North", "SEN South", "SEN East")
SETTING_NAMES = ("Oak Primary", "Riverside Academy", "Hillside Special School", "Moor Lane College",
                 "Elm Tree Nursery", "Castle Hill Secondary", "Brookfield Primary", "Meadow View School")


def _weighted(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _email(role: str, number: int, authority: DemoAuthority) -> str:
    return f"{role}{number}@{authority.prefix.lower()}.demo.example"


def _ensure_authority(db: Session, demo: DemoAuthority) -> LocalAuthority:
    existing = db.exec(select(LocalAuthority).where(LocalAuthority.code == demo.code)).first()
    if existing:
        return existing
    return create_local_authority(db, demo.code, demo.name, demo.region, f"send.qa@{demo.prefix.lower()}.demo.example")


def _ensure_staff(db: Session, la: LocalAuthority, demo: DemoAuthority) -> None:
    counters: dict[str, int] = {}
    for role, discipline, team, count in STAFF:
        for _ in range(count):
            counters[role] = counters.get(role, 0) + 1
            email = _email(role, counters[role], demo)
            if db.exec(select(User).where(User.email == email)).first():
                continue
            create_user(db, la.id, email, f"Demo {role.replace('_', ' ')} {counters[role]}", role,
                        discipline=discipline, team=team, password=DEMO_PASSWORD)


def _ensure_plans(db: Session, la: LocalAuthority, demo: DemoAuthority) -> None:
    if db.exec(select(Plan.id).where(Plan.la_id == la.id)).first():
        return
    rng = random.Random(f"demo-plans-{demo.code}")
    for number in range(1, PLANS_PER_LA + 1):
        db.add(Plan(
            la_id=la.id,
            system_id=f"{demo.prefix}-{100000 + number}",
            key_stage=_weighted(rng, KEY_STAGE_MIX),
            primary_need=_weighted(rng, NATIONAL_NEED_MIX),
            setting_type=_weighted(rng, SETTING_TYPE_MIX),
            setting_name=rng.choice(SETTING_NAMES),
            plan_type=rng.choices(["annual_review", "new", "amended"], weights=[70, 20, 10])[0],
            writer_team=rng.choice(WRITER_TEAMS),
        ))
    db.flush()


def load_demo(db: Session) -> list[LocalAuthority]:
    authorities = []
    for demo in DEMO_AUTHORITIES:
        la = _ensure_authority(db, demo)
        _ensure_staff(db, la, demo)
        _ensure_plans(db, la, demo)
        authorities.append(la)
    return authorities


def demo_accounts() -> list[dict[str, str]]:
    """The accounts shown on the sign-in page in demo mode: one of each role in each demo LA."""
    accounts = []
    for demo in DEMO_AUTHORITIES:
        for role in ("coordinator", "auditor", "manager", "admin"):
            accounts.append({"email": _email(role, 1, demo), "description": f"{role} at {demo.name}"})
    return accounts


@click.command("demo")
@with_appcontext
def demo_command():
    """Load demonstration data (idempotent: running it again changes nothing)."""
    with session_scope(get_engine()) as db:
        authorities = load_demo(db)
    click.echo(f"Demo data ready: {', '.join(la.name for la in authorities)}.")
    click.echo(f"Sign in at {current_app.config['BASE_URL']}/sign-in with any of these (password: {DEMO_PASSWORD}):")
    for account in demo_accounts():
        click.echo(f"  {account['email']:<32} {account['description']}")
