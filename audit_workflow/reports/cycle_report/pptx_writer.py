"""The cycle report as a PowerPoint deck: native charts with their data embedded (so the board's
secretary can restyle or re-plot them in PowerPoint), alt text on every chart, real tables."""

from __future__ import annotations

import io
import textwrap

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.dml import MSO_PATTERN
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from .document import BarChart, CycleReport, Paragraph, Part, Table, cell_text
from .palette import swatch

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
BODY_TOP = Inches(1.5)
BODY_HEIGHT = SLIDE_HEIGHT - BODY_TOP - MARGIN
# Text and table rows that fit one slide at the sizes used; more continue on the next slide.
TEXT_CHARACTERS_PER_SLIDE = 1100
TABLE_ROWS_PER_SLIDE = 12
# A table of more columns than this wraps its cells onto two or three lines: fewer rows fit, in smaller type.
NARROW_COLUMNS = 6
WIDE_TABLE_ROWS_PER_SLIDE = 7

TITLE_LAYOUT, TITLE_ONLY_LAYOUT = 0, 5
PATTERNS = {"diagonal": MSO_PATTERN.WIDE_UPWARD_DIAGONAL, "dots": MSO_PATTERN.PERCENT_50,
            "horizontal": MSO_PATTERN.DARK_HORIZONTAL, "vertical": MSO_PATTERN.DARK_VERTICAL}


def write_pptx(report: CycleReport) -> bytes:
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    cover = deck.slides.add_slide(deck.slide_layouts[TITLE_LAYOUT])
    cover.shapes.title.text = report.title
    cover.placeholders[1].text = f"{report.authority}\n{report.period}\nGenerated on {_date(report)}"
    for part in report.parts:
        _write_part(deck, part)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _date(report: CycleReport) -> str:
    return f"{report.generated_on.day} {report.generated_on:%B %Y}"


def _write_part(deck, part: Part) -> None:
    pending: list[Paragraph] = []
    for block in (*part.blocks, None):
        if isinstance(block, Paragraph):
            pending.append(block)
            continue
        if pending:
            _text_slides(deck, part.title, pending)
            pending = []
        if isinstance(block, BarChart):
            _chart_slide(deck, part.title, block)
        elif isinstance(block, Table):
            _table_slides(deck, part.title, block)


def _slide(deck, title: str):
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
    slide.shapes.title.text = title
    slide.shapes.title.left, slide.shapes.title.top = MARGIN, Inches(0.3)
    slide.shapes.title.width, slide.shapes.title.height = SLIDE_WIDTH - 2 * MARGIN, Inches(1)
    return slide


def _joined(part_title: str, block_title: str) -> str:
    return part_title if block_title == part_title else f"{part_title}: {block_title}"


def _text_slides(deck, title: str, paragraphs: list[Paragraph]) -> None:
    """Paragraphs fill a slide up to TEXT_CHARACTERS_PER_SLIDE; a paragraph longer than a slide is cut at words."""
    pieces: list[Paragraph] = []
    for paragraph in paragraphs:
        chunks = textwrap.wrap(paragraph.text, TEXT_CHARACTERS_PER_SLIDE, break_long_words=False, replace_whitespace=False) or [""]
        pieces.extend(Paragraph(chunk, paragraph.heading if index == 0 else None) for index, chunk in enumerate(chunks))
    slides: list[list[Paragraph]] = [[]]
    used = 0
    for piece in pieces:
        if slides[-1] and used + len(piece.text) > TEXT_CHARACTERS_PER_SLIDE:
            slides.append([])
            used = 0
        slides[-1].append(piece)
        used += len(piece.text)
    for index, content in enumerate(slides):
        slide = _slide(deck, title if index == 0 else f"{title} (continued)")
        frame = slide.shapes.add_textbox(MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, BODY_HEIGHT).text_frame
        frame.word_wrap = True
        for number, piece in enumerate(content):
            paragraph = frame.paragraphs[0] if number == 0 else frame.add_paragraph()
            paragraph.space_after = Pt(10)
            if piece.heading:
                lead = paragraph.add_run()
                lead.text = f"{piece.heading}: "
                lead.font.bold = True
                lead.font.size = Pt(16)
            run = paragraph.add_run()
            run.text = piece.text
            run.font.size = Pt(16)


def _chart_slide(deck, title: str, chart: BarChart) -> None:
    slide = _slide(deck, _joined(title, chart.title))
    data = CategoryChartData(number_format='0.0"%"' if chart.is_percent else "0")
    data.categories = chart.categories
    for series in chart.series:
        data.add_series(series.name, series.values)
    kind = XL_CHART_TYPE.BAR_STACKED if chart.stacked else XL_CHART_TYPE.BAR_CLUSTERED
    frame = slide.shapes.add_chart(kind, MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, BODY_HEIGHT, data)
    # python-pptx has no property for alt text: it is the descr attribute of the frame's cNvPr.
    properties = frame._element.nvGraphicFramePr.cNvPr
    properties.set("descr", chart.alt_text)
    properties.set("title", chart.title)
    plot_chart = frame.chart
    plot_chart.font.size = Pt(12)
    plot_chart.has_legend = len(chart.series) > 1 or chart.stacked
    if plot_chart.has_legend:
        plot_chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        plot_chart.legend.include_in_layout = False
    plot_chart.category_axis.reverse_order = True  # the first category at the top, as in the table
    plot_chart.value_axis.has_title = True
    plot_chart.value_axis.axis_title.text_frame.text = chart.unit.capitalize()
    plot = plot_chart.plots[0]
    plot.has_data_labels = True
    plot.data_labels.number_format = '0.0"%"' if chart.is_percent else "0"
    plot.data_labels.number_format_is_linked = False
    if chart.stacked:
        plot.overlap = 100
    for index, series in enumerate(plot.series):
        look = swatch(index)
        fill = series.format.fill
        if look.pattern is None:
            fill.solid()
        else:
            fill.patterned()
            fill.pattern = PATTERNS[look.pattern]
            fill.back_color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        fill.fore_color.rgb = RGBColor.from_string(look.colour)


def _table_slides(deck, title: str, table: Table) -> None:
    wide = len(table.header) > NARROW_COLUMNS
    per_slide = WIDE_TABLE_ROWS_PER_SLIDE if wide else TABLE_ROWS_PER_SLIDE
    size = Pt(11 if wide else 12)
    for start in range(0, max(len(table.rows), 1), per_slide):
        rows = table.rows[start:start + per_slide]
        slide = _slide(deck, _joined(title, table.caption) + (" (continued)" if start else ""))
        height = Emu(int(Inches(0.4)) * (len(rows) + 1))
        shape = slide.shapes.add_table(len(rows) + 1, len(table.header), MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, height)
        grid = shape.table
        for column, heading in enumerate(table.header):
            _fill(grid.cell(0, column), heading, size, bold=True)
        for row_number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                _fill(grid.cell(row_number, column), cell_text(value), size)


def _fill(cell, text: str, size: Pt, bold: bool = False) -> None:
    cell.text = text
    for paragraph in cell.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = size
            run.font.bold = bold
