"""Geometry of the small server-rendered SVG bar chart on the dashboard (no JavaScript).

All coordinates are whole numbers in the SVG's own units (the ``viewBox``), so the template
only copies them into presentation attributes; CSP forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import dateformat

BAR_WIDTH = 24
GAP = 8
TOP = 4            # room above the tallest bar
PLOT_HEIGHT = 120  # the tallest bar is exactly this high
LABEL_HEIGHT = 18  # room below the baseline for the month labels
BASELINE = TOP + PLOT_HEIGHT


def _height(value: Decimal, peak: Decimal) -> int:
    if value <= 0 or peak <= 0:
        return 0
    scaled = (Decimal(value) * PLOT_HEIGHT / Decimal(peak)).quantize(Decimal(1), ROUND_HALF_UP)
    return max(1, int(scaled))  # a small non-zero month stays visible


def bar_chart(points: Sequence[tuple[tuple[int, int], Decimal]]) -> list[dict]:
    """One bar per ``((year, month), value)``: heights proportional to the value, the tallest
    ``PLOT_HEIGHT``, zero (or negative) values 0. Labels use the active language ("Dez")."""
    peak = max((value for _month, value in points), default=Decimal(0))
    bars = []
    for index, ((year, month), value) in enumerate(points):
        height = _height(value, peak)
        x = GAP // 2 + index * (BAR_WIDTH + GAP)
        first = date(year, month, 1)
        bars.append({
            "x": x, "y": BASELINE - height, "width": BAR_WIDTH, "height": height,
            "label_x": x + BAR_WIDTH // 2, "label_y": BASELINE + LABEL_HEIGHT - 4,
            "label": dateformat.format(first, "M"),
            "long_label": dateformat.format(first, "F Y"),
            "month": (year, month), "value": value,
        })
    return bars


def chart_size(count: int) -> dict[str, int]:
    """The ``viewBox`` size for ``count`` bars and the y of the baseline."""
    return {"width": max(count, 1) * (BAR_WIDTH + GAP), "height": BASELINE + LABEL_HEIGHT,
            "baseline": BASELINE}
