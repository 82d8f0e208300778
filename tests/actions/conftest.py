"""A plan audited and submitted through the real services, with the grades a test asks for."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from audit_workflow.framework.versions import framework_for_audit
from audit_workflow.audits.service import save_section, start_audit, submit_audit
from audit_workflow.auth import passwords
from audit_workflow.auth.service import create_user
from audit_workflow.cycles.models import CycleAuditor
from audit_workflow.framework import Band
from tests.factories import make_assignment, make_cycle, make_plan


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def submit(db, assignment, auditor, inadequate: tuple[str, ...] = ()):
    """Complete and submit the assignment's audit: Good everywhere, Inadequate in the sections named."""
    audit = start_audit(db, assignment, auditor)
    framework = framework_for_audit(db, audit)
    for section in framework.sections:
        band = Band.INADEQUATE if section.code in inadequate else Band.GOOD
        save_section(db, audit, section.code, [criterion.id for criterion in section.bands[band]][:4], "", auditor)
    return submit_audit(db, audit, auditor)


@pytest.fixture
def second_auditor(db, world):
    user = create_user(db, world.las["own"].id, "auditor2@886.example.gov.uk", "Second Auditor", "auditor",
                       discipline="health", team="Team Elsewhere")
    db.flush()
    return user


@pytest.fixture
def weak_audit(db, world, second_auditor):
    """An open cycle with both auditors in its pool, and a plan whose first audit is Inadequate
    (sections A, E, F and K Inadequate; F limits the overall grade)."""
    la = world.las["own"]
    cycle = make_cycle(db, la)
    for user in (world.user("auditor"), second_auditor):
        db.add(CycleAuditor(la_id=la.id, cycle_id=cycle.id, user_id=user.id))
    plan = make_plan(db, la, system_id="NM-100123")
    assignment = make_assignment(db, cycle, plan, world.user("auditor"))
    audit = submit(db, assignment, world.user("auditor"), inadequate=("A", "E", "F", "K"))
    db.commit()
    return audit


@pytest.fixture
def app_context(app):
    """Scheduling a re-audit queues the cycles area's assignment email, which reads the app's settings."""
    with app.app_context():
        yield
