"""The cycle report as a tagged PDF (PDF/UA-1): HTML from a Jinja template, laid out by WeasyPrint.

Charts are SVG images with the chart's alt text, followed by the table of the same figures, so a
screen reader gets every number. WeasyPrint needs Pango from the operating system; PdfUnavailable
says so plainly when it is missing, instead of an import error deep in a request.
"""

from __future__ import annotations

import base64
from html import escape

from jinja2 import Environment, PackageLoader, select_autoescape

from .document import BarChart, CycleReport, Paragraph, Table, cell_text
from .palette import swatch

_templates = Environment(loader=PackageLoader(__package__, "templates"), autoescape=select_autoescape(["html"]))
_templates.tests["instance_of"] = isinstance


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the Pango library it needs is not installed."""


def pdf_available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as missing:  # OSError: Pango's shared library is absent
        raise PdfUnavailable(f"PDF reports need WeasyPrint and the Pango library: {missing}") from missing
    return weasyprint


def report_html(report: CycleReport) -> str:
    return _templates.get_template("cycle_report/report.html").render(
        report=report, Paragraph=Paragraph, Table=Table, BarChart=BarChart, cell_text=cell_text,
        chart_image=chart_image,
    )


def write_pdf(report: CycleReport) -> bytes:
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=report_html(report)).write_pdf(pdf_variant="pdf/ua-1")


# --- SVG charts ----------------------------------------------------------------------------------

LABEL_WIDTH, PLOT_WIDTH, VALUE_WIDTH = 190, 380, 60
BAR_HEIGHT, GAP, LEGEND_ROW = 16, 10, 22


def chart_image(chart: BarChart) -> str:
    """A data: URL of the chart as SVG, horizontal bars with their values, for an <img> with alt text."""
    svg = chart_svg(chart)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def chart_svg(chart: BarChart) -> str:
    stacked = chart.stacked
    bars_per_category = 1 if stacked else len(chart.series)
    row_height = bars_per_category * BAR_HEIGHT + GAP
    if stacked:
        largest = max((sum(values) for values in zip(*(series.values for series in chart.series))), default=0)
    else:
        largest = max((value for series in chart.series for value in series.values), default=0)
    scale = PLOT_WIDTH / largest if largest else 0
    legend_height = LEGEND_ROW if len(chart.series) > 1 else 0
    height = legend_height + row_height * len(chart.categories) + GAP
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    shapes = [_patterns()]
    if legend_height:
        x = 0
        for index, series in enumerate(chart.series):
            shapes.append(f'<rect x="{x}" y="4" width="14" height="14" {_paint(index)}/>'
                          f'<text x="{x + 18}" y="16">{escape(series.name)}</text>')
            x += 26 + 7 * len(series.name)
    for row, category in enumerate(chart.categories):
        top = legend_height + row * row_height + GAP
        shapes.append(f'<text x="{LABEL_WIDTH - 6}" y="{top + BAR_HEIGHT - 4}" text-anchor="end">{escape(category)}</text>')
        left = LABEL_WIDTH
        for index, series in enumerate(chart.series):
            value = series.values[row]
            length = value * scale
            y = top if stacked else top + index * BAR_HEIGHT
            shapes.append(f'<rect x="{left:.1f}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT - 2}" {_paint(index)}/>')
            if not stacked:
                shapes.append(f'<text x="{left + length + 4:.1f}" y="{y + BAR_HEIGHT - 4}">{chart.value_text(value)}</text>')
            else:
                left += length
        if stacked:
            total = sum(series.values[row] for series in chart.series)
            shapes.append(f'<text x="{left + 4:.1f}" y="{top + BAR_HEIGHT - 4}">{chart.value_text(total)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="DejaVu Sans, sans-serif" font-size="11">{"".join(shapes)}</svg>')


def _patterns() -> str:
    lines = {"diagonal": '<path d="M0,6 L6,0" stroke-width="2"/>', "dots": '<circle cx="3" cy="3" r="1.5"/>',
             "horizontal": '<path d="M0,3 L6,3" stroke-width="2"/>', "vertical": '<path d="M3,0 L3,6" stroke-width="2"/>'}
    definitions = []
    for index in range(5):
        look = swatch(index)
        if look.pattern:
            definitions.append(
                f'<pattern id="p{index}" width="6" height="6" patternUnits="userSpaceOnUse">'
                f'<rect width="6" height="6" fill="#ffffff"/>'
                f'<g stroke="#{look.colour}" fill="#{look.colour}">{lines[look.pattern]}</g></pattern>')
    return f"<defs>{''.join(definitions)}</defs>"


def _paint(index: int) -> str:
    look = swatch(index)
    fill = f"url(#p{index % 5})" if look.pattern else f"#{look.colour}"
    return f'fill="{fill}" stroke="#{look.colour}" stroke-width="1"'
