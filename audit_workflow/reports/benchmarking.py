"""When a benchmark may be shown, and reading the files of published figures. Pure.

A figure pooled across other LAs is shown only when at least MIN_CONTRIBUTORS LAs contributed to
it, so no LA's results can be read off a benchmark, and a benchmark never names an LA.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from ..framework import SECTION_CODES, Grade
from ..framework.model import GRADES_BEST_FIRST
from .aggregates import OVERALL, Distribution, GradeCount, distribution_of

MIN_CONTRIBUTORS = 5
GRADES_BY_VALUE = {grade.value: grade for grade in GRADES_BEST_FIRST}


def pooled_distribution(rows: list[GradeCount], contributors: Mapping[str, int], section_code: str,
                        title: str) -> Distribution | None:
    """A section's (or the overall) pooled grades, or None when fewer than MIN_CONTRIBUTORS LAs
    contributed to it."""
    if contributors.get(section_code, 0) < MIN_CONTRIBUTORS:
        return None
    return distribution_of(section_code, title, {row.grade: row.count for row in rows if row.section_code == section_code})


class BenchmarkFileError(ValueError):
    """A file that cannot be loaded; the message names the line and what to change."""


@dataclass(frozen=True)
class PublishedRow:
    source: str
    la_code: str | None
    section_code: str
    grade: Grade
    percent: float
    plans: int | None


BENCHMARK_COLUMNS = ("source", "section", "grade", "percent", "plans", "la_code")


def read_benchmark_file(text: str) -> list[PublishedRow]:
    """Rows of `source,section,grade,percent[,plans][,la_code]` (docs/reports.md); every line is
    checked before any is stored, and the first problems are reported together."""
    rows, problems = [], []
    for line, record in _records(text, required=("source", "section", "grade", "percent")):
        try:
            rows.append(_published_row(record))
        except ValueError as problem:
            problems.append(f"line {line}: {problem}")
    _raise_if(problems)
    seen = set()
    for row in rows:
        key = (row.source, row.section_code, row.grade)
        if key in seen:
            problems.append(f"{row.source}: {row.section_code} {row.grade.label} is given twice")
        seen.add(key)
    _raise_if(problems)
    return rows


def _published_row(record: dict[str, str]) -> PublishedRow:
    source = record["source"].strip()
    if not source or len(source) > 300:
        raise ValueError("source must name who published the figure (at most 300 characters)")
    section = record["section"].strip().upper()
    section_code = OVERALL if section == OVERALL.upper() else section
    if section_code not in (OVERALL, *SECTION_CODES):
        raise ValueError(f'section must be "overall" or one of {", ".join(SECTION_CODES)}')
    # "Requires improvement" and "requires_improvement" alike
    grade = GRADES_BY_VALUE.get(record["grade"].strip().lower().replace(" ", "_"))
    if grade is None:
        raise ValueError("grade must be Outstanding, Good, Requires improvement or Inadequate")
    percent = _number(record["percent"].strip().rstrip("%"), "percent")
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    plans_text = (record.get("plans") or "").strip()
    plans = int(_number(plans_text, "plans")) if plans_text else None
    if plans is not None and plans <= 0:
        raise ValueError("plans must be a positive whole number, or empty")
    la_code = (record.get("la_code") or "").strip() or None
    return PublishedRow(source, la_code, section_code, grade, percent, plans)


@dataclass(frozen=True)
class NeighbourRow:
    la_code: str
    neighbour_code: str
    rank: int


def read_neighbours_file(text: str) -> list[NeighbourRow]:
    """Rows of `la_code,neighbour_code,rank`, as in DfE's statistical neighbour table."""
    rows, problems = [], []
    for line, record in _records(text, required=("la_code", "neighbour_code", "rank")):
        la_code, neighbour = record["la_code"].strip(), record["neighbour_code"].strip()
        rank = record["rank"].strip()
        if not (la_code.isdigit() and len(la_code) == 3 and neighbour.isdigit() and len(neighbour) == 3):
            problems.append(f"line {line}: LA codes are three digits, e.g. 886")
        elif not rank.isdigit():
            problems.append(f"line {line}: rank must be a whole number")
        elif la_code == neighbour:
            problems.append(f"line {line}: an LA is not its own neighbour")
        else:
            rows.append(NeighbourRow(la_code, neighbour, int(rank)))
    _raise_if(problems)
    return rows


@dataclass(frozen=True)
class ContextRow:
    la_code: str | None  # None: England
    measure: str
    year: str
    value: float
    unit: str
    source: str


def read_context_file(text: str) -> list[ContextRow]:
    """Rows of `area,measure,year,value,unit,source`; area is an LA code or "England"."""
    rows, problems = [], []
    for line, record in _records(text, required=("area", "measure", "year", "value", "source")):
        area = record["area"].strip()
        measure, year, source = record["measure"].strip(), record["year"].strip(), record["source"].strip()
        if not (area.lower() == "england" or (area.isdigit() and len(area) == 3)):
            problems.append(f'line {line}: area must be "England" or a three-digit LA code')
            continue
        if not measure or not year or not source:
            problems.append(f"line {line}: measure, year and source are all needed")
            continue
        try:
            value = _number(record["value"].strip().rstrip("%"), "value")
        except ValueError as problem:
            problems.append(f"line {line}: {problem}")
            continue
        rows.append(ContextRow(None if area.lower() == "england" else area, measure[:200], year[:20], value,
                               (record.get("unit") or "%").strip()[:20] or "%", source[:300]))
    _raise_if(problems)
    return rows


def _records(text: str, required: tuple[str, ...]):
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise BenchmarkFileError(f"The first line must name the columns; missing: {', '.join(missing)}")
    reader.fieldnames = header
    count = 0
    for count, record in enumerate(reader, start=2):
        if any((value or "").strip() for value in record.values() if isinstance(value, str)):
            yield count, {key: value or "" for key, value in record.items() if isinstance(key, str)}
    if count == 0:
        raise BenchmarkFileError("The file has no rows under its header")


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text[:20]!r}") from None


def _raise_if(problems: list[str]) -> None:
    if problems:
        shown = problems[:10]
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise BenchmarkFileError("; ".join(shown) + more)
