"""`audit-workflow report`: each format written to the file named, with the database's figures."""

import uuid

import pytest

from audit_workflow.reports.cycle_report.commands import report_command
from tests.reports.builders import CONFIGURED, configure_framework
from tests.reports.cycle_report.builders import graded_cycle
from tests.reports.cycle_report.readback import deck_chart, deck_charts, formula_cells, need_pdf, pdf_is_tagged, pdf_text, sheet_rows


@pytest.fixture
def cli(app, runner):
    app.cli.add_command(report_command)
    return lambda *args: runner.invoke(args=["report", *map(str, args)])


@pytest.fixture
def cycle(db, world):
    graded = graded_cycle(db, world, ["outstanding"] + ["good"] * 5 + ["requires_improvement"] * 3 + ["inadequate"] * 2)
    db.commit()
    return graded.cycle


def test_the_deck_is_written_with_the_cycles_grades(cli, cycle, tmp_path):
    out = tmp_path / "report.pptx"
    result = cli(cycle.id, "--format", "pptx", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Wrote the PowerPoint (PPTX) report of Autumn 2026" in result.output
    assert deck_chart(out.read_bytes(), "Overall grades").series == {"Plans": [1, 5, 3, 2]}
    charts = deck_charts(out.read_bytes())
    assert len(charts) == 4  # overall, sections, health focus, social care focus (no earlier cycle, no benchmark)
    assert all(chart.alt_text and chart.alt_text.startswith(("Bar chart", "Stacked bar chart")) for chart in charts)


def test_the_pdf_is_written_tagged(cli, cycle, tmp_path):
    need_pdf()
    out = tmp_path / "report.pdf"
    assert cli(cycle.id, "--format", "pdf", "--out", out).exit_code == 0
    content = out.read_bytes()
    assert pdf_is_tagged(content)
    assert "Good or better: 55% (6 of 11)" in " ".join(pdf_text(content).split())


def test_the_workbook_is_written_without_formulas(cli, cycle, tmp_path):
    out = tmp_path / "report.xlsx"
    assert cli(cycle.id, "--format", "xlsx", "--out", out).exit_code == 0
    assert formula_cells(out.read_bytes()) == []
    assert ("Good", 5) in [row[:2] for row in sheet_rows(out.read_bytes(), "Overall grades")]


@pytest.mark.parametrize("args, message", [
    (["not-an-id", "--format", "pptx", "--out", "x.pptx"], "is not a cycle id"),
    ([uuid.uuid4(), "--format", "pptx", "--out", "x.pptx"], "No cycle with id"),
    (["{cycle}", "--format", "docx", "--out", "x.docx"], "Invalid value for '--format'"),
    (["{cycle}", "--format", "pptx", "--out", "/no/such/folder/x.pptx"], "Cannot write /no/such/folder/x.pptx"),
])
def test_bad_input_is_one_clear_line_and_exit_status_1(cli, cycle, args, message):
    result = cli(*[str(arg).replace("{cycle}", str(cycle.id)) for arg in args])
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_the_report_reads_the_criteria_in_the_configured_framework_file(app, cli, cycle, tmp_path):
    configure_framework(app, tmp_path)
    out = tmp_path / "report.xlsx"
    assert cli(cycle.id, "--format", "xlsx", "--out", out).exit_code == 0
    rows = sheet_rows(out.read_bytes(), "Criteria most often missed")
    criteria = [row[1] for row in rows[[row[1] for row in rows].index("Criterion") + 1:]]
    assert criteria and all(text.startswith(CONFIGURED) for text in criteria)
