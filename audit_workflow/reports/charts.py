"""Charts drawn on the server as SVG: no JavaScript, no inline styles (the CSP forbids them).

Each grade has a colour from the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies) AND its own pattern, so the chart also reads in greyscale; every chart has a <title>
and a <desc> that says its numbers in words, and the page puts the same numbers in a table under it.
Pure: distributions in, markup out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from ..framework import Grade
from ..framework.model import GRADES_BEST_FIRST
from .aggregates import Distribution
from .statistics import percent_text


@dataclass(frozen=True)
class GradeStyle:
    colour: str
    pattern: str  # SVG drawing of one pattern tile over the colour


STYLES = {
    Grade.OUTSTANDING: GradeStyle("#0072B2", ""),  # plain
    Grade.GOOD: GradeStyle("#009E73", '<path d="M0 8 L8 0" stroke="#ffffff" stroke-width="1.5"/>'),
    Grade.REQUIRES_IMPROVEMENT: GradeStyle("#E69F00", '<circle cx="4" cy="4" r="1.5" fill="#0b0c0c"/>'),
    Grade.INADEQUATE: GradeStyle("#D55E00", '<path d="M0 0 L8 8 M8 0 L0 8" stroke="#ffffff" stroke-width="1.5"/>'),
}
PATTERN_NAMES = {Grade.OUTSTANDING: "plain", Grade.GOOD: "diagonal lines", Grade.REQUIRES_IMPROVEMENT: "dots",
                 Grade.INADEQUATE: "crossed lines"}

WIDTH = 720
LABEL_WIDTH = 200
BAR_HEIGHT = 28
GAP = 10
LEGEND_HEIGHT = 40
MIN_LABELLED_SHARE = 0.07  # segments narrower than this carry no number (the table has it)


def stacked_bars(chart_id: str, title: str, rows: Sequence[Distribution]) -> Markup:
    """One 100% bar per distribution, split by grade, with the number of plans at its end."""
    bar_width = WIDTH - LABEL_WIDTH - 80
    height = LEGEND_HEIGHT + len(rows) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        f'font-family="GDS Transport, arial, sans-serif">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(describe(rows))}</desc>',
        _patterns(chart_id),
        _legend(chart_id),
    ]
    for index, row in enumerate(rows):
        y = LEGEND_HEIGHT + GAP + index * (BAR_HEIGHT + GAP)
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.65:.1f}" text-anchor="end" '
                     f'font-size="13" fill="#0b0c0c">{escape(_short(row.title))}</text>')
        x = float(LABEL_WIDTH)
        for share in row.shares if row.total else []:
            width = bar_width * share.count / row.total
            if width <= 0:
                continue
            parts.append(_segment(chart_id, share.grade, x, y, width, f"{share.label}: {share.text}"))
            if share.count / row.total >= MIN_LABELLED_SHARE:
                parts.append(_label(x + width / 2, y, percent_text(share.count / row.total)))
            x += width
        plans = f"{row.total} plans" if row.total else "no graded plans"
        parts.append(f'<text x="{LABEL_WIDTH + bar_width + 8}" y="{y + BAR_HEIGHT * 0.65:.1f}" font-size="12" '
                     f'fill="#0b0c0c">{plans}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def describe(rows: Sequence[Distribution]) -> str:
    """The chart's numbers in words, for screen readers: every share with its count."""
    sentences = []
    for row in rows:
        if not row.total:
            sentences.append(f"{row.title}: no graded plans.")
            continue
        shares = ", ".join(f"{share.label} {share.text}" for share in row.shares)
        sentences.append(f"{row.title}: {shares}.")
    return " ".join(sentences)


def _label(centre: float, y: float, text: str) -> str:
    # On a white box: black on white reads over every colour and pattern.
    box = 8 + 7 * len(text)
    return (f'<g aria-hidden="true"><rect x="{centre - box / 2:.1f}" y="{y + BAR_HEIGHT / 2 - 9:.1f}" width="{box}" '
            f'height="18" rx="3" fill="#ffffff"/><text x="{centre:.1f}" y="{y + BAR_HEIGHT * 0.65:.1f}" '
            f'text-anchor="middle" font-size="12" font-weight="bold" fill="#0b0c0c">{text}</text></g>')


def _segment(chart_id: str, grade: Grade, x: float, y: float, width: float, tooltip: str) -> str:
    style = STYLES[grade]
    base = f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{style.colour}"/>'
    pattern = (f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
               f'fill="url(#{chart_id}-{grade.value})"/>') if style.pattern else ""
    return f"<g><title>{escape(tooltip)}</title>{base}{pattern}</g>"


def _patterns(chart_id: str) -> str:
    tiles = "".join(
        f'<pattern id="{chart_id}-{grade.value}" width="8" height="8" patternUnits="userSpaceOnUse">{style.pattern}</pattern>'
        for grade, style in STYLES.items() if style.pattern
    )
    return f"<defs>{tiles}</defs>"


def _legend(chart_id: str) -> str:
    items, x = [], float(LABEL_WIDTH)
    for grade in GRADES_BEST_FIRST:
        style = STYLES[grade]
        pattern = f'<rect x="{x:.0f}" y="10" width="18" height="18" fill="url(#{chart_id}-{grade.value})"/>' if style.pattern else ""
        items.append(f'<rect x="{x:.0f}" y="10" width="18" height="18" fill="{style.colour}"/>{pattern}'
                     f'<text x="{x + 24:.0f}" y="24" font-size="13" fill="#0b0c0c">{grade.label}</text>')
        x += 34 + 7.5 * len(grade.label)
    return f'<g aria-hidden="true">{"".join(items)}</g>'


def _short(title: str, limit: int = 28) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
