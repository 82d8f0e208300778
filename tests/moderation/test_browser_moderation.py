"""Issue 12's "done when" in a real browser: a coordinator opens a cycle, the scheduler picks the
moderation sample, a second auditor who cannot see the first audit submits, the pair is flagged and
adjudicated, and the statistics page shows kappa and alpha with intervals."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from audit_workflow.audits.models import Audit
from audit_workflow.audits.service import save_section, start_audit
from audit_workflow.auth.models import User
from audit_workflow.cycles.models import HELD_STATUSES, Assignment, AssignmentKind
from audit_workflow.db import get_engine
from audit_workflow.framework import Band
from audit_workflow.framework.versions import framework_for_audit
from audit_workflow.moderation import service
from audit_workflow.moderation.demo import ticks_aiming_at
from audit_workflow.moderation.jobs import moderation_sample_job
from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD, TEST_PASSWORD_HASH
from tests.moderation.conftest import complete

pytestmark = pytest.mark.browser


def test_a_flagged_blind_pair_is_adjudicated_and_the_statistics_show_intervals(browser, server_url, app, world, db, submitted):  # noqa: F811
    cycle, _, _ = submitted
    cycle.moderation_share = 0.6
    db.add(cycle)
    db.commit()
    coordinator = browser.new_context().new_page()
    sign_in_page(coordinator, server_url, world.user("coordinator").email, TEST_PASSWORD)
    coordinator.get_by_role("link", name="Audit cycles", exact=True).first.click()
    coordinator.get_by_role("link", name="Autumn 2026").click()
    coordinator.get_by_role("link", name="Moderation and agreement").click()
    expect(coordinator.get_by_test_id("pairs")).to_contain_text("No plans picked yet")

    outcome = moderation_sample_job(get_engine(app), app.config)  # the scheduler's run
    assert "picked" in outcome.summary
    moderations = db.exec(select(Assignment).where(Assignment.kind == AssignmentKind.MODERATION,
                                                   Assignment.status.in_(HELD_STATUSES))).all()
    def first_grade(moderation):
        return db.exec(select(Audit.overall_grade).join(Assignment, Assignment.id == Audit.assignment_id).where(
            Assignment.plan_id == moderation.plan_id, Assignment.kind == AssignmentKind.PRIMARY)).one()

    # A plan the first auditor graded Good or better, which an all-Inadequate second audit contradicts.
    chosen = next(moderation for moderation in moderations if first_grade(moderation) in ("good", "outstanding"))
    others = [moderation for moderation in moderations if moderation.id != chosen.id]
    for number, other in enumerate(others):  # the other moderators finish, some disagreeing
        complete(db, other, (Band.GOOD, Band.REQUIRES_IMPROVEMENT, Band.GOOD)[number % 3])
    moderator = db.get(User, chosen.auditor_id)
    moderator.password_hash = TEST_PASSWORD_HASH
    db.add(moderator)
    audit = start_audit(db, chosen, moderator)
    for section in framework_for_audit(db, audit).sections:  # grades all Inadequate: flagged
        save_section(db, audit, section.code, ticks_aiming_at(section, Band.INADEQUATE), "", moderator, moving_on=True)
    db.commit()
    first_audit = db.exec(select(Audit).join(Assignment, Assignment.id == Audit.assignment_id).where(
        Assignment.plan_id == chosen.plan_id, Assignment.kind == AssignmentKind.PRIMARY)).one()

    second = browser.new_context().new_page()
    sign_in_page(second, server_url, moderator.email, TEST_PASSWORD)
    response = second.goto(f"{server_url}/audits/{first_audit.id}/summary")
    assert response.status == 404  # blind: the first audit is out of reach
    second.goto(f"{server_url}/my-audits")
    second.get_by_role("link", name="Continue").first.click()
    second.goto(f"{server_url}/audits/{audit.id}/summary")
    second.get_by_role("button", name="Submit audit").click()
    expect(second.locator(".govuk-notification-banner")).to_contain_text("Audit submitted")

    coordinator.reload()
    row = coordinator.get_by_test_id("pairs").locator("tr", has_text="Flagged for adjudication").first
    expect(row).to_be_visible()
    pair = next(pair for pair in service.pairs_for(db, [cycle]) if pair.second and pair.second.assignment.id == chosen.id)
    coordinator.goto(f"{server_url}/moderation/picks/{pair.pick.id}/adjudicate")
    expect(coordinator.get_by_text("Flagged:")).to_be_visible()
    for code in pair.section_codes:
        coordinator.get_by_label(f"Section {code}", exact=True).select_option("requires_improvement")
    coordinator.get_by_label("Overall grade").select_option("requires_improvement")
    coordinator.get_by_label("Why these grades?").fill("Read both audits with the writer; most sections need more specific provision.")
    coordinator.get_by_role("button", name="Record the agreed grades").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text("Agreed grades recorded")
    expect(coordinator.get_by_test_id("pairs")).to_contain_text("Adjudicated")

    coordinator.get_by_role("link", name="Agreement statistics and calibration").click()
    expect(coordinator.get_by_test_id("kappa")).to_contain_text("95% interval")
    expect(coordinator.get_by_test_id("alpha")).to_contain_text("95% interval")
    expect(coordinator.get_by_test_id("pair-counts")).to_contain_text("1 adjudicated")
