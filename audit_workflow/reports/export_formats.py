"""CSV and XLSX from rows of cells, safe to open in a spreadsheet. Pure: no Flask, no database.

A cell whose text starts with =, +, -, @, a tab or a carriage return could be read as a formula
by Excel or LibreOffice (CSV injection, OWASP); such text is written with a leading apostrophe,
so it is shown as the text it is and never evaluated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import chain

from openpyxl import Workbook

from ..clock import ENGLAND

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"


def neutralise(value: object) -> object:
    """Text that a spreadsheet could take for a formula, prefixed with an apostrophe; aware
    times as England's local time without a zone (spreadsheets cannot hold zones)."""
    if type(value) is str:  # most cells: checked first, and cheaply
        return "'" + value if value[:1] in _FORMULA_FIRST else value
    if isinstance(value, datetime):
        return value.astimezone(ENGLAND).replace(tzinfo=None) if value.tzinfo else value
    return value


def csv_bytes(preamble: Sequence[Sequence[object]], headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel reads accents and dashes correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in chain(preamble, [headers], rows):
        writer.writerow([_csv_text(neutralise(value)) for value in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_text(value: object) -> object:
    if type(value) is str:
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def xlsx_bytes(title: str, preamble: Sequence[Sequence[object]], headers: Sequence[str],
               rows: Iterable[Sequence[object]]) -> bytes:
    """One sheet: what the export is (preamble lines), a header row, then the rows; written as it
    goes (openpyxl's write-only mode), so a large export does not build a workbook in memory."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for line in preamble:
        sheet.append([neutralise(value) for value in line])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
