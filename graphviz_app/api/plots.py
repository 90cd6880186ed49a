"""Small line plots as inline SVG (for the notebook's live view): no plotting library,
no network, a few kilobytes each."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 300.0, 180.0
LEFT, RIGHT, TOP, BOTTOM = 46.0, 8.0, 18.0, 50.0  # margins: axis labels, legend
#: Okabe-Ito: colour-blind safe, as the window's plots.
COLORS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


def line_plot(
    series: Mapping[str, Sequence[tuple[float, float]]], title: str, log: bool = False
) -> str:
    """One SVG plot of ``series`` (name -> (x, y) points); ``log``: a log10 y axis."""
    points = [p for values in series.values() for p in values]
    if not points:
        return _frame(title, f'<text x="{LEFT}" y="{HEIGHT / 2}" fill="#888">no data yet</text>')
    ys = [_y(y, log) for _, y in points]
    xs = [x for x, _ in points]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def at(x: float, y: float) -> str:
        px = LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)
        py = HEIGHT - BOTTOM - (_y(y, log) - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM)
        return f"{px:.1f},{py:.1f}"

    parts = [_axes(x0, x1, y0, y1, log)]
    for index, (name, values) in enumerate(series.items()):
        color = COLORS[index % len(COLORS)]
        line = " ".join(at(x, y) for x, y in values)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{line}"/>')
        parts.append(_legend(index, name, color))
    return _frame(title, "".join(parts))


def _y(value: float, log: bool) -> float:
    return math.log10(value) if log else value


def _frame(title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:g}" height="{HEIGHT:g}" '
        f'font-family="sans-serif" font-size="10" style="border:1px solid #ddd">'
        f'<text x="{LEFT}" y="12" font-weight="bold">{escape(title)}</text>{body}</svg>'
    )


def _axes(x0: float, x1: float, y0: float, y1: float, log: bool) -> str:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT

    def label(v: float) -> str:
        return f"{10**v:.2g}" if log else f"{v:.3g}"

    return (
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#999"/>'
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
        f'<text x="{LEFT - 3}" y="{TOP + 4}" text-anchor="end">{label(y1)}</text>'
        f'<text x="{LEFT - 3}" y="{bottom}" text-anchor="end">{label(y0)}</text>'
        f'<text x="{LEFT}" y="{bottom + 11}">{x0:g}</text>'
        f'<text x="{right}" y="{bottom + 11}" text-anchor="end">step {x1:g}</text>'
    )


def _legend(index: int, name: str, color: str) -> str:
    x = LEFT + (index % 3) * 84
    y = HEIGHT - BOTTOM + 22 + (index // 3) * 10
    short = name if len(name) <= 12 else "\u2026" + name[-11:]
    return f'<text x="{x:.0f}" y="{y:.0f}" fill="{color}">{escape(short)}</text>'
