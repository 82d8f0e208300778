"""`audit-workflow demo`: synthetic data for trying the service, safe to run again and again.

Two fictional councils in different regions, about forty staff across roles and disciplines, 600
plans whose key stages, needs and setting types follow the national mix, one closed cycle with
submitted audits and one open cycle in progress. Everything is invented; System IDs are shaped so
they can never be mistaken for a UPN or an NHS number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, select

from .actions.demo import ensure_actions
from .audits.service import save_section, start_audit, submit_audit
from .auth.models import Role, User
from .auth.service import create_user
from .authorities.models import LocalAuthority
from .authorities.service import create_local_authority
from .clock import today
from .cycles.allocating import allocate_cycle
from .cycles.auditor_pool import add_auditors_by_email
from .cycles.lifecycle import CycleSettings, close_cycle, create_cycle, open_cycle
from .cycles.models import Assignment, AuditCycle
from .cycles.plan_sample import draw_sample
from .db import get_engine, session_scope
from .feedback.demo import ensure_feedback_demo
from .framework import Band, Section
from .framework.versions import configured_framework_file, framework_for_audit
from .notifications.staff_mail import StaffMail
from .moderation.demo import moderate_demo_cycle
from .plans.models import Plan
from .plans.reference import KEY_STAGE_MIX, NATIONAL_NEED_MIX, SETTING_TYPE_MIX
from .reports.demo import load_reports_demo
from .reports.cycle_report.demo import load_cycle_report_demo

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

# Where a child of each key stage can be placed, and the settings' names by type and phase, so a
# demo plan reads like a real one: a special school is called one, and a primary school has no
# post-16 pupils. (Phases: early years, 5 to 11, 11 to 16, post-16, post-19; special schools take
# every age, and a reception class is in a primary school.)
PHASE_OF_STAGE = {"EYFS": "early", "KS1": "primary", "KS2": "primary", "KS3": "secondary", "KS4": "secondary",
                  "KS5": "post16", "POST19": "post19"}
SETTING_TYPES_BY_PHASE = {
    "early": ("early_years", "mainstream_maintained", "mainstream_academy_free", "special_maintained",
              "special_academy_free", "other"),
    "primary": ("mainstream_maintained", "mainstream_academy_free", "mainstream_resourced_provision",
                "mainstream_independent", "special_maintained", "special_academy_free",
                "special_independent_non_maintained", "ap_pru", "ehe", "ola_arrangements", "opa_arrangements",
                "other"),
    "secondary": ("mainstream_maintained", "mainstream_academy_free", "mainstream_resourced_provision",
                  "mainstream_independent", "special_maintained", "special_academy_free",
                  "special_independent_non_maintained", "ap_pru", "ehe", "ola_arrangements", "opa_arrangements",
                  "not_in_education", "other", "unknown"),
    "post16": ("mainstream_academy_free", "special_maintained", "special_academy_free",
               "special_independent_non_maintained", "post16_fe_college", "post16_specialist", "post16_other_provider",
               "neet", "not_in_education", "unknown"),
    "post19": ("post16_fe_college", "post16_specialist", "post16_other_provider", "neet", "not_in_education",
               "ola_arrangements", "unknown"),
}
SETTING_NAMES = {
    ("mainstream", "primary"): ("Oak Primary", "Brookfield Primary", "St Mary's CE Primary", "Elm Tree Infant School"),
    ("mainstream", "secondary"): ("Castle Hill Secondary", "Riverside Academy", "Moor Lane High School"),
    ("mainstream", "post16"): ("Riverside Academy Sixth Form", "Castle Hill Secondary Sixth Form"),
    ("mainstream_resourced_provision", "primary"): ("Brookfield Primary (autism base)", "Oak Primary (resourced provision)"),
    ("mainstream_resourced_provision", "secondary"): ("Moor Lane High School (SEN unit)",),
    ("mainstream_independent", "primary"): ("Hallbrook Preparatory School",),
    ("mainstream_independent", "secondary"): ("Hallbrook College School",),
    ("special", None): ("Hillside Special School", "Meadow View Special School", "Ashgrove Special Academy"),
    ("special_independent_non_maintained", None): ("Pinewood Independent Special School", "Larchfield School for the Deaf"),
    ("ap_pru", None): ("Northgate Pupil Referral Unit", "Westbrook Alternative Provision Academy"),
    ("post16_fe_college", None): ("Moor Lane College", "Vale Sixth Form College"),
    ("post16_specialist", None): ("Oakfield Specialist College",),
    ("post16_other_provider", None): ("Skills for Work Training", "Northmoor Supported Internships"),
    ("early_years", None): ("Elm Tree Nursery", "Little Acorns Pre-school"),
}


def _setting_name(rng: random.Random, setting_type: str, phase: str) -> str | None:
    """A name that fits the type and phase; None for arrangements that are not a setting (EHE, NEET...)."""
    family = "special" if setting_type in ("special_maintained", "special_academy_free") else setting_type
    if setting_type in ("mainstream_maintained", "mainstream_academy_free"):
        family = "mainstream"
    phase = "primary" if phase == "early" else phase
    names = SETTING_NAMES.get((family, phase)) or SETTING_NAMES.get((family, None))
    return rng.choice(names) if names else None


def _weighted(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def staff_email(role: str, number: int, authority: DemoAuthority) -> str:
    return f"{role}{number}@{authority.prefix.lower()}.demo.example"


def ensure_authority(db: Session, demo: DemoAuthority) -> LocalAuthority:
    existing = db.exec(select(LocalAuthority).where(LocalAuthority.code == demo.code)).first()
    if existing:
        return existing
    return create_local_authority(db, demo.code, demo.name, demo.region, f"send.qa@{demo.prefix.lower()}.demo.example")


def _ensure_staff(db: Session, la: LocalAuthority, demo: DemoAuthority) -> None:
    counters: dict[str, int] = {}
    for role, discipline, team, count in STAFF:
        for _ in range(count):
            counters[role] = counters.get(role, 0) + 1
            email = staff_email(role, counters[role], demo)
            if db.exec(select(User).where(User.email == email)).first():
                continue
            create_user(db, la.id, email, f"Demo {role.replace('_', ' ')} {counters[role]}", role,
                        discipline=discipline, team=team, password=DEMO_PASSWORD)


def ensure_plans(db: Session, la: LocalAuthority, demo: DemoAuthority) -> None:
    if db.exec(select(Plan.id).where(Plan.la_id == la.id)).first():
        return
    rng = random.Random(f"demo-plans-{demo.code}")
    for number in range(1, PLANS_PER_LA + 1):
        key_stage = _weighted(rng, KEY_STAGE_MIX)
        phase = PHASE_OF_STAGE[key_stage]
        setting_type = _weighted(rng, {kind: SETTING_TYPE_MIX[kind] for kind in SETTING_TYPES_BY_PHASE[phase]})
        db.add(Plan(
            la_id=la.id,
            system_id=f"{demo.prefix}-{100000 + number}",
            key_stage=key_stage,
            primary_need=_weighted(rng, NATIONAL_NEED_MIX),
            setting_type=setting_type,
            setting_name=_setting_name(rng, setting_type, phase),
            plan_type=rng.choices(["annual_review", "new", "amended"], weights=[70, 20, 10])[0],
            writer_team=rng.choice(WRITER_TEAMS),
        ))
    db.flush()


# How demo auditors judge a section: mostly Good, as in real audits, with some of every grade.
GRADE_MIX = {Band.OUTSTANDING: 15, Band.GOOD: 50, Band.REQUIRES_IMPROVEMENT: 25, Band.INADEQUATE: 10}
SUMMER_CYCLE = "Summer term 2026 (demo)"
AUTUMN_CYCLE = "Autumn term 2026 (demo)"


def _ticks_for(section: Section, rng: random.Random) -> list[str]:
    """Criteria an auditor might tick for a section, aiming at a grade drawn from GRADE_MIX."""
    not_applicable = section.bands.get(Band.NOT_APPLICABLE, ())
    if not_applicable and rng.random() < 0.1:
        return [not_applicable[0].id]
    aim = rng.choices(list(GRADE_MIX), weights=list(GRADE_MIX.values()))[0]
    good = list(section.bands[Band.GOOD])
    if aim is Band.INADEQUATE:
        return [rng.choice(section.bands[Band.INADEQUATE]).id]
    if aim is Band.REQUIRES_IMPROVEMENT:
        return [c.id for c in good[:2]] + [rng.choice(section.bands[Band.REQUIRES_IMPROVEMENT]).id]
    ticks = [c.id for c in good]
    if aim is Band.OUTSTANDING:
        ticks += [c.id for c in section.bands[Band.OUTSTANDING][:2]]
    return ticks


def complete_audit(db: Session, assignment: Assignment, auditor: User, rng: random.Random, framework_file: Path,
                   sections: int | None = None) -> None:
    audit = start_audit(db, assignment, auditor, framework_file)
    framework = framework_for_audit(db, audit)
    for section in framework.sections[:sections]:
        save_section(db, audit, section.code, _ticks_for(section, rng), "", auditor, moving_on=True)
    if sections is None:
        submit_audit(db, audit, auditor)


def morning_of(day: date) -> datetime:
    """10am (UTC) on the day: when demo work is dated."""
    return datetime.combine(day, time(10, 0), tzinfo=timezone.utc)


def run_cycle(db: Session, mail: StaffMail, la: LocalAuthority, demo: DemoAuthority, name: str, start: date, end: date,
              size: int) -> list[Assignment]:
    cycle = create_cycle(db, la.id, CycleSettings(name=name, period_start=start, period_end=end, sample_size=size))
    open_cycle(db, cycle)
    add_auditors_by_email(db, cycle, [], capacity=3)
    draw_sample(db, cycle, seed=int(demo.code))
    coordinator = db.exec(select(User).where(User.email == staff_email("coordinator", 1, demo))).one()
    return allocate_cycle(db, cycle, coordinator, mail).assignments


def _ensure_cycles(db: Session, config: Mapping[str, Any], la: LocalAuthority, demo: DemoAuthority) -> None:
    if db.exec(select(AuditCycle.id).where(AuditCycle.la_id == la.id)).first():
        return
    rng = random.Random(f"demo-audits-{demo.code}")
    auditors = {user.id: user for user in db.exec(select(User).where(User.la_id == la.id)).all() if user.has_role(Role.AUDITOR)}

    # Last term: every sampled plan audited and the cycle closed, dated as if it happened then.
    mail, framework_file = StaffMail(db, config), configured_framework_file(config)
    summer = run_cycle(db, mail, la, demo, SUMMER_CYCLE, date(2026, 4, 13), date(2026, 7, 17), size=24)
    for number, assignment in enumerate(summer):
        complete_audit(db, assignment, auditors[assignment.auditor_id], rng, framework_file)
        assignment.assigned_at = morning_of(date(2026, 5, 4))
        assignment.due_date = date(2026, 5, 26)
        assignment.submitted_at = morning_of(date(2026, 5, 11) + timedelta(days=number % 14))
        db.add(assignment)
    moderate_demo_cycle(db, db.get(AuditCycle, summer[0].cycle_id), config, seed=int(demo.code))
    close_cycle(db, db.get(AuditCycle, summer[0].cycle_id))

    # This term: a third submitted, a third part-way through, the rest not started, some overdue.
    autumn = run_cycle(db, mail, la, demo, AUTUMN_CYCLE, date(2026, 9, 7), date(2026, 12, 18), size=30)
    for number, assignment in enumerate(autumn):
        auditor = auditors[assignment.auditor_id]
        if number % 3 == 0:
            complete_audit(db, assignment, auditor, rng, framework_file)
        elif number % 3 == 1:
            complete_audit(db, assignment, auditor, rng, framework_file, sections=rng.randint(1, 8))
        if number % 5 == 4:
            assignment.due_date = today() - timedelta(days=3 + number % 7)
            db.add(assignment)
    db.flush()


def load_demo(db: Session, config: Mapping[str, Any]) -> list[LocalAuthority]:
    authorities = []
    for demo in DEMO_AUTHORITIES:
        la = ensure_authority(db, demo)
        _ensure_staff(db, la, demo)
        ensure_plans(db, la, demo)
        _ensure_cycles(db, config, la, demo)
        ensure_feedback_demo(db, config, la, demo.prefix, DEMO_PASSWORD, SUMMER_CYCLE, AUTUMN_CYCLE)
        ensure_actions(db, config, la)
        authorities.append(la)
    load_reports_demo(db, config, authorities)
    load_cycle_report_demo(db, authorities)
    return authorities


def demo_accounts() -> list[dict[str, str]]:
    """The accounts shown on the sign-in page in demo mode: one of each role in each demo LA."""
    accounts = []
    for demo in DEMO_AUTHORITIES:
        for role in ("coordinator", "auditor", "manager", "admin", "volunteer"):  # the volunteer comes from feedback/demo.py
            accounts.append({"email": staff_email(role, 1, demo), "description": f"{role} at {demo.name}"})
    return accounts


def sign_in_details() -> dict:
    """What the sign-in page shows in demo mode."""
    return {"demo_accounts": demo_accounts(), "demo_password": DEMO_PASSWORD}


@click.command("demo")
@with_appcontext
def demo_command():
    """Load demonstration data (idempotent: running it again changes nothing). Demo mode only."""
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException(
            f"the demo creates accounts whose password ({DEMO_PASSWORD}) is published, so it runs only in demo "
            "mode. Set AUDIT_WORKFLOW_DEMO_MODE=true on a demonstration machine (`make run` does); never on a "
            "council's service."
        )
    with session_scope(get_engine()) as db:
        authorities = load_demo(db, current_app.config)
    click.echo(f"Demo data ready: {', '.join(la.name for la in authorities)}.")
    click.echo(f"Sign in at {current_app.config['BASE_URL']}/sign-in with any of these (password: {DEMO_PASSWORD}):")
    for account in demo_accounts():
        click.echo(f"  {account['email']:<32} {account['description']}")
