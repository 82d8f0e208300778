"""Issue 4 in a real browser: a coordinator creates a cycle, imports 600 plans from an Excel file,
draws a stratified sample of 60, allocates it to 12 auditors and reads the dashboard."""

import pytest
from playwright.sync_api import expect

from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD
from tests.cycles.conftest import add_auditors, as_csv, as_xlsx, register_rows

pytestmark = pytest.mark.browser


def upload(page, label: str, name: str, data: bytes, mime_type: str) -> None:
    page.get_by_label(label).set_input_files(files=[{"name": name, "mimeType": mime_type, "buffer": data}])


def test_a_coordinator_runs_a_cycle_from_creation_to_the_dashboard(browser, server_url, world, db):  # noqa: F811
    auditors = add_auditors(db, world.las["own"], 12)
    page = browser.new_context().new_page()
    sign_in_page(page, server_url, world.user("coordinator").email, TEST_PASSWORD)

    page.get_by_role("link", name="Plans", exact=True).first.click()
    page.get_by_role("button", name="Import plans").click()
    upload(page, "Upload a file", "register.xlsx", as_xlsx(register_rows(600)),
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    page.get_by_role("button", name="Import plans").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Imported register.xlsx: 600 new plans")

    page.get_by_role("link", name="Audit cycles", exact=True).first.click()
    page.get_by_role("button", name="Create a cycle").click()
    page.get_by_label("Name").fill("Autumn 2026")
    for legend, (day, month, year) in (("Start of the period", ("1", "9", "2026")), ("End of the period", ("18", "12", "2026"))):
        group = page.get_by_role("group", name=legend)
        group.get_by_label("Day").fill(day)
        group.get_by_label("Month").fill(month)
        group.get_by_label("Year").fill(year)
    page.get_by_label("Target sample").fill("60")
    page.get_by_role("button", name="Save cycle").click()
    expect(page.get_by_role("heading", name="Autumn 2026")).to_be_visible()
    expect(page.get_by_test_id("margin-of-error")).to_contain_text("With 60 of 600 plans")

    page.get_by_role("link", name="Draw the sample").click()
    expect(page.get_by_label("Number of plans to sample")).to_have_value("60")
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("A sample of 60 plans has been drawn")
    expect(page.get_by_test_id("sampled-plans").locator("tbody tr")).to_have_count(60)
    page.get_by_text("How the sample is spread across the register").click()
    strata = page.get_by_role("table", name="Plans drawn from each stratum")
    expect(strata).to_be_visible()
    # 90 strata of key stage × primary need × setting type, of 6 or 7 plans: each drawn one gives one plan.
    expect(strata.get_by_role("row", name="Key stage 2 · Autistic spectrum disorder")).not_to_have_count(0)

    page.get_by_role("link", name="Autumn 2026").click()
    page.get_by_role("link", name="Choose the auditors").click()
    pool = as_csv([[auditor.email, "6"] for auditor in auditors], ("email", "capacity"))
    upload(page, "Upload a CSV file", "pool.csv", pool, "text/csv")
    page.get_by_role("button", name="Import the pool").click()
    expect(page.get_by_test_id("pool").locator("tbody tr")).to_have_count(12)

    page.get_by_role("link", name="Autumn 2026").click()
    page.get_by_role("link", name="Allocate the plans").click()
    page.get_by_role("button", name="Allocate plans").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("60 plans have been allocated.")
    expect(page.get_by_test_id("allocation-explanation")).to_contain_text("60 plans allocated to 12 auditors")

    page.get_by_role("link", name="Autumn 2026").click()
    counts = page.get_by_test_id("status-counts")
    expect(counts).to_contain_text("First audits of the sampled plans by status (60 in all)")
    expect(counts.get_by_role("row", name="Not started").get_by_role("link")).to_have_accessible_name("60 not started: list them")
    expect(page.get_by_test_id("by-auditor").locator("tbody tr")).to_have_count(12)
    rows = page.get_by_test_id("send-plans").locator("tbody tr")
    expect(rows).to_have_count(60)
    rows.first.get_by_role("button", name="Mark as sent").click()
    expect(rows).to_have_count(59)

    counts.get_by_role("row", name="Not started").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Not started assignments")).to_be_visible()
    expect(page.get_by_test_id("assignments").locator("tbody tr")).to_have_count(60)
    page.get_by_role("link", name="Autumn 2026").click()
    page.get_by_role("link", name="Reminder calendar").click()
    calendar = page.get_by_test_id("chase-calendar")
    expect(calendar.get_by_role("row", name="Due today, to the auditor")).to_have_count(60)
