"""Reading generated reports back the way their readers' software does: python-pptx for the deck,
pypdf for the PDF, openpyxl for the workbook."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdf
from openpyxl import load_workbook
from pptx import Presentation

from audit_workflow.reports.cycle_report.pdf_writer import pdf_available
from tests.conftest import need_service


def need_pdf() -> None:
    need_service(pdf_available(), "PDF reports need WeasyPrint with Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0)")


@dataclass(frozen=True)
class DeckChart:
    slide_title: str
    alt_text: str | None
    categories: list[str]
    series: dict[str, list[float]]


def deck_charts(content: bytes) -> list[DeckChart]:
    charts = []
    for slide in Presentation(io.BytesIO(content)).slides:
        for shape in slide.shapes:
            if shape.has_chart:
                plot = shape.chart.plots[0]
                charts.append(DeckChart(slide.shapes.title.text, shape._element.nvGraphicFramePr.cNvPr.get("descr"),
                                        list(plot.categories), {series.name: list(series.values) for series in plot.series}))
    return charts


def deck_chart(content: bytes, slide_title: str) -> DeckChart:
    matches = [chart for chart in deck_charts(content) if chart.slide_title == slide_title]
    assert len(matches) == 1, [chart.slide_title for chart in deck_charts(content)]
    return matches[0]


def deck_tables(content: bytes) -> dict[str, list[list[str]]]:
    tables = {}
    for slide in Presentation(io.BytesIO(content)).slides:
        for shape in slide.shapes:
            if shape.has_table:
                tables[slide.shapes.title.text] = [[cell.text for cell in row.cells] for row in shape.table.rows]
    return tables


def deck_text(content: bytes) -> str:
    return "\n".join(shape.text_frame.text for slide in Presentation(io.BytesIO(content)).slides
                     for shape in slide.shapes if shape.has_text_frame)


def pdf_reader(content: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(content))


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pdf_reader(content).pages)


def pdf_is_tagged(content: bytes) -> bool:
    root = pdf_reader(content).trailer["/Root"]
    return bool(root.get("/MarkInfo", {}).get("/Marked")) and "/StructTreeRoot" in root


def pdf_figure_alt_texts(content: bytes) -> list[str]:
    """The /Alt of every Figure in the structure tree."""
    found = []

    def walk(node):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict) and "/S" in node:
            if node["/S"] == "/Figure":
                found.append(str(node.get("/Alt", "")))
            if "/K" in node and not isinstance(node["/K"], int):
                walk(node["/K"])

    walk(pdf_reader(content).trailer["/Root"]["/StructTreeRoot"].get_object()["/K"])
    return found


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def formula_cells(content: bytes) -> list[str]:
    book = workbook(content)
    return [f"{sheet.title}!{cell.coordinate}" for sheet in book for row in sheet.iter_rows() for cell in row
            if cell.data_type == "f"]


def sheet_rows(content: bytes, title: str) -> list[tuple]:
    return [tuple(cell for cell in row) for row in workbook(content)[title].iter_rows(values_only=True)]
