"""The three writers render one hand-made report: every figure reads back from each file."""

from datetime import date

import pytest

from audit_workflow.reports.cycle_report.document import BarChart, CycleReport, Paragraph, Part, Percent, Series, Table
from audit_workflow.reports.cycle_report.pdf_writer import chart_svg, write_pdf
from audit_workflow.reports.cycle_report.pptx_writer import write_pptx
from audit_workflow.reports.cycle_report.xlsx_writer import write_xlsx
from tests.reports.cycle_report.readback import (
    deck_chart,
    deck_charts,
    deck_tables,
    deck_text,
    formula_cells,
    need_pdf,
    pdf_figure_alt_texts,
    pdf_is_tagged,
    pdf_text,
    sheet_rows,
)

GRADES = ("Outstanding", "Good", "Requires improvement", "Inadequate")
FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"


@pytest.fixture(scope="module")
def report() -> CycleReport:
    return CycleReport(
        title="Autumn 2026: EHC plan quality assurance report", authority="Kent", period="1 September 2026 to 10 December 2026",
        generated_on=date(2026, 12, 6),
        parts=(
            Part("overall", "Overall grades", (
                Paragraph("37 audits have an overall grade."),
                BarChart("Overall grades", GRADES, (Series("Plans", (3, 17, 11, 6)),), "plans"),
                Table("Overall grades with 95% intervals", ("Grade", "Plans", "Share"),
                      (("Outstanding", 3, Percent(3 / 37)), ("Good", 17, Percent(17 / 37)))),
            )),
            Part("comparison", "Compared with the last cycle", (
                BarChart("Both cycles", GRADES, (Series("Spring 2026", (5.0, 40.0, 40.0, 15.0)),
                                                 Series("Autumn 2026", (8.1, 45.9, 29.7, 16.2))), "% of plans"),
                BarChart("By section", ("A", "B"), (Series("Good", (4, 5)), Series("Inadequate", (1, 0))), "plans", stacked=True),
            )),
            Part("context", "Context for Ofsted and CQC", (
                Paragraph(FORMULA, "Governance"),
                Paragraph("Our forums meet monthly. " * 80, "Multi-disciplinary forums"),
            )),
        ),
    )


def test_the_deck_has_native_charts_with_their_data_and_alt_text(report):
    deck = write_pptx(report)
    overall = deck_chart(deck, "Overall grades")
    assert overall.categories == list(GRADES)
    assert overall.series == {"Plans": [3, 17, 11, 6]}
    assert overall.alt_text == "Bar chart: Overall grades (plans). Outstanding 3, Good 17, Requires improvement 11, Inadequate 6."
    both = deck_chart(deck, "Compared with the last cycle: Both cycles")
    assert both.series == {"Spring 2026": [5.0, 40.0, 40.0, 15.0], "Autumn 2026": [8.1, 45.9, 29.7, 16.2]}
    assert all(chart.alt_text for chart in deck_charts(deck))
    assert len(deck_charts(deck)) == 3


def test_the_deck_has_the_tables_and_every_paragraph(report):
    deck = write_pptx(report)
    assert deck_tables(deck)["Overall grades: Overall grades with 95% intervals"] == [
        ["Grade", "Plans", "Share"], ["Outstanding", "3", "8.1%"], ["Good", "17", "46%"]]
    text = deck_text(deck)
    assert "Kent" in text and FORMULA in text
    # A long paragraph continues on the next slide rather than running off the bottom.
    assert "Context for Ofsted and CQC (continued)" in text
    assert text.count("Our forums meet monthly.") == 80


def test_the_pdf_is_tagged_with_alt_text_on_every_chart_and_has_the_figures(report):
    need_pdf()
    pdf = write_pdf(report)
    assert pdf_is_tagged(pdf)
    assert pdf_figure_alt_texts(pdf) == [chart.alt_text for part in report.parts for chart in part.charts()]
    text = pdf_text(pdf)
    for figure in ("Outstanding 3 8.1%", "Good 17 46%", "Spring 2026", "Autumn 2026", "Our forums meet monthly."):
        assert figure in text
    assert " ".join(FORMULA.split()) in " ".join(text.split())


def test_the_pdf_chart_images_show_each_value():
    chart = BarChart("Both", ("Good", "Inadequate"), (Series("Spring", (40.0, 15.0)), Series("Autumn", (45.9, 16.2))), "% of plans")
    svg = chart_svg(chart)
    for label in ("Good", "Inadequate", "Spring", "Autumn", "40.0%", "15.0%", "45.9%", "16.2%"):
        assert f">{label}<" in svg


def test_the_workbook_has_a_sheet_per_part_with_numbers_as_numbers_and_no_formula(report):
    book = write_xlsx(report)
    assert formula_cells(book) == []
    overall = sheet_rows(book, "Overall grades")
    assert ("Outstanding", 3, None) in [row[:3] for row in overall]  # the chart's data
    assert ("Good", 17, pytest.approx(17 / 37)) in [row[:3] for row in overall]  # the table, share as a number
    context = [row[0] for row in sheet_rows(book, "Context for Ofsted and CQC")]
    assert "'" + FORMULA in context  # text, and marked as text for any spreadsheet that reads it
    comparison = sheet_rows(book, "Compared with the last cycle")
    assert ("Good", 40.0, 45.9) in [row[:3] for row in comparison]


def test_a_table_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        Table("Bad", ("a", "b", "c"), (("x", 1),))
