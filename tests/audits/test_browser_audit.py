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


def test_my_audits_fits_a_phone_screen_with_labels_and_system_ids_on_one_line(browser, server_url, world, db):  # noqa: F811
    from tests.factories import make_assignment, make_cycle, make_plan

    la, auditor = world.las["own"], world.user("auditor")
    cycle = make_cycle(db, la, name="Autumn 2026 EHCP quality audit")
    for number, need in enumerate(("SLCN", "SEMH", "ASD")):
        plan = make_plan(db, la, system_id=f"MOSAIC-2026-00{number}", primary_need=need, setting_type="special_academy_free",
                         setting_name="Hillside Academy Special School")
        make_assignment(db, cycle, plan, auditor)
    db.commit()
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    sign_in_page(page, server_url, auditor.email, TEST_PASSWORD)
    page.goto(f"{server_url}/my-audits")

    expect(page.get_by_text("Speech, language and communication needs")).to_be_visible()
    cycle_cell = page.locator('td[data-label="Cycle"]').first
    expect(cycle_cell).to_have_text("Autumn 2026 EHCP quality audit")
    assert cycle_cell.evaluate("e => getComputedStyle(e, '::before').content") == '"Cycle: "'  # each cell says what it is
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no scrolling sideways
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('main *')].map(e => e.getBoundingClientRect().right))")
    assert widest <= 375
    for system_id in page.locator(".app-system-id").all():
        assert system_id.evaluate("e => e.getClientRects().length") == 1  # one line: not broken at a hyphen
    context.close()
