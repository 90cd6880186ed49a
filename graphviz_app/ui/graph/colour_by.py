"""Colour nodes by kind, module, device, dtype, gradient or value magnitude, with a legend.

:func:`colouring` is plain logic (node id -> colour, and what the legend says);
:class:`ColourLegend` draws the legend over the graph's bottom-left corner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from graphviz_app.core.graph.records import AutogradGraph, Node, NodeKind
from graphviz_app.core.layout.style import KIND_LABEL, VIRIDIS, GradRamp
from graphviz_app.ui.common.theme import LIGHT, Theme

LEGEND_ROWS = 8  # categories listed before "+N more"


class ColourMode(str, Enum):
    """What a node's fill colour says."""

    KIND = "kind"
    MODULE = "module"
    DEVICE = "device"
    DTYPE = "dtype"
    GRADIENT = "gradient"
    VALUE = "value"


MODE_TITLES = {
    ColourMode.KIND: "Node &kind",
    ColourMode.MODULE: "&Module (top level)",
    ColourMode.DEVICE: "&Device",
    ColourMode.DTYPE: "D&type",
    ColourMode.GRADIENT: "&Gradient magnitude",
    ColourMode.VALUE: "&Value magnitude",
}
MODE_TIPS = {
    ColourMode.KIND: "Colour nodes by what they are: parameter, input, view, custom Function...",
    ColourMode.MODULE: "One colour per top-level module of the model",
    ColourMode.DEVICE: "One colour per device of the node's tensor",
    ColourMode.DTYPE: "One colour per dtype of the node's tensor",
    ColourMode.GRADIENT: "Fill by the norm of the gradient that reached the node (log scale)",
    ColourMode.VALUE: "Fill by the norm of the node's tensor (log scale)",
}


@dataclass(frozen=True)
class Colouring:
    """Fills for some nodes (the others keep their kind colour) and the legend."""

    fills: Mapping[str, str]
    entries: tuple[tuple[str, str], ...] = ()  # legend swatches: colour, label
    ramp: GradRamp | None = None
    ramp_title: str = ""


def colouring(mode: ColourMode, graph: AutogradGraph, theme: Theme) -> Colouring:
    """How ``graph``'s nodes are coloured in ``mode``. By gradient there is nothing
    here: the backward stepper fills the nodes backward has reached by the step shown
    (the others keep their kind colour) and draws its own legend."""
    if mode is ColourMode.GRADIENT:
        return Colouring({})
    if mode is ColourMode.KIND:
        kinds = dict.fromkeys(n.kind for n in graph.nodes)
        entries = tuple((theme.kind_fill[k], _short(KIND_LABEL[k])) for k in kinds)
        return Colouring({}, entries)
    if mode is ColourMode.VALUE:
        norms = _value_norms(graph)
        ramp = GradRamp.over(norms)
        fills = {key: ramp.color(v) for key, v in norms.items()} if ramp else {}
        return Colouring(fills, ramp=ramp, ramp_title="|value| (norm), log scale")
    return _categories(graph, theme, CATEGORY_OF[mode])


def _short(label: str) -> str:
    return label.split(" (")[0]


def _value_norms(graph: AutogradGraph) -> dict[str, float]:
    return {
        n.id: n.tensor.stats.norm
        for n in graph.nodes
        if n.tensor is not None and n.tensor.stats is not None
    }


def _module_of(node: Node) -> str | None:
    if node.module is None or node.kind is NodeKind.OUTPUT:
        return None
    return node.module.split(".")[0] or "(model)"


CATEGORY_OF: dict[ColourMode, Callable[[Node], str | None]] = {
    ColourMode.MODULE: _module_of,
    ColourMode.DEVICE: lambda n: n.tensor.device if n.tensor else None,
    ColourMode.DTYPE: lambda n: n.tensor.dtype if n.tensor else None,
}


def _categories(
    graph: AutogradGraph, theme: Theme, category: Callable[[Node], str | None]
) -> Colouring:
    by_node = {n.id: category(n) for n in graph.nodes}
    names = list(dict.fromkeys(c for c in by_node.values() if c is not None))
    palette = theme.categorical
    colour = {name: palette[i % len(palette)] for i, name in enumerate(names)}
    fills = {key: colour[c] for key, c in by_node.items() if c is not None}
    entries = [(colour[name], name) for name in names[:LEGEND_ROWS]]
    if len(names) > LEGEND_ROWS:
        entries.append(("", f"+{len(names) - LEGEND_ROWS} more"))
    if len(fills) < len(by_node):
        entries.append((theme.kind_fill[NodeKind.BACKWARD], "(none: kind colour)"))
    return Colouring(fills, tuple(entries))


RAMP_WIDTH = 250  # pixels before the presentation scale
LABEL_LEFT = 34  # where a swatch's label starts


def _legend_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPixelSize(12)
    return font


class ColourLegend(QWidget):
    """What the fill colours mean: swatches with labels, or a log-scale ramp."""

    ROW = 18

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.theme = LIGHT
        self.shown: Colouring = Colouring({})
        self.hide()

    def show_colouring(self, shown: Colouring | None, theme: Theme) -> None:
        """Describe ``shown`` (None hides the legend) in ``theme``."""
        self.theme = theme
        self.shown = shown or Colouring({})
        rows = 2 if self.shown.ramp else len(self.shown.entries)
        scale = theme.font_scale
        self.setFixedSize(int(self._width() * scale), int((rows * self.ROW + 10) * scale))
        self.setVisible(shown is not None and rows > 0)
        self.update()

    def _width(self) -> int:
        """Unscaled width: the ramp's fixed bar, else the longest label (covering no
        more of the graph than it must)."""
        if self.shown.ramp is not None:
            return RAMP_WIDTH
        metrics = QFontMetrics(_legend_font(self.font()))
        labels = (label for _, label in self.shown.entries)
        longest = max((metrics.horizontalAdvance(label) for label in labels), default=0)
        return min(RAMP_WIDTH, LABEL_LEFT + longest + 10)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        background = QColor(self.theme.background)
        background.setAlpha(230)
        painter.fillRect(self.rect(), background)
        painter.scale(self.theme.font_scale, self.theme.font_scale)
        painter.setFont(_legend_font(painter.font()))
        if self.shown.ramp is not None:
            self._paint_ramp(painter, self.shown.ramp)
        else:
            self._paint_entries(painter)
        painter.end()

    def _paint_entries(self, painter: QPainter) -> None:
        for row, (colour, label) in enumerate(self.shown.entries):
            top = 5 + row * self.ROW
            if colour:
                painter.setPen(QColor(self.theme.muted))
                painter.setBrush(QColor(colour))
                painter.drawRoundedRect(QRectF(6, top + 2, 22, 13), 3, 3)
            painter.setPen(QColor(self.theme.text))
            text_box = QRectF(LABEL_LEFT, top, self.width() / self.theme.font_scale, self.ROW)
            painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter, label)

    def _paint_ramp(self, painter: QPainter, ramp: GradRamp) -> None:
        bar = QRectF(8, 6, 234, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for i, colour in enumerate(VIRIDIS):
            gradient.setColorAt(i / (len(VIRIDIS) - 1), QColor(colour))
        painter.fillRect(bar, gradient)
        painter.setPen(QColor(self.theme.text))
        text = QRectF(8, 20, 234, 18)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft, f"{ramp.low:.2g}")
        painter.drawText(text, Qt.AlignmentFlag.AlignCenter, self.shown.ramp_title)
        painter.drawText(text, Qt.AlignmentFlag.AlignRight, f"{ramp.high:.2g}")
