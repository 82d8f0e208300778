"""Issue 14's "done when", in a real browser: a manager reads a cycle's figures on the reports page,
downloads the cycle report from the cycle page as PPTX and as PDF, and both files open with the
page's figures."""

import re
from datetime import date

import pytest

from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD
from tests.reports.cycle_report.builders import graded_cycle
from tests.reports.cycle_report.readback import deck_chart, deck_text, need_pdf, pdf_is_tagged, pdf_text

pytestmark = pytest.mark.browser

GRADES = ("Outstanding", "Good", "Requires improvement", "Inadequate")


def _words(text: str) -> str:
    return " ".join(text.split())


def test_a_manager_downloads_the_cycle_report_whose_figures_match_the_reports_page(browser, server_url, db, world):  # noqa: F811
    need_pdf()
    graded_cycle(db, world, ["good"] * 4 + ["requires_improvement"] * 4 + ["inadequate"] * 2, name="Spring 2026",
                 start=date(2026, 3, 1), prefix="SPR", status="closed")
    autumn = graded_cycle(db, world, ["outstanding"] * 2 + ["good"] * 9 + ["requires_improvement"] * 3 + ["inadequate"],
                          prefix="AUT").cycle
    db.commit()
    page = browser.new_context(accept_downloads=True).new_page()
    sign_in_page(page, server_url, world.user("manager").email, TEST_PASSWORD)

    page.goto(f"{server_url}/reports?cycle={autumn.id}")
    overall_row = page.get_by_test_id("overall-table").locator("tbody tr").first
    cells = [_words(cell) for cell in overall_row.locator("td").all_inner_texts()]
    page_counts = [int(re.search(r"\((\d+) of \d+\)", cell).group(1)) for cell in cells[:len(GRADES)]]
    assert page_counts == [2, 9, 3, 1]
    page_sentence = _words(page.get_by_test_id("cycle-comparison").locator("p").first.inner_text())
    assert page_sentence.startswith("Good or better rose from 40% (4 of 10) in Spring 2026 to 73% (11 of 15)")

    page.goto(f"{server_url}/cycles/{autumn.id}")
    with page.expect_download() as pptx_download:
        page.get_by_role("button", name="Download the report as PowerPoint (PPTX)").click()
    deck = open(pptx_download.value.path(), "rb").read()
    assert pptx_download.value.suggested_filename == "cycle-report-autumn-2026.pptx"
    chart = deck_chart(deck, "Overall grades")
    assert chart.categories == list(GRADES) and chart.series["Plans"] == page_counts
    assert page_sentence in _words(deck_text(deck))

    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Download the report as PDF").click()
    pdf = open(pdf_download.value.path(), "rb").read()
    assert pdf_is_tagged(pdf)
    text = _words(re.sub(r"-\n", "-", pdf_text(pdf)))  # a line broken after a hyphen joins up again
    assert page_sentence in text
    for label, cell in zip(GRADES, cells):
        share, count = re.match(r"(\S+%) \((\d+) of \d+\)", cell).groups()
        assert f"{label} {count} {share}" in text  # the overall table: grade, plans, share
