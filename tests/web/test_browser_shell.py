"""Issue 2's browser check: a coordinator sees their LA's home; another LA's auditor cannot open it."""

import pytest
from playwright.sync_api import expect

from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD
from tests.factories import make_cycle

pytestmark = pytest.mark.browser


def test_coordinator_sees_their_la_and_another_las_auditor_cannot_open_it(browser, server_url, world, db):  # noqa: F811
    cycle = make_cycle(db, world.las["own"], name="Autumn 2026")
    db.commit()
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(page, server_url, world.user("coordinator").email, TEST_PASSWORD)
    # expect() waits for the page after the sign-in redirect; a bare is_visible() raced it under load.
    expect(page.get_by_role("heading", name="EHCP quality audit")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Kent")
    cookie = next(c for c in context.cookies() if c["name"].startswith("__Host-"))
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    context.close()

    intruder = browser.new_context()
    page = intruder.new_page()
    sign_in_page(page, server_url, world.user("auditor", "other").email, TEST_PASSWORD)
    expect(page.locator("header")).to_contain_text("Westminster")
    response = page.goto(f"{server_url}/cycles/{cycle.id}")
    assert response.status in (403, 404)
    assert "Kent" not in page.content()
    intruder.close()
