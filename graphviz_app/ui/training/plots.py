"""Plots of a training run: loss per step, and per parameter the gradient norm and
the update/weight ratio, side by side. A list beside the plots names every parameter
in its colour and line style: untick one to hide its curves, click one (or its curve)
to select its node. Hovering a plot reads out the nearest curve's name and value."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from graphviz_app.core.training.settings import TrainRecord, TrainSettings, settings_change
from graphviz_app.ui.common.theme import LIGHT, Theme, ThemeManager
from graphviz_app.ui.training.plot_parts import (
    NO_BRUSH,
    change_pen,
    curve_style,
    line_pen,
    make_marker,
    make_plot,
    set_points,
    swatch,
)

CLICK_PIXELS = 10  # how far (vertically) from a curve a click still selects it
HOVER_PIXELS = 40  # how far from a curve the pointer still reads it out
LEGEND_WIDTH = (110, 240)  # the legend fits its longest name within these pixels


class TrainingPlots(QWidget):
    """Loss, gradient norms and update/weight ratios over the steps of a run."""

    param_clicked = Signal(str)  # the parameter's qualified name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = make_plot("loss", log=False)
        self.grad_plot = make_plot("|grad|", log=True)
        self.ratio_plot = make_plot("|Δw|/|w|", log=True)
        self.ratio_plot.getAxis("left").setToolTip("|update| / |weight| of each step")
        self.legend = QListWidget()
        self.legend.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.legend.setToolTip("Untick a parameter to hide its curves; click it to select its node")
        self.legend.itemClicked.connect(self._on_legend_item_clicked)
        self.legend.itemChanged.connect(self._on_legend_item_changed)
        self.readout = QLabel("Hover a plot to read a curve")
        self.readout.setWordWrap(True)
        self._lay_out()
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen(LIGHT.text, width=1))
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.grad_norms: dict[str, list[tuple[int, float]]] = {}
        self.ratios: dict[str, list[tuple[int, float]]] = {}
        self._curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._styles: dict[str, tuple[str, Qt.PenStyle, str]] = {}  # colour, line, symbol
        self.theme = LIGHT
        self._markers = {plot: make_marker(plot) for plot in self._plots()}
        self._settings: TrainSettings | None = None  # the latest step's
        self.changes: list[pg.InfiniteLine] = []  # where the settings changed (loss plot)
        # The loss of the run before the last Reset, faint: compare two settings.
        self.previous_curve = self.loss_plot.plot(pen=change_pen(LIGHT))
        self.previous_label = pg.TextItem("", color=LIGHT.muted, anchor=(1, 1))
        self.loss_plot.addItem(self.previous_label, ignoreBounds=True)
        for plot in self._plots():
            scene = plot.scene()
            scene.sigMouseMoved.connect(lambda pos, p=plot: self._on_plot_hovered(p, pos))
            scene.sigMouseClicked.connect(lambda event, p=plot: self._on_plot_clicked(p, event))

    def _lay_out(self) -> None:
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.legend, 1)
        side.addWidget(self.readout)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for plot in self._plots():
            layout.addWidget(plot, 1)
        layout.addLayout(side)
        self._fit_legend()

    def _plots(self) -> tuple[pg.PlotWidget, ...]:
        return (self.loss_plot, self.grad_plot, self.ratio_plot)

    def start_over(self) -> None:
        """After Reset weights: clear, keeping this run's loss as a faint curve named
        by its last settings, to compare the next run with (a reset with no step
        since keeps the one there is)."""
        if not self.steps:
            return
        steps, losses = list(self.steps), list(self.losses)
        text = f"previous run: {self._settings.describe()}" if self._settings else ""
        self.clear()
        self.previous_curve.setData(steps, losses)
        self.previous_label.setText(text)
        self.previous_label.setPos(steps[-1], losses[-1])

    def clear(self) -> None:
        """Forget every step (another model; :meth:`start_over` after a reset)."""
        self.previous_curve.setData([], [])
        self.previous_label.setText("")
        self.steps, self.losses = [], []
        self.grad_norms, self.ratios = {}, {}
        for (kind, _), curve in self._curves.items():
            self._plot_of(kind).removeItem(curve)
        self._curves.clear()
        self._styles.clear()
        self.legend.clear()
        self._fit_legend()
        self.loss_curve.setData([], [])
        for line in self.changes:
            self.loss_plot.removeItem(line)
        self.changes, self._settings = [], None
        for marker in self._markers.values():
            marker.setData([], [])

    def add_records(self, records: list[TrainRecord]) -> None:
        """Append several steps, redrawing each curve once."""
        for record in records:
            self._mark_change(record)
            self.steps.append(record.step)
            self.losses.append(record.loss)
            for update in record.params:
                self._append(self.grad_norms, update.name, record.step, update.grad_norm)
                self._append(self.ratios, update.name, record.step, update.update_ratio)
        self._draw_loss()
        for name in dict.fromkeys(u.name for r in records for u in r.params):
            for kind, series in (("grad", self.grad_norms), ("ratio", self.ratios)):
                curve = self._curves.get((kind, name)) or self._new_curve(kind, name)
                set_points(curve, series[name], *self._styles[name][::2])

    def _mark_change(self, record: TrainRecord) -> None:
        """A dashed line on the loss plot where the settings changed, named."""
        before, self._settings = self._settings, record.settings
        change = settings_change(before, record.settings) if before is not None else ""
        if change:
            line = pg.InfiniteLine(record.step - 0.5, 90, pen=change_pen(self.theme))
            line.label = pg.InfLineLabel(line, change, position=0.92, color=self.theme.text)
            line.setToolTip(f"From step {record.step}: {change}")
            self.loss_plot.addItem(line)
            self.changes.append(line)

    def parameter_names(self) -> list[str]:
        """The parameters with a curve, in the order they appeared."""
        return list(self.grad_norms)

    def curve(self, kind: str, name: str) -> pg.PlotDataItem:
        """The curve of ``name`` in the ``"grad"`` or ``"ratio"`` plot."""
        return self._curves[(kind, name)]

    def set_theme(self, theme: Theme) -> None:
        """Background, axes, loss curve and parameter colours in ``theme``'s colours."""
        self.theme = theme
        for plot in self._plots():
            plot.setBackground(theme.background)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(theme.muted))
                axis.setTextPen(pg.mkPen(theme.text))
        for index, name in enumerate(self._styles):
            self._styles[name] = curve_style(theme, index)
            self._restyle(name)
        self.loss_curve.setPen(pg.mkPen(theme.text, width=1))
        self.previous_curve.setPen(change_pen(theme))
        self.previous_label.setColor(theme.muted)
        for line in self.changes:
            line.setPen(change_pen(theme))
            line.label.setColor(theme.text)
        self._draw_loss()

    def nearest(
        self, plot: pg.PlotWidget, scene_pos: QPointF, within: float = HOVER_PIXELS
    ) -> tuple[str, int, float] | None:
        """The curve of ``plot`` nearest (vertically, in pixels) to ``scene_pos``:
        (name, step, value) of its point at the nearest step, or None when no shown
        curve passes within ``within`` pixels. The loss plot's curve is "loss"."""
        box = plot.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        where = box.mapSceneToView(scene_pos)
        pixel_height = box.viewPixelSize()[1] or 1.0
        best: tuple[float, str, pg.PlotDataItem] | None = None
        for name, curve in self._curves_in(plot):
            xs, ys = curve.getData()
            if xs is None or not len(xs) or not curve.isVisible():
                continue
            gap = abs(float(np.interp(where.x(), xs, ys)) - where.y()) / pixel_height
            if gap <= within and (best is None or gap < best[0]):
                best = (gap, name, curve)
        if best is None:
            return None
        xs, ys = best[2].getOriginalDataset()
        index = int(np.abs(np.asarray(xs) - where.x()).argmin())
        return best[1], int(xs[index]), float(ys[index])

    def _curves_in(self, plot: pg.PlotWidget) -> list[tuple[str, pg.PlotDataItem]]:
        if plot is self.loss_plot:
            return [("loss", self.loss_curve)]
        kind = "grad" if plot is self.grad_plot else "ratio"
        return [(name, curve) for (k, name), curve in self._curves.items() if k == kind]

    def _draw_loss(self) -> None:
        # A script's non-scalar root (out.backward(gradient)) has no loss: no point.
        points = [(s, v) for s, v in zip(self.steps, self.losses, strict=True) if math.isfinite(v)]
        set_points(self.loss_curve, points, self.theme.text, "o")
        middle = (self.steps[0] + self.steps[-1]) / 2 if self.steps else 0.0
        for line in self.changes:  # text on the side with room: right of early lines
            corner = (1, 0) if line.value() > middle else (0, 0)
            line.label.anchors = [corner, corner]
            line.label.updatePosition()

    @staticmethod
    def _append(
        table: dict[str, list[tuple[int, float]]], name: str, step: int, value: float
    ) -> None:
        series = table.setdefault(name, [])
        if math.isfinite(value) and value > 0:  # a log axis shows only positive values
            series.append((step, value))

    def _new_curve(self, kind: str, name: str) -> pg.PlotDataItem:
        if name not in self._styles:
            self._styles[name] = curve_style(self.theme, len(self._styles))
            self._add_legend_item(name)
        colour, line, _ = self._styles[name]
        curve = self._plot_of(kind).plot(pen=line_pen(colour, line))
        self._curves[(kind, name)] = curve
        return curve

    def _add_legend_item(self, name: str) -> None:
        item = QListWidgetItem(swatch(*self._styles[name][:2]), name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        item.setToolTip(f"{name}: untick to hide its curves, click to select its node")
        self.legend.addItem(item)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """As wide as the longest name (with box and swatch), within LEGEND_WIDTH;
        longer names are elided in the middle and read in full in their tooltip."""
        names = [self.legend.item(i).text() for i in range(self.legend.count())]
        metrics = self.legend.fontMetrics()
        text = max((metrics.horizontalAdvance(n) for n in names), default=0)
        chrome = 70  # check box, swatch, margins and a vertical scroll bar
        low, high = LEGEND_WIDTH
        self.legend.setFixedWidth(max(low, min(high, text + chrome)))
        self.readout.setFixedWidth(self.legend.width())

    def _restyle(self, name: str) -> None:
        colour, line, symbol = self._styles[name]
        for kind, series in (("grad", self.grad_norms), ("ratio", self.ratios)):
            curve = self._curves.get((kind, name))
            if curve is not None:
                curve.setPen(line_pen(colour, line))
                set_points(curve, series[name], colour, symbol)
        for item in self.legend.findItems(name, Qt.MatchFlag.MatchExactly):
            item.setIcon(swatch(colour, line))

    def _plot_of(self, kind: str) -> pg.PlotWidget:
        return self.grad_plot if kind == "grad" else self.ratio_plot

    def _on_plot_hovered(self, plot: pg.PlotWidget, scene_pos: QPointF) -> None:
        found = self.nearest(plot, scene_pos)
        marker = self._markers[plot]
        if found is None:
            marker.setData([], [])
            return
        name, step, value = found
        title = plot.getAxis("left").labelText
        self.readout.setText(f"{name}\n{title} {value:.4g} at step {step}")
        self.readout.setToolTip(self.readout.text())
        shown = math.log10(value) if plot is not self.loss_plot else value
        marker.setData([step], [shown], pen=pg.mkPen(self.theme.text, width=1.5), brush=NO_BRUSH)

    def _on_plot_clicked(self, plot: pg.PlotWidget, event: object) -> None:
        """Select the nearest curve's parameter: nearest in pixels, so a click between
        two close curves picks the closer one, not the one drawn on top."""
        if plot is self.loss_plot or event.button() != Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            return
        found = self.nearest(plot, event.scenePos(), CLICK_PIXELS)  # type: ignore[attr-defined]
        if found is not None:
            self.param_clicked.emit(found[0])

    def _on_legend_item_clicked(self, item: QListWidgetItem) -> None:
        self.param_clicked.emit(item.text())

    def _on_legend_item_changed(self, item: QListWidgetItem) -> None:
        shown = item.checkState() == Qt.CheckState.Checked
        for kind in ("grad", "ratio"):
            curve = self._curves.get((kind, item.text()))
            if curve is not None:
                curve.setVisible(shown)


def plots_in(
    splitter: QSplitter, index: int, on_param: Callable[[str], None], themes: ThemeManager
) -> TrainingPlots:
    """New plots in place of ``splitter``'s widget at ``index``, following ``themes``;
    a click on a parameter's curve calls ``on_param`` with its name."""
    plots = TrainingPlots()
    splitter.replaceWidget(index, plots)
    plots.param_clicked.connect(on_param)
    themes.theme_changed.connect(plots.set_theme)
    plots.set_theme(themes.theme)
    return plots
