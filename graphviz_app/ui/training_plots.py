"""Plots of a training run: loss per step, and per parameter the gradient norm and
the update/weight ratio. Clicking a parameter's curve asks for its node."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from graphviz_app.core.training import TrainRecord

#: Okabe-Ito: told apart with any colour vision.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
CLICK_WIDTH = 8  # pixels around a curve that count as a click on it
AXIS_WIDTH = 56  # pixels
# Fixed axis widths, no automatic SI prefix, no linked axes, 1-pixel pens: each of
# these lets auto-range change the axis text or padding, which resizes the view,
# which changes the range again. In short plots that loop kept the GUI thread
# repainting forever.


class TrainingPlots(QWidget):
    """Loss, gradient norms and update/weight ratios over the steps of a run."""

    param_clicked = Signal(str)  # the parameter's qualified name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("loss", log=False)
        self.grad_plot = _plot("|grad|", log=True)
        self.ratio_plot = _plot("|update|/|w|", log=True)
        self.ratio_plot.setLabel("bottom", "step")
        self.grad_plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            layout.addWidget(plot)
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#000000", width=1))
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.grad_norms: dict[str, list[tuple[int, float]]] = {}
        self.ratios: dict[str, list[tuple[int, float]]] = {}
        self._curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._colours: dict[str, str] = {}  # one colour per parameter in both plots

    def clear(self) -> None:
        """Forget every step (a reset, another model)."""
        self.steps, self.losses = [], []
        self.grad_norms, self.ratios = {}, {}
        for (kind, _), curve in self._curves.items():
            self._plot_of(kind).removeItem(curve)  # and from the legend
        self._curves.clear()
        self._colours.clear()
        self.loss_curve.setData([], [])

    def add_record(self, record: TrainRecord) -> None:
        """Append one step's loss and per-parameter numbers."""
        self.add_records([record])

    def add_records(self, records: list[TrainRecord]) -> None:
        """Append several steps, redrawing each curve once."""
        for record in records:
            self.steps.append(record.step)
            self.losses.append(record.loss)
            for update in record.params:
                self._append(self.grad_norms, update.name, record.step, update.grad_norm)
                self._append(self.ratios, update.name, record.step, update.update_ratio)
        self.loss_curve.setData(self.steps, self.losses)
        for name in {u.name for r in records for u in r.params}:
            for kind, series in (("grad", self.grad_norms), ("ratio", self.ratios)):
                points = series[name]
                curve = self._curves.get((kind, name)) or self._new_curve(kind, name)
                curve.setData([s for s, _ in points], [v for _, v in points])

    def parameter_names(self) -> list[str]:
        """The parameters with a curve, in the order they appeared."""
        return list(self.grad_norms)

    def curve(self, kind: str, name: str) -> pg.PlotDataItem:
        """The curve of ``name`` in the ``"grad"`` or ``"ratio"`` plot."""
        return self._curves[(kind, name)]

    @staticmethod
    def _append(
        table: dict[str, list[tuple[int, float]]], name: str, step: int, value: float
    ) -> None:
        series = table.setdefault(name, [])
        if math.isfinite(value) and value > 0:  # a log axis shows only positive values
            series.append((step, value))

    def _new_curve(self, kind: str, name: str) -> pg.PlotDataItem:
        colour = self._colours.setdefault(name, PALETTE[len(self._colours) % len(PALETTE)])
        curve = self._plot_of(kind).plot(
            pen=pg.mkPen(colour, width=1), name=name if kind == "grad" else None
        )
        curve.setCurveClickable(True, width=CLICK_WIDTH)
        curve.setToolTip(f"{name}: click to select its node")
        curve.sigClicked.connect(lambda *args, n=name: self.param_clicked.emit(n))
        self._curves[(kind, name)] = curve
        return curve

    def _plot_of(self, kind: str) -> pg.PlotWidget:
        return self.grad_plot if kind == "grad" else self.ratio_plot


def _plot(title: str, log: bool) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setLabel("left", title)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setLogMode(y=log)
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)  # see the note at the top
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.setMinimumHeight(90)
    return plot
