"""Issue 13 in a real browser: a family opens the link from the development mailbox on a 320 px
wide phone, answers every question, checks and sends its answers, and a second visit to the
link gets the "already answered" page. axe-core finds no WCAG 2.2 AA violation on any public page,
and no page scrolls sideways."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from audit_workflow.db import get_engine
from audit_workflow.feedback import service
from audit_workflow.feedback.jobs import feedback_invite_job
from audit_workflow.notifications.dispatcher import dispatch_due
from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD
from tests.feedback.helpers import feedback_cycle, sampled_plan

pytestmark = pytest.mark.browser

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
PHONE = {"width": 320, "height": 640}
AXE = Axe()


def assert_accessible(page) -> None:
    results = AXE.run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 320px wide"


def test_a_family_answers_on_a_phone_from_the_dev_mailbox_link(app, browser, server_url, world, db):  # noqa: F811
    la = world.las["own"]
    cycle = feedback_cycle(db, la)
    submitted = datetime.now(timezone.utc) - timedelta(days=10)
    sampled_plan(db, cycle, la, "FB-0001", auditor=world.user("auditor"), submitted_at=submitted)
    service.add_contact(db, cycle, "FB-0001", "parent_carer", "family@example.org", None, world.user("coordinator"))
    db.commit()
    app.config.update(BASE_URL=server_url, DEMO_MODE=True)
    assert "invitations 1" in feedback_invite_job(get_engine(app), app.config).summary
    dispatch_due(get_engine(app), app.config)

    staff = browser.new_context().new_page()
    sign_in_page(staff, server_url, world.user("admin").email, TEST_PASSWORD)
    staff.goto(f"{server_url}/dev/mailbox")
    staff.get_by_role("link", name=re.compile("would like your views")).first.click()
    link = re.search(r"Give your views: (\S+)", staff.locator("pre").inner_text()).group(1)

    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(link)
    assert "/feedback/start/" not in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Your views on your child's EHC plan")
    expect(page.locator(".govuk-service-navigation__list")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Start now").click()

    for number in range(1, 7):
        expect(page.locator(".govuk-caption-l")).to_have_text(f"Question {number} of 6")
        if number == 1:
            page.get_by_role("button", name="Continue").click()  # nothing chosen: the error summary
            expect(page.locator(".govuk-error-summary")).to_contain_text("Choose one of the answers")
        assert_accessible(page)
        page.get_by_label("Agree", exact=True).check()
        page.get_by_role("button", name="Continue").click()

    page.get_by_label(re.compile("anything else")).fill("The plan was easy to read.")
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Change.*describes your child well")).click()
    page.get_by_label("Strongly agree").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Strongly agree")
    page.get_by_role("button", name="Send your answers").click()

    expect(page.locator(".govuk-panel")).to_contain_text("Answers sent")
    assert_accessible(page)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("You have already answered")
    assert_accessible(page)
