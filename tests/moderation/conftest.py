"""A cycle whose primary audits are allocated and submitted through the real services, ready to moderate."""

from __future__ import annotations

from datetime import date

import pytest

from audit_workflow.audits.service import save_section, start_audit, submit_audit
from audit_workflow.auth.service import create_user
from audit_workflow.cycles import allocating, auditor_pool, lifecycle, plan_sample
from audit_workflow.cycles.models import Assignment
from audit_workflow.framework import Band
from audit_workflow.framework.versions import framework_for_audit
from audit_workflow.moderation.demo import ticks_aiming_at
from audit_workflow.notifications.staff_mail import StaffMail
from tests.cycles.conftest import add_register

# Auditors by (team, discipline); plan writers are in SEN North, SEN South and SEN East.
POOL = (("Audit A", "education"), ("Audit A", "education"), ("Audit B", "health"), ("Audit B", "health"),
        ("Audit C", "social_care"), ("Audit C", "social_care"))


@pytest.fixture
def app_context(app):
    """For services that read the app's settings (cycles' emails). Not with the test client: a
    request inside a pushed app context shares its `g`, which confuses the CSRF token."""
    with app.app_context():
        yield


def make_pool(db, la, pool=POOL, capacity=8):
    users = []
    for number, (team, discipline) in enumerate(pool):
        users.append(create_user(db, la.id, f"pool{number}.{la.code}@example.gov.uk", f"Pool auditor {number}", "auditor",
                                 discipline=discipline, team=team, password=None))
    db.flush()
    return users, capacity


def complete(db, assignment: Assignment, band: Band, overrides: dict[str, Band] | None = None):
    """The assignment's auditor ticks every section aiming at band (or an override) and submits."""
    from audit_workflow.auth.models import User

    auditor = db.get(User, assignment.auditor_id)
    audit = start_audit(db, assignment, auditor)
    for section in framework_for_audit(db, audit).sections:
        aim = (overrides or {}).get(section.code, band)
        save_section(db, audit, section.code, ticks_aiming_at(section, aim), "", auditor, moving_on=True)
    return submit_audit(db, audit, auditor)


@pytest.fixture
def allocated(db, world, app):
    """An open cycle of 20 plans allocated to a pool of six auditors (moderation share 10%)."""
    with app.app_context():  # allocation emails read the app's settings
        return _allocate(db, world, app)


def _allocate(db, world, app):
    la = world.las["own"]
    add_register(db, la, 40)
    cycle = lifecycle.create_cycle(db, la.id, lifecycle.CycleSettings(name="Autumn 2026", period_start=date(2026, 9, 1),
                                                                   period_end=date(2026, 12, 18), moderation_share=0.1))
    plan_sample.draw_sample(db, cycle, size=20, seed=3)
    users, capacity = make_pool(db, la)
    for user in users:
        auditor_pool.add_auditor(db, cycle, user, capacity)
    outcome = allocating.allocate_cycle(db, cycle, world.user("coordinator"), StaffMail(db, app.config))
    db.commit()
    return cycle, outcome.assignments, users


GRADES = (Band.GOOD, Band.REQUIRES_IMPROVEMENT, Band.GOOD, Band.INADEQUATE, Band.OUTSTANDING)


@pytest.fixture
def submitted(db, allocated):
    """Every primary audit of the cycle submitted, with a mix of overall grades."""
    cycle, assignments, users = allocated
    for number, assignment in enumerate(assignments):
        complete(db, assignment, GRADES[number % len(GRADES)])
    db.commit()
    return cycle, assignments, users
