"""Issue 3's browser check: an auditor audits a plan end to end, leaving and resuming half-way.

Ticks every section A to K (H1 and H2 included), signs out after saving half of them, signs back
in and carries on where they left off, and submits once the summary shows the grades the engine
gives for the same ticks. The audit is then locked.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from audit_workflow.audits.models import Audit, AuditStatus
from audit_workflow.framework import default_framework, grade_audit
from tests.audits.test_service import assign, fast_password_hashing, varied_ticks  # noqa: F401  (fixture)
from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def tick_section(page, code: str, ticks: list[str]) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(f"^{code}:"))
    for criterion_id in ticks:
        page.locator(f'input[name="criteria"][value="{criterion_id}"]').check()


def test_an_auditor_audits_a_plan_from_start_to_submission(browser, server_url, world, db):  # noqa: F811
    framework = default_framework()
    ticks = varied_ticks(framework)
    codes = list(ticks)
    assert codes == ["A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K"]
    assign(db, world, system_id="SYS-4821")
    db.commit()
    auditor = world.user("auditor")
    context = browser.new_context()
    page = context.new_page()

    sign_in_page(page, server_url, auditor.email, TEST_PASSWORD)
    page.get_by_role("link", name="My audits").first.click()
    expect(page.get_by_role("row", name=re.compile("SYS-4821"))).to_be_visible()
    page.get_by_role("button", name="Start audit of SYS-4821").click()

    halfway = codes.index("F")
    for code in codes[:halfway]:
        tick_section(page, code, ticks[code])
        page.get_by_role("button", name="Save and go to next").click()
    tick_section(page, "F", ticks["F"])
    page.get_by_label("Comment (optional)").fill("Provision for speech and language therapy is not quantified.")
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_text("Section F saved")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in_page(page, server_url, auditor.email, TEST_PASSWORD)
    page.get_by_role("link", name="My audits").first.click()
    page.get_by_role("link", name="Continue audit of SYS-4821").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^F:"))
    for criterion_id in ticks["F"]:
        expect(page.locator(f'input[name="criteria"][value="{criterion_id}"]')).to_be_checked()
    expect(page.get_by_label("Comment (optional)")).to_have_value(re.compile("not quantified"))
    page.get_by_role("button", name="Save and go to next").click()
    for code in codes[halfway + 1:]:
        tick_section(page, code, ticks[code])
        page.get_by_role("button", name="Save and go to next").click()

    expect(page.get_by_role("heading", name="Audit summary")).to_be_visible()
    expected = grade_audit(framework, ticks)
    for code, result in expected.sections.items():
        expect(page.locator(f'[data-section="{code}"] .govuk-tag')).to_have_text(result.grade.label)
    expect(page.locator('[data-testid="overall-grade"] .govuk-tag')).to_have_text(expected.overall.label)
    page.get_by_role("button", name="Submit audit").click()

    expect(page.get_by_text("Audit submitted")).to_be_visible()
    expect(page.get_by_role("button", name="Submit audit")).to_have_count(0)
    expect(page.get_by_role("link", name="Change section A")).to_have_count(0)
    page.get_by_role("link", name="View section A").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^A:"))
    expect(page.locator('input[name="criteria"]')).to_have_count(0)  # read-only now
    audit = db.exec(select(Audit)).one()
    db.refresh(audit)
    assert (audit.status, audit.overall_grade) == (AuditStatus.SUBMITTED, expected.overall.value)
    context.close()
