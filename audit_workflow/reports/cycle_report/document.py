"""The cycle report as plain values: titled parts made of paragraphs, tables and bar charts.

Pure (no Flask, no database). Every writer (PPTX, PDF, XLSX) renders the same CycleReport block by
block, so the three files cannot say different things: a figure is put into the document once, by
the part builders, and never computed again by a writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Union

from ..statistics import percent_text


@dataclass(frozen=True)
class Percent:
    """A share from 0 to 1, shown as the reports pages show it ("44%", "1.8%"), and stored in XLSX
    as the exact number formatted as a percentage."""

    share: float

    def __str__(self) -> str:
        return percent_text(self.share)


Cell = Union[str, int, Percent, None]


def cell_text(value: Cell) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Paragraph:
    text: str
    heading: str | None = None  # a short bold lead-in, e.g. the section a recommendation is about


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def __post_init__(self):
        for row in self.rows:
            if len(row) != len(self.header):
                raise ValueError(f"{self.caption}: a row has {len(row)} cells for {len(self.header)} columns")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class BarChart:
    """A bar chart of counts or shares; `table` holds the same figures (with counts) for anyone who
    cannot see the chart, and the alt text is written from the data."""

    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str  # what a value is: "plans" or "% of plans"
    stacked: bool = False

    def __post_init__(self):
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(f"{self.title}: series {series.name!r} has {len(series.values)} values "
                                 f"for {len(self.categories)} categories")

    @property
    def is_percent(self) -> bool:
        return self.unit.startswith("%")

    def value_text(self, value: float) -> str:
        return f"{value:.1f}%" if self.is_percent else f"{value:g}"

    @property
    def alt_text(self) -> str:
        """"Bar chart: Overall grades (plans). Outstanding 2, Good 18, ..." with one sentence per series."""
        kind = "Stacked bar chart" if self.stacked else "Bar chart"
        sentences = []
        for series in self.series:
            figures = ", ".join(f"{category} {self.value_text(value)}" for category, value in zip(self.categories, series.values))
            sentences.append(f"{series.name}: {figures}." if len(self.series) > 1 else f"{figures}.")
        return f"{kind}: {self.title} ({self.unit}). " + " ".join(sentences)


Block = Union[Paragraph, Table, BarChart]


@dataclass(frozen=True)
class Part:
    key: str  # stable and short (the XLSX sheet name is made from the title, this names it in code and tests)
    title: str
    blocks: tuple[Block, ...]

    def charts(self) -> tuple[BarChart, ...]:
        return tuple(block for block in self.blocks if isinstance(block, BarChart))

    def tables(self) -> tuple[Table, ...]:
        return tuple(block for block in self.blocks if isinstance(block, Table))


@dataclass(frozen=True)
class CycleReport:
    title: str  # "Autumn 2026: EHC plan quality assurance"
    authority: str
    period: str  # "1 September 2026 to 30 November 2026"
    generated_on: date
    parts: tuple[Part, ...]

    def part(self, key: str) -> Part:
        for part in self.parts:
            if part.key == key:
                return part
        raise KeyError(key)
