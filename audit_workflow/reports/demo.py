"""Demo data for the reports: a second closed cycle in each demo LA (so the comparison with the
previous cycle has real numbers), and four more demo LAs with a closed cycle each, all six sharing
their grades, so the national benchmark (which needs 5 LAs besides the viewer's) shows.

Built with the real services through the main demo's helpers; idempotent (keyed by cycle name).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Mapping

from sqlmodel import Session, select

from .. import demo as base
from ..audits.models import Audit
from ..auth.models import Role, User
from ..auth.service import create_user
from ..authorities.models import LocalAuthority
from ..cycles.lifecycle import close_cycle
from ..cycles.models import AuditCycle
from ..framework.versions import configured_framework_file
from ..notifications.staff_mail import StaffMail
from .service import set_benchmark_opt_in

SPRING_CYCLE = "Spring term 2026 (demo)"
SPRING = (date(2026, 1, 5), date(2026, 3, 27))
# (code, name, region, prefix) of base.DemoAuthority, which is not defined yet when this is imported.
BENCHMARK_AUTHORITIES = (
    ("992", "Eastfield Council (demo)", "East of England", "EF"),
    ("993", "Westbrook Council (demo)", "South West", "WB"),
    ("994", "Highdale Council (demo)", "North East", "HD"),
    ("995", "Lowmarsh Council (demo)", "East Midlands", "LM"),
)
# A small team is enough for an LA that only contributes to the benchmark: nobody signs in there.
BENCHMARK_STAFF = (("coordinator", "education", 1), ("auditor", "education", 4), ("auditor", "health", 2))
SAMPLE_SIZE = 20
BENCHMARK_SAMPLE_SIZE = 12  # each benchmark LA needs only some graded plans to contribute


def load_reports_demo(db: Session, config: Mapping[str, Any], authorities: list[LocalAuthority]) -> None:
    mail, framework_file = StaffMail(db, config), configured_framework_file(config)
    for la, demo in zip(authorities, base.DEMO_AUTHORITIES):
        _ensure_closed_cycle(db, mail, framework_file, la, demo, SPRING_CYCLE, *SPRING, SAMPLE_SIZE)
        set_benchmark_opt_in(db, la, True)
    for fields in BENCHMARK_AUTHORITIES:
        demo = base.DemoAuthority(*fields)
        la = base.ensure_authority(db, demo)
        _ensure_small_staff(db, la, demo)
        base.ensure_plans(db, la, demo)
        _ensure_closed_cycle(db, mail, framework_file, la, demo, base.SUMMER_CYCLE, date(2026, 4, 13), date(2026, 7, 17),
                             BENCHMARK_SAMPLE_SIZE)
        set_benchmark_opt_in(db, la, True)


def _ensure_small_staff(db: Session, la: LocalAuthority, demo: base.DemoAuthority) -> None:
    counters: dict[str, int] = {}
    for role, discipline, count in BENCHMARK_STAFF:
        for _ in range(count):
            counters[role] = counters.get(role, 0) + 1
            email = base.staff_email(role, counters[role], demo)
            if db.exec(select(User).where(User.email == email)).first() is None:
                create_user(db, la.id, email, f"Demo {role} {counters[role]}", role, discipline=discipline)


def _ensure_closed_cycle(db: Session, mail: StaffMail, framework_file: Path, la: LocalAuthority,
                         demo: base.DemoAuthority, name: str, start: date, end: date, size: int) -> None:
    """A cycle in which every sampled plan was audited and submitted during its period, then closed."""
    if db.exec(select(AuditCycle.id).where(AuditCycle.la_id == la.id, AuditCycle.name == name)).first():
        return
    rng = random.Random(f"demo-reports-{demo.code}-{name}")
    auditors = {user.id: user for user in db.exec(select(User).where(User.la_id == la.id)).all()
                if user.has_role(Role.AUDITOR)}
    assignments = base.run_cycle(db, mail, la, demo, name, start, end, size=size)
    for number, assignment in enumerate(assignments):
        base.complete_audit(db, assignment, auditors[assignment.auditor_id], rng, framework_file)
        assignment.assigned_at = base.morning_of(start + timedelta(days=14))
        assignment.submitted_at = base.morning_of(start + timedelta(days=21 + number % 14))
        db.add(assignment)
    _date_audits(db, assignments)
    close_cycle(db, db.get(AuditCycle, assignments[0].cycle_id))


def _date_audits(db: Session, assignments) -> None:
    """Submitted when their assignment was, so the period filter finds them in their term."""
    for assignment in assignments:
        audit = db.exec(select(Audit).where(Audit.assignment_id == assignment.id)).one()
        audit.submitted_at = audit.updated_at = assignment.submitted_at
        db.add(audit)
    db.flush()
