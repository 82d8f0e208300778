"""Issue 14 in a real browser: a manager filters the report by key stage and need, and reads the
distributions with counts and intervals and the plain-words comparison with the previous cycle."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD
from tests.reports.builders import dated_cycle, grade_mix

pytestmark = pytest.mark.browser


def test_a_manager_filters_by_key_stage_and_need_and_reads_the_comparison(browser, server_url, world, db):  # noqa: F811
    own, auditor = world.las["own"], world.user("auditor")
    spring = dated_cycle(db, own, "Spring 2026", date(2026, 1, 5), date(2026, 3, 27))
    summer = dated_cycle(db, own, "Summer 2026", date(2026, 4, 13), date(2026, 7, 17))
    grade_mix(db, own, spring, auditor, "SP", {"outstanding": 2, "good": 20, "requires_improvement": 29, "inadequate": 20},
              key_stage="KS2", primary_need="ASD")
    grade_mix(db, own, summer, auditor, "SU", {"outstanding": 10, "good": 44, "requires_improvement": 50, "inadequate": 19},
              key_stage="KS2", primary_need="ASD")
    grade_mix(db, own, summer, auditor, "OT", {"inadequate": 30}, key_stage="KS4", primary_need="SEMH")
    db.commit()

    page = browser.new_context().new_page()
    sign_in_page(page, server_url, world.user("manager").email, TEST_PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).first.click()
    expect(page.get_by_test_id("cycle-comparison")).to_contain_text("with 71 and 153 plans")  # unfiltered

    page.get_by_label("Key stage").select_option(label="Key stage 2")
    page.get_by_label("Primary need").select_option(value="ASD")
    page.get_by_role("button", name="Apply filters").click()
    assert "key_stage=KS2" in page.url and "primary_need=ASD" in page.url  # bookmarkable

    expect(page.get_by_test_id("filter-summary")).to_contain_text("key stage is Key stage 2")
    overall = page.get_by_test_id("overall-table")
    expect(overall).to_contain_text("39% (76 of 194)")
    expect(overall).to_contain_text("95% interval")
    expect(page.get_by_role("img", name="Overall grades of 194 plans")).to_be_visible()
    expect(page.get_by_test_id("sections-table")).to_contain_text("Section")
    expect(page.get_by_test_id("cycle-comparison")).to_contain_text(
        "Good or better rose from 31% (22 of 71) in Spring 2026 to 44% (54 of 123) in Summer 2026; with 71 and 123 "
        "plans the difference in grades is more than chance would give")

    overall.get_by_role("link", name="39% (76 of 194)").click()
    expect(page.get_by_test_id("audits-behind").locator("tbody tr")).to_have_count(76)
