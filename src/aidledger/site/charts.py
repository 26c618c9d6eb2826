"""Charts drawn on the server as SVG: no script, no request, a title and description for screen readers.

Every chart is drawn beside a real ``<table>`` of the same figures (the templates put it there);
the SVG is a picture of that table, never the only place a figure is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart"]

COLOURS = ("#1f5fa8", "#e08a1e")
"""Pledged and disbursed: a blue and an orange that stay apart for the common colour blindnesses."""


class Bar(NamedTuple):
    """One row of a chart: its label and one value per series."""

    label: str
    values: tuple[Decimal, ...]


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def bar_chart(chart_id: str, title: str, description: str, series: Sequence[str], bars: Sequence[Bar]) -> Markup:
    """A horizontal grouped bar chart: one group per row, one bar per series, scaled to the largest value."""
    label_width, bar_width, row_height, bar_height = 180, 420, 14 * len(series) + 12, 12
    legend_height = 22
    height = legend_height + row_height * max(len(bars), 1) + 8
    largest = max((value for bar in bars for value in bar.values), default=Decimal(0)) or Decimal(1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {label_width + bar_width + 10} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, name in enumerate(series):
        x = label_width + index * 160
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[index % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 16}" y="14" font-size="12">{escape(name)}</text>')
    for row, bar in enumerate(bars):
        top = legend_height + row * row_height
        label = bar.label if len(bar.label) <= 16 else bar.label[:15] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{top + row_height / 2 + 4:.1f}" font-size="12" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for index, value in enumerate(bar.values):
            width = float(value / largest) * bar_width if value > 0 else 0.0
            y = top + 4 + index * 14
            colour = COLOURS[index % len(COLOURS)]
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{bar_height}" fill="{colour}">'
                f"<title>{escape(bar.label)}: {escape(series[index])} {_amount(value)}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
