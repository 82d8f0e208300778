"""The cycle report as a workbook: one sheet per part with the same figures as the deck and the
PDF, numbers as numbers (shares formatted as percentages), and a native chart beside each chart's data.

Every text cell is written as a string, never parsed, and text that a spreadsheet could take for a
formula (a coordinator's context text starting with "=", say) gets the exports' leading apostrophe
too, so it stays text even if the sheet is saved as CSV.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.chart import BarChart as ExcelBarChart, Reference
from openpyxl.styles import Alignment, Font

from ..export_formats import neutralise
from .document import BarChart, CycleReport, Paragraph, Percent, Table

SHEET_NAME_MAX = 31
TEXT_COLUMN_WIDTH = 100
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


def write_xlsx(report: CycleReport) -> bytes:
    workbook = Workbook()
    cover = workbook.active
    cover.title = "Report"
    for row, text in enumerate((report.title, report.authority, report.period, f"Generated on {report.generated_on.isoformat()}"), 1):
        _text(cover, row, 1, text, TITLE if row == 1 else None)
    cover.column_dimensions["A"].width = TEXT_COLUMN_WIDTH
    names = {"Report"}
    for part in report.parts:
        sheet = workbook.create_sheet(_sheet_name(part.title, names))
        _text(sheet, 1, 1, part.title, TITLE)
        row = 3
        for block in part.blocks:
            if isinstance(block, Paragraph):
                row = _paragraph(sheet, row, block)
            elif isinstance(block, Table):
                row = _table(sheet, row, block.caption, block.header, block.rows)
            elif isinstance(block, BarChart):
                row = _chart(sheet, row, block)
            row += 1
        sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_name(title: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "", title)[:SHEET_NAME_MAX].strip() or "Part"
    name, number = base, 2
    while name.lower() in {taken_name.lower() for taken_name in taken}:
        suffix = f" ({number})"
        name, number = base[:SHEET_NAME_MAX - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def _text(sheet, row: int, column: int, text: str, font: Font | None = None):
    cell = sheet.cell(row=row, column=column)
    cell.value = neutralise(text)
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if font is not None:
        cell.font = font
    return cell


def _paragraph(sheet, row: int, paragraph: Paragraph) -> int:
    if paragraph.heading:
        _text(sheet, row, 1, paragraph.heading, BOLD)
        row += 1
    cell = _text(sheet, row, 1, paragraph.text)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=8)
    return row + 1


def _table(sheet, row: int, caption: str, header, rows) -> int:
    _text(sheet, row, 1, caption, BOLD)
    for column, heading in enumerate(header, 1):
        _text(sheet, row + 1, column, heading, BOLD)
        sheet.column_dimensions[sheet.cell(row=row + 1, column=column).column_letter].width = max(
            14, sheet.column_dimensions[sheet.cell(row=row + 1, column=column).column_letter].width or 0)
    for offset, values in enumerate(rows, 2):
        for column, value in enumerate(values, 1):
            cell = sheet.cell(row=row + offset, column=column)
            if isinstance(value, Percent):
                cell.value = value.share
                cell.number_format = "0.0%"
            elif isinstance(value, str):
                _text(sheet, row + offset, column, value)
            else:
                cell.value = value
    return row + 1 + len(rows)


def _chart(sheet, row: int, chart: BarChart) -> int:
    values = [tuple(series.values[index] for series in chart.series) for index in range(len(chart.categories))]
    header = ("", *(f"{series.name} ({chart.unit})" for series in chart.series))
    end = _table(sheet, row, chart.title, header, tuple((category, *numbers) for category, numbers in zip(chart.categories, values)))
    excel = ExcelBarChart()
    excel.type = "bar"
    excel.grouping = "stacked" if chart.stacked else "clustered"
    if chart.stacked:
        excel.overlap = 100
    excel.title = chart.title
    excel.y_axis.title = chart.unit
    data = Reference(sheet, min_col=2, max_col=1 + len(chart.series), min_row=row + 1, max_row=end)
    categories = Reference(sheet, min_col=1, min_row=row + 2, max_row=end)
    excel.add_data(data, titles_from_data=True)
    excel.set_categories(categories)
    excel.width, excel.height = 18, max(6, 0.9 * len(chart.categories))
    sheet.add_chart(excel, sheet.cell(row=row, column=len(header) + 2).coordinate)
    return max(end, row + int(excel.height * 2))
