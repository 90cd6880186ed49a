"""Value and gradient histograms of the selected node, drawn with pyqtgraph.

pyqtgraph is pure Python on numpy, made for Qt (it draws with QPainter into a
QGraphicsView, follows PySide6), starts in well under a second and redraws a bar
chart in milliseconds; QtCharts is not in PySide6-Essentials, and matplotlib's Qt
backend is a much heavier dependency for two bar charts. It (and numpy) is imported
when the first histogram is drawn, not with the window: the window shows first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from graphviz_app.core.graph.records import Histogram, TensorInfo
from graphviz_app.ui.common.theme import LIGHT, Theme

if TYPE_CHECKING:
    import pyqtgraph as pg

VALUE_BRUSH = "#56b4e9"  # Okabe-Ito sky blue
GRAD_BRUSH = "#e69f00"  # Okabe-Ito orange


def histogram_of(info: TensorInfo | None) -> Histogram | None:
    """The histogram a tensor summary carries, if any."""
    histogram = getattr(info, "histogram", None)  # older records are plain TensorInfo
    return histogram if isinstance(histogram, Histogram) else None


def histogram_caption(title: str, info: TensorInfo, histogram: Histogram) -> str:
    """``values of (16, 8): 128 values, 24 bins`` (says when the counts are a sample)."""
    numel = info.stats.numel if info.stats is not None else histogram.total
    counted = (
        f"{histogram.total:,} of {numel:,} values (even sample)"
        if histogram.sampled
        else (f"{histogram.total:,} finite values")
    )
    return f"{title} of {info.shape_text}: {counted}, {len(histogram.counts)} bins"


class HistogramPlot(QWidget):
    """One bar chart with a caption; hidden while there is nothing to plot."""

    def __init__(self, brush: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.brush = brush
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self._plot: pg.PlotWidget | None = None  # made when the first histogram is drawn
        self.theme = LIGHT
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.addWidget(self.caption)
        self.histogram: Histogram | None = None
        self.hide()

    @property
    def plot(self) -> pg.PlotWidget:
        """The chart (pyqtgraph is imported when it is first asked for)."""
        if self._plot is None:
            import pyqtgraph as pg

            self._plot = pg.PlotWidget()
            self._plot.setMinimumHeight(110)
            self._plot.setMouseEnabled(x=False, y=False)
            self._plot.hideButtons()
            self._plot.setMenuEnabled(False)
            self._plot.getPlotItem().setLabel("left", "count")
            self._column.addWidget(self._plot)
            self._apply_theme()
        return self._plot

    def show_histogram(self, title: str, info: TensorInfo | None) -> None:
        """Plot ``info``'s histogram (hides the plot when it has none)."""
        histogram = histogram_of(info)
        self.histogram = histogram
        if self._plot is not None:
            self._plot.clear()
        if histogram is None or info is None:
            self.hide()
            return
        import numpy as np
        import pyqtgraph as pg

        self.caption.setText(histogram_caption(title, info, histogram))
        edges = np.asarray(histogram.edges(), dtype=float)
        if histogram.high <= histogram.low:  # one value: a bar of width 1 around it
            edges = np.array([histogram.low - 0.5, histogram.low + 0.5])
        bars = pg.BarGraphItem(
            x0=edges[:-1],
            x1=edges[1:],
            height=np.asarray(histogram.counts, dtype=float),
            brush=self.brush,
            pen=pg.mkPen(self.brush),
        )
        self.plot.addItem(bars)
        self.show()

    def set_theme(self, theme: Theme) -> None:
        """Background, axes and caption in ``theme``'s colours."""
        self.theme = theme
        if self._plot is not None:
            self._apply_theme()

    def _apply_theme(self) -> None:
        import pyqtgraph as pg

        plot, theme = self.plot, self.theme
        plot.setBackground(theme.background)
        for name in ("left", "bottom"):
            axis = plot.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(theme.muted))
            axis.setTextPen(pg.mkPen(theme.text))


class HistogramPanel(QWidget):
    """The selected node's value histogram and, after backward, its gradient's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = HistogramPlot(VALUE_BRUSH)
        self.grads = HistogramPlot(GRAD_BRUSH)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 0, 4, 4)
        column.addWidget(self.values)
        column.addWidget(self.grads)
        self.set_theme(LIGHT)

    def show_tensors(self, value: TensorInfo | None, grad: TensorInfo | None) -> None:
        """Plot these (None hides a plot)."""
        self.values.show_histogram("Values", value)
        self.grads.show_histogram("Gradient", grad)

    def set_theme(self, theme: Theme) -> None:
        """Draw both plots in ``theme``."""
        for plot in (self.values, self.grads):
            plot.set_theme(theme)
