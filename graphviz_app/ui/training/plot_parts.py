"""The pieces the training plots are made of: axes with whole steps and few log
ticks, plot widgets that do not resize themselves in a loop, curve styles, swatches."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from graphviz_app.ui.common.theme import LIGHT, Theme

AXIS_WIDTH = 64  # pixels: room for "0.001" and the rotated title beside it
FEW_POINTS = 30  # up to this many steps, each is drawn as a dot too (one step shows)
MAX_LOG_TICKS = 4
PLOT_HEIGHT = 120  # each plot at least: readable ticks and curves
#: After the palette's colours, the same colours again dashed, then dotted.
LINE_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)
SYMBOLS = ("o", "t", "s")
NO_BRUSH = pg.mkBrush(0, 0, 0, 0)  # the dots of few steps, one shape per line style
TickLevels = list[tuple[Any, list[float]]]  # (spacing, values) per tick level
TITLE_STYLE = {"font-size": "8pt"}
# Fixed axis widths, no automatic SI prefix, no linked axes, 1-pixel pens: each of
# these lets auto-range change the axis text or padding, which resizes the view,
# which changes the range again. In short plots that loop kept the GUI thread
# repainting forever.


class StepAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """An x axis of optimizer steps: ticks only at whole steps."""

    def tickValues(self, low: float, high: float, size: float) -> TickLevels:
        levels = [
            (spacing, [v for v in values if float(v).is_integer()])
            for spacing, values in super().tickValues(low, high, size)
            if spacing >= 1
        ]
        if not any(values for _, values in levels):  # a range narrower than one step
            whole = range(math.ceil(low), math.floor(high) + 1)
            levels = [(1.0, [float(v) for v in whole])]
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [str(round(v)) for v in values]


class LogAxis(pg.AxisItem):  # type: ignore[misc]
    """A log y axis with a few ticks: decades, else 1-2-5 steps, else three values."""

    def logTickValues(
        self, low: float, high: float, size: float, std_ticks: TickLevels
    ) -> TickLevels:
        decades = [float(v) for v in range(math.ceil(low), math.floor(high) + 1)]
        if len(decades) >= 2:
            stride = math.ceil(len(decades) / MAX_LOG_TICKS)
            return [(None, decades[::stride])]
        nice = [
            v + math.log10(m) for v in range(math.floor(low), math.ceil(high)) for m in (1, 2, 5)
        ]
        inside = [v for v in nice if low <= v <= high]
        if len(inside) >= 2:
            return [(None, inside[:: math.ceil(len(inside) / MAX_LOG_TICKS)])]
        return [(None, [low + (high - low) * f for f in (0.15, 0.5, 0.85)])]

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{10**v:.2g}" for v in values]


def make_plot(title: str, log: bool) -> pg.PlotWidget:
    left = LogAxis("left") if log else pg.AxisItem("left")
    plot = pg.PlotWidget(
        background=LIGHT.background, axisItems={"bottom": StepAxis("bottom"), "left": left}
    )
    plot.setLabel("left", title, **TITLE_STYLE)
    plot.setLabel("bottom", "step", **TITLE_STYLE)  # on every plot: they sit side by side
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setLogMode(y=log)
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)  # see the note at the top
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.setMinimumHeight(PLOT_HEIGHT)
    plot.setMouseTracking(True)
    return plot


def make_marker(plot: pg.PlotWidget) -> pg.ScatterPlotItem:
    """A ring on the point the read-out describes; outside auto-range (see the top)."""
    marker = pg.ScatterPlotItem(size=10, symbol="o")
    plot.addItem(marker, ignoreBounds=True)
    return marker


def set_points(
    curve: pg.PlotDataItem, points: list[tuple[int, float]], colour: str, symbol: str
) -> None:
    """Draw ``points``; few of them get dots too, so a single step is visible."""
    dots = symbol if len(points) <= FEW_POINTS else None
    curve.setData(
        [s for s, _ in points],
        [v for _, v in points],
        symbol=dots,
        symbolSize=5,
        symbolPen=pg.mkPen(colour),
        symbolBrush=pg.mkBrush(colour),
    )


def curve_style(theme: Theme, index: int) -> tuple[str, Qt.PenStyle, str]:
    """Colour, line style and dot shape of the ``index``-th parameter: every colour
    solid, then every colour dashed, then dotted, so no two of 21 curves look alike."""
    colours = theme.categorical
    variant = (index // len(colours)) % len(LINE_STYLES)
    return colours[index % len(colours)], LINE_STYLES[variant], SYMBOLS[variant]


def change_pen(theme: Theme) -> QPen:
    return line_pen(theme.muted, Qt.PenStyle.DashLine)


def line_pen(colour: str, line: Qt.PenStyle) -> QPen:
    pen: QPen = pg.mkPen(colour, width=1, style=line)
    return pen


def swatch(colour: str, line: Qt.PenStyle) -> QIcon:
    """A short line in the curve's colour and style."""
    pixmap = QPixmap(22, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    pen = QPen(QColor(colour), 2.5, line)
    painter.setPen(pen)
    painter.drawLine(1, 6, 21, 6)
    painter.end()
    return QIcon(pixmap)
