"""The whole graph in one paint, for views zoomed out past readable labels.

Zoomed out, every node is a plain box and every edge a line, but each is its own item:
with Qt's ``DeviceCoordinateCache`` a wheel step redraws every visible item into a
new cache picture, hundreds of them at once (24-41 ms a frame on GPT-2). Below the
scale at which labels become readable, :class:`FarPicture` draws all boxes and lines
itself instead, a few batched paths per colour, while the node and edge items stay in
the scene without contents (``ItemHasNoContents``: Qt skips their painting, they still
take hover, clicks and selection). What it draws comes from the items' own state on
each paint (fills, borders, highlights, selection), so it never lags behind them.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graphviz_app.ui.graph.items import SELECTION_GAP, STRIPE_PX, EdgeItem, NodeItem

PenKey = tuple[int, float, int]  # colour (rgba), width, style


class FarPicture(QGraphicsItem):
    """Boxes and lines of the scene's node and edge items, drawn in batches."""

    def __init__(self, rect: QRectF, nodes: Iterable[NodeItem], edges: Iterable[EdgeItem]) -> None:
        super().__init__()
        self._rect = rect
        self.nodes = list(nodes)
        self.edges = list(edges)
        self.setZValue(0.5)  # above module boxes (0), where the items would be
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        exposed = option.exposedRect
        self._paint_edges(painter, [e for e in self.edges if e.boundingRect().intersects(exposed)])
        nodes = [n for n in self.nodes if n.sceneBoundingRect().intersects(exposed)]
        self._paint_nodes(painter, nodes)

    def _paint_edges(self, painter: QPainter, edges: list[EdgeItem]) -> None:
        lines: dict[PenKey, QPainterPath] = {}
        heads: dict[PenKey, QPainterPath] = {}
        for edge in edges:
            theme = edge.theme
            color = QColor(theme.highlight if edge.highlighted else theme.edge)
            key = (color.rgba(), theme.edge_width + (1.4 if edge.highlighted else 0.0), 1)
            lines.setdefault(key, QPainterPath()).addPath(edge.spline)
            heads.setdefault(key, QPainterPath()).addPolygon(edge.arrowhead)
        for key, path in lines.items():
            painter.setPen(_pen(key))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(QBrush(QColor.fromRgba(key[0])))
            painter.drawPath(heads[key])

    def _paint_nodes(self, painter: QPainter, nodes: list[NodeItem]) -> None:
        boxes: dict[tuple[int, PenKey], QPainterPath] = {}
        stripes: dict[int, QPainterPath] = {}
        for node in nodes:
            rect = node.node_rect()
            pen = node.border_pen()
            key = (node.fill.rgba(), (pen.color().rgba(), pen.widthF(), int(pen.style().value)))
            boxes.setdefault(key, QPainterPath()).addRoundedRect(rect, 4, 4)
            stripe = node.stripe_color()
            if stripe is not None:
                strip = QRectF(rect.left(), rect.top(), STRIPE_PX, rect.height())
                stripes.setdefault(stripe.rgba(), QPainterPath()).addRect(strip)
        for (fill, pen_key), path in boxes.items():
            painter.setPen(_pen(pen_key))
            painter.setBrush(QBrush(QColor.fromRgba(fill)))
            painter.drawPath(path)
        painter.setPen(Qt.PenStyle.NoPen)
        for color, path in stripes.items():
            painter.setBrush(QBrush(QColor.fromRgba(color)))
            painter.drawPath(path)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for node in nodes:
            if node.isSelected():
                gap = SELECTION_GAP + node.theme.border_width / 2
                painter.setPen(node.selection_pen())
                painter.drawRoundedRect(node.node_rect().adjusted(-gap, -gap, gap, gap), 6, 6)


def _pen(key: PenKey) -> QPen:
    color, width, style = key
    return QPen(QColor.fromRgba(color), width, Qt.PenStyle(style))
