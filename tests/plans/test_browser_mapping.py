"""The mapping step in a real browser: a council export with a title row, a heading that could be
two columns and a spelling the service does not know imports after one screen of columns and one
of values, and the next export of the same shape goes straight in."""

import pytest
from playwright.sync_api import expect

from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD
from tests.plans.test_corpus import csv_bytes
from tests.plans.test_mapping_views import EXPORT

pytestmark = pytest.mark.browser


def upload_file(page, data: bytes) -> None:
    page.get_by_label("Upload a file").set_input_files(files=[{"name": "caseload.csv", "mimeType": "text/csv", "buffer": data}])
    page.get_by_role("button", name="Import plans").click()


def test_a_coordinator_maps_an_export_once(browser, server_url, world):  # noqa: F811
    page = browser.new_context().new_page()
    sign_in_page(page, server_url, world.user("coordinator").email, TEST_PASSWORD)
    page.goto(f"{server_url}/plans/import")
    upload_file(page, csv_bytes(EXPORT))

    expect(page.get_by_role("heading", name="What is in each column?")).to_be_visible()
    expect(page.get_by_test_id("mapping-reasons")).to_contain_text("could be Plan type or Setting type")
    expect(page.get_by_text("Column C. For example: Academy, FE college")).to_be_visible()
    page.get_by_label("Ref").select_option(label="System ID")
    page.get_by_label("Stage").select_option(label="Key stage")
    page.get_by_label("Type", exact=True).select_option(label="Setting type")
    page.get_by_label("Caseworker unit").select_option(label="Writer team")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="What do these values mean?")).to_be_visible()
    page.get_by_role("button", name="Import plans").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what “Academy” means")
    page.get_by_label("“Academy” in Type").select_option(label="Mainstream school: academy or free school")
    page.get_by_role("button", name="Import plans").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Imported caseload.csv: 3 new plans")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Columns not used: Surgery.")

    page.goto(f"{server_url}/plans/import")
    upload_file(page, csv_bytes(EXPORT + [["P-4", "KS1", "Academy", "HI", "SEN East", "w"]]))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Imported caseload.csv: 1 new plans, 0 updated, 3 unchanged")
