"""Plots of a training run: loss per step, and per parameter the gradient norm and
the update/weight ratio. A list beside the plots names every parameter in its
colour: untick one to hide its curves, click one (or its curve) to select its node."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from graphviz_app.core.training import TrainRecord
from graphviz_app.ui.theme import LIGHT, Theme

CLICK_WIDTH = 8  # pixels around a curve that count as a click on it
AXIS_WIDTH = 64  # pixels: room for "0.001" and the rotated title beside it
FEW_POINTS = 30  # up to this many steps, each is drawn as a dot too (one step shows)
MAX_LOG_TICKS = 4
LEGEND_WIDTH = 140
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


class TrainingPlots(QWidget):
    """Loss, gradient norms and update/weight ratios over the steps of a run."""

    param_clicked = Signal(str)  # the parameter's qualified name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("loss", log=False)
        self.grad_plot = _plot("|grad|", log=True)
        self.ratio_plot = _plot("|Δw|/|w|", log=True)
        self.ratio_plot.setLabel("bottom", "step", **TITLE_STYLE)
        self.ratio_plot.getAxis("left").setToolTip("|update| / |weight| of each step")
        self.legend = QListWidget()
        self.legend.setFixedWidth(LEGEND_WIDTH)
        self.legend.setToolTip("Untick a parameter to hide its curves; click it to select its node")
        self.legend.itemClicked.connect(self._on_legend_item_clicked)
        self.legend.itemChanged.connect(self._on_legend_item_changed)
        self._lay_out()
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen(LIGHT.text, width=1))
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.grad_norms: dict[str, list[tuple[int, float]]] = {}
        self.ratios: dict[str, list[tuple[int, float]]] = {}
        self._curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._colours: dict[str, str] = {}  # one colour per parameter in both plots
        self.theme = LIGHT

    def _lay_out(self) -> None:
        plots = QVBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            plots.addWidget(plot)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(plots, 1)
        layout.addWidget(self.legend)

    def clear(self) -> None:
        """Forget every step (a reset, another model)."""
        self.steps, self.losses = [], []
        self.grad_norms, self.ratios = {}, {}
        for (kind, _), curve in self._curves.items():
            self._plot_of(kind).removeItem(curve)
        self._curves.clear()
        self._colours.clear()
        self.legend.clear()
        self.loss_curve.setData([], [])

    def add_records(self, records: list[TrainRecord]) -> None:
        """Append several steps, redrawing each curve once."""
        for record in records:
            self.steps.append(record.step)
            self.losses.append(record.loss)
            for update in record.params:
                self._append(self.grad_norms, update.name, record.step, update.grad_norm)
                self._append(self.ratios, update.name, record.step, update.update_ratio)
        _set_points(
            self.loss_curve, list(zip(self.steps, self.losses, strict=True)), self.theme.text
        )
        for name in dict.fromkeys(u.name for r in records for u in r.params):
            for kind, series in (("grad", self.grad_norms), ("ratio", self.ratios)):
                curve = self._curves.get((kind, name)) or self._new_curve(kind, name)
                _set_points(curve, series[name], self._colours[name])

    def parameter_names(self) -> list[str]:
        """The parameters with a curve, in the order they appeared."""
        return list(self.grad_norms)

    def curve(self, kind: str, name: str) -> pg.PlotDataItem:
        """The curve of ``name`` in the ``"grad"`` or ``"ratio"`` plot."""
        return self._curves[(kind, name)]

    def set_theme(self, theme: Theme) -> None:
        """Background, axes, loss curve and parameter colours in ``theme``'s colours."""
        self.theme = theme
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            plot.setBackground(theme.background)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(theme.muted))
                axis.setTextPen(pg.mkPen(theme.text))
        for index, name in enumerate(self._colours):
            self._colours[name] = _colour(theme, index)
            self._recolour(name)
        self.loss_curve.setPen(pg.mkPen(theme.text, width=1))
        _set_points(self.loss_curve, list(zip(self.steps, self.losses, strict=True)), theme.text)

    @staticmethod
    def _append(
        table: dict[str, list[tuple[int, float]]], name: str, step: int, value: float
    ) -> None:
        series = table.setdefault(name, [])
        if math.isfinite(value) and value > 0:  # a log axis shows only positive values
            series.append((step, value))

    def _new_curve(self, kind: str, name: str) -> pg.PlotDataItem:
        if name not in self._colours:
            self._colours[name] = _colour(self.theme, len(self._colours))
            self._add_legend_item(name)
        curve = self._plot_of(kind).plot(pen=pg.mkPen(self._colours[name], width=1))
        curve.setCurveClickable(True, width=CLICK_WIDTH)
        curve.setToolTip(f"{name}: click to select its node")
        curve.sigClicked.connect(lambda *args, n=name: self.param_clicked.emit(n))
        self._curves[(kind, name)] = curve
        return curve

    def _add_legend_item(self, name: str) -> None:
        item = QListWidgetItem(_swatch(self._colours[name]), name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        item.setToolTip(f"{name}: untick to hide its curves, click to select its node")
        self.legend.addItem(item)

    def _recolour(self, name: str) -> None:
        colour = self._colours[name]
        for kind, series in (("grad", self.grad_norms), ("ratio", self.ratios)):
            curve = self._curves.get((kind, name))
            if curve is not None:
                curve.setPen(pg.mkPen(colour, width=1))
                _set_points(curve, series[name], colour)
        for item in self.legend.findItems(name, Qt.MatchFlag.MatchExactly):
            item.setIcon(_swatch(colour))

    def _plot_of(self, kind: str) -> pg.PlotWidget:
        return self.grad_plot if kind == "grad" else self.ratio_plot

    def _on_legend_item_clicked(self, item: QListWidgetItem) -> None:
        self.param_clicked.emit(item.text())

    def _on_legend_item_changed(self, item: QListWidgetItem) -> None:
        shown = item.checkState() == Qt.CheckState.Checked
        for kind in ("grad", "ratio"):
            curve = self._curves.get((kind, item.text()))
            if curve is not None:
                curve.setVisible(shown)


def _plot(title: str, log: bool) -> pg.PlotWidget:
    left = LogAxis("left") if log else pg.AxisItem("left")
    plot = pg.PlotWidget(
        background=LIGHT.background, axisItems={"bottom": StepAxis("bottom"), "left": left}
    )
    plot.setLabel("left", title, **TITLE_STYLE)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setLogMode(y=log)
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)  # see the note at the top
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.setMinimumHeight(90)
    return plot


def _set_points(curve: pg.PlotDataItem, points: list[tuple[int, float]], colour: str) -> None:
    """Draw ``points``; few of them get dots too, so a single step is visible."""
    dots = "o" if len(points) <= FEW_POINTS else None
    curve.setData(
        [s for s, _ in points],
        [v for _, v in points],
        symbol=dots,
        symbolSize=5,
        symbolPen=pg.mkPen(colour),
        symbolBrush=pg.mkBrush(colour),
    )


def _colour(theme: Theme, index: int) -> str:
    return theme.categorical[index % len(theme.categorical)]


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)
