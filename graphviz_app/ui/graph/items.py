"""Scene items: a node's box, an edge's spline with its arrowhead, a module's box."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from graphviz_app.core.graph.records import Node
from graphviz_app.core.layout.dot import PX_PER_PT, ClusterBox, EdgePath, NodeBox
from graphviz_app.core.layout.style import (
    NON_FINITE_COLOR,
    STEP_CURRENT_COLOR,
    STEP_DONE_COLOR,
    STEP_WAITING_COLOR,
    has_non_finite,
    node_tooltip,
    text_color_on,
)
from graphviz_app.ui.common.theme import LIGHT, Theme

NON_FINITE = QColor(NON_FINITE_COLOR)
TEXT_LOD = 0.45  # below this zoom, module boxes are drawn without their name
MIN_TEXT_PX = 5.5  # node labels smaller than this on screen are not drawn
CURRENT_COLOR, DONE_COLOR, WAITING_COLOR = STEP_CURRENT_COLOR, STEP_DONE_COLOR, STEP_WAITING_COLOR
SELECTION_GAP = 4.5  # the selection ring sits this far outside the border
STRIPE_PX = 8  # the kind's colour at a node's left edge when its fill says something else
EDGE_LABEL_PX = 12  # gradient labels on edges; not drawn below MIN_TEXT_PX on screen


class StepState(Enum):
    """A node's place in the backward pass being stepped through."""

    NONE = "none"  # not stepping
    DONE = "done"
    CURRENT = "current"
    WAITING = "waiting"


def label_font(point_size: float) -> QFont:
    """The monospace font the DOT writer sized the boxes for."""
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.TypeWriter)
    font.setPixelSize(max(1, round(point_size * PX_PER_PT)))
    return font


class NodeItem(QGraphicsItem):
    """A node's rounded box with its label lines; selectable, hoverable."""

    def __init__(self, node: Node, box: NodeBox, lines: list[str], font: QFont) -> None:
        super().__init__()
        self.node_id = node.id
        self.lines = lines
        self._font = font
        self._rect = QRectF(-box.width / 2, -box.height / 2, box.width, box.height)
        # Room for the step badge (top right) and the selection ring all round.
        self._outer = self._rect.adjusted(-10, -8, 10, 7)
        self.theme = LIGHT
        self._base: str | None = None  # colour-by fill (None: the kind's colour)
        self._override: str | None = None  # the backward stepper's gradient fill
        self.fill = QColor(LIGHT.kind_fill[node.kind])
        self._text = QColor(Qt.GlobalColor.black)
        self._border = QColor(LIGHT.kind_border[node.kind])
        self.highlighted = False
        self.step_state = StepState.NONE
        self.waiting_for = 0  # gradients this node still waits for (backward stepping)
        self.set_node(node)
        self.setPos(box.x, box.y)
        self.setZValue(2)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def boundingRect(self) -> QRectF:
        return self._outer  # computed once: Qt asks for it on every paint

    def set_highlighted(self, on: bool) -> None:
        """Draw a thicker, coloured border (hover or search hit)."""
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setBrush(QBrush(self.fill))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(self._rect, 4, 4)
        if self.stripe_color() is not None:
            self._paint_kind_stripe(painter)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self.border_pen())
        painter.drawRoundedRect(self._rect, 4, 4)
        if self.node.grad_order > 1:  # made by backward (create_graph): a double border
            painter.drawRoundedRect(self._rect.adjusted(3, 3, -3, -3), 2, 2)
        if self.isSelected():
            self._paint_selection(painter)
        if lod * self._font.pixelSize() < MIN_TEXT_PX:  # unreadable: a plain box is faster
            return
        painter.setFont(self._font)
        painter.setPen(QPen(self._text))
        text_rect = self._rect.adjusted(2, 2, -2, -2)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, "\n".join(self.lines))
        self._paint_step_badge(painter)

    def _paint_kind_stripe(self, painter: QPainter) -> None:
        """The kind's colour down the left edge: the fill shows a gradient (or module,
        dtype...), and "the yellow node" of a lesson must still be findable."""
        kind, theme, color = self.node.kind, self.theme, self.stripe_color()
        clip = QPainterPath()
        clip.addRoundedRect(self._rect, 4, 4)
        stripe = QRectF(self._rect.left(), self._rect.top(), STRIPE_PX, self._rect.height())
        painter.save()
        painter.setClipPath(clip)
        painter.fillRect(stripe, color)
        painter.setPen(QPen(QColor(theme.kind_border[kind]), 1))
        painter.drawLine(stripe.topRight(), stripe.bottomRight())
        painter.restore()

    def stripe_color(self) -> QColor | None:
        """The kind's colour for the left edge, when the fill shows something else."""
        kind, theme = self.node.kind, self.theme
        if self.fill == QColor(theme.kind_fill[kind]):
            return None
        # Dark kind fills vanish on dark ramp colours; their borders are the bright ones.
        return QColor(theme.kind_border[kind] if theme.dark else theme.kind_fill[kind])

    def _paint_selection(self, painter: QPainter) -> None:
        """A dashed ring outside the border, in the link colour: unlike any kind colour
        and unlike the current step's orange border, and both show on one node."""
        gap = SELECTION_GAP + self.theme.border_width / 2
        painter.setPen(self.selection_pen())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._rect.adjusted(-gap, -gap, gap, gap), 6, 6)

    def selection_pen(self) -> QPen:
        """The pen of the selection ring (drawn only while the node is selected)."""
        return QPen(
            QColor(self.theme.link), 2.5 + self.theme.border_width - 1.2, Qt.PenStyle.DashLine
        )

    def label_pixel_size(self) -> int:
        """The label font's height in scene pixels (at zoom 1)."""
        return int(self._font.pixelSize())

    def _paint_step_badge(self, painter: QPainter) -> None:
        """A tick on executed nodes; the pending-gradient count on waiting ones."""
        if self.step_state is StepState.DONE:
            text, fill = "\u2713", QColor(DONE_COLOR)
        elif self.step_state is StepState.WAITING and self.waiting_for > 0:
            text, fill = str(self.waiting_for), QColor(WAITING_COLOR)
        else:
            return
        badge = QRectF(self._rect.right() - 9, self._rect.top() - 7, 16, 16)
        painter.setPen(QPen(Qt.GlobalColor.white, 1))
        painter.setBrush(QBrush(fill))
        painter.drawEllipse(badge)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    def set_fill(self, color: str | None) -> None:
        """Fill with ``color`` (the stepper colouring by gradient); None gives the
        colour-by fill back."""
        self._override = color
        self._refill()

    def set_base_fill(self, color: str | None) -> None:
        """The Colour-by menu's fill; None is the node kind's colour in the theme."""
        self._base = color
        self._refill()

    def apply_theme(self, theme: Theme) -> None:
        """Draw with ``theme``'s kind colours, borders and widths."""
        self.theme = theme
        self._border = QColor(theme.kind_border[self.node.kind])
        self._refill()
        self.update()

    def node_rect(self) -> QRectF:
        """The node's box (without the badge margin) in scene coordinates."""
        return self.mapRectToScene(self._rect)

    def fill_color(self) -> str:
        """The fill drawn now, as ``#rrggbb``."""
        return str(self.fill.name())

    def _refill(self) -> None:
        color = self._override or self._base or self.theme.kind_fill[self.node.kind]
        if QColor(color) != self.fill:  # repaint (and re-cache) only what changed
            self.fill = QColor(color)
            self._text = QColor(text_color_on(self.fill.name()))
            self.update()

    def set_step_state(self, state: StepState, waiting_for: int = 0) -> None:
        """Where this node stands in the backward pass being stepped through."""
        if (state, waiting_for) != (self.step_state, self.waiting_for):
            self.step_state, self.waiting_for = state, waiting_for
            self.update()

    def set_node(self, node: Node) -> None:
        """Take a new record for the same node (new values, same label and place)."""
        self.node = node
        self.setToolTip(node_tooltip(node))
        non_finite = has_non_finite(node)
        if non_finite != getattr(self, "non_finite", None):  # only the border can change
            self.non_finite = non_finite
            self.update()

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._tell_scene_hover(self.node_id)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._tell_scene_hover("")
        super().hoverLeaveEvent(event)

    def _tell_scene_hover(self, node_id: str) -> None:
        hover_node = getattr(self.scene(), "hover_node", None)
        if hover_node is not None:
            hover_node(node_id)

    def border_pen(self) -> QPen:
        extra = self.theme.border_width - 1.2  # thicker everywhere in presentation mode
        if self.step_state is StepState.CURRENT:
            return QPen(QColor(CURRENT_COLOR), 4 + extra)
        if self.highlighted:
            return QPen(QColor(self.theme.highlight), 2.5 + extra)
        if self.non_finite:  # NaN/Inf: red, thick and dashed, as in exports
            return QPen(NON_FINITE, 3 + extra, Qt.PenStyle.DashLine)
        return QPen(self._border, self.theme.border_width)


class EdgeItem(QGraphicsItem):
    """A Graphviz spline (cubic Bezier) with a filled arrowhead at its target."""

    def __init__(self, path: EdgePath) -> None:
        super().__init__()
        self.edge_id = path.id
        self.source = path.source
        self.target = path.target
        self.highlighted = False
        self.theme = LIGHT
        self.label = ""  # the gradient in flight, while stepping through backward
        self.label_at: tuple[float, int] = (0.35, 1)  # along the curve, right (1) or left
        self.spline = _spline(path)
        self.arrowhead = _arrowhead(path)
        self._bounds = self.spline.boundingRect().united(self.arrowhead.boundingRect())
        self._outer = self._outer_rect()
        # Cached as pixmaps: a backward step repaints only the few edges it changes.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)

    def boundingRect(self) -> QRectF:
        return self._outer

    def _outer_rect(self) -> QRectF:
        outer = self._bounds.adjusted(-3, -3, 3, 3)
        if self.label:  # and room for the label beside the curve
            outer = outer.united(self.label_rect(self.label, self.label_at).adjusted(-2, -2, 2, 2))
        return outer

    def set_label(self, text: str, at: tuple[float, int] = (0.35, 1)) -> None:
        """Show ``text`` (the gradient flowing along this edge) beside the curve, at
        ``at``: the fraction of the way from the source, and the side (1: right)."""
        if text != self.label or at != self.label_at:
            self.prepareGeometryChange()
            self.label, self.label_at = text, at
            self._outer = self._outer_rect()
            self.update()

    def apply_theme(self, theme: Theme) -> None:
        """Draw with ``theme``'s edge colour and width."""
        self.theme = theme
        self.update()

    def set_highlighted(self, on: bool) -> None:
        """Draw the edge thicker and coloured (its node is hovered or selected)."""
        if on != self.highlighted:
            self.highlighted = on
            self.setZValue(1.5 if on else 1)
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        theme = self.theme
        color = QColor(theme.highlight if self.highlighted else theme.edge)
        width = theme.edge_width + (1.4 if self.highlighted else 0.0)
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.spline)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(self.arrowhead)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if self.label and lod * EDGE_LABEL_PX >= MIN_TEXT_PX:  # a smudge otherwise
            self._paint_label(painter)

    def label_rect(self, text: str, at: tuple[float, int]) -> QRectF:
        """Where ``text`` is drawn at ``at`` (scene coordinates)."""
        point = self.spline.pointAtPercent(at[0])
        width = QFontMetricsF(edge_label_font()).horizontalAdvance(text) + 8
        left = point.x() + 6 if at[1] > 0 else point.x() - 6 - width
        return QRectF(left, point.y() - 10, width, 20)

    def _paint_label(self, painter: QPainter) -> None:
        painter.setFont(edge_label_font())
        rect = self.label_rect(self.label, self.label_at)
        painter.setPen(QPen(QColor(CURRENT_COLOR), 1))
        painter.setBrush(QBrush(QColor(255, 255, 255, 230)))
        painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(QPen(Qt.GlobalColor.black))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)


def edge_label_font() -> QFont:
    """The font of the gradient labels on edges."""
    font = QFont()
    font.setPixelSize(EDGE_LABEL_PX)
    return font


class ClusterItem(QGraphicsItem):
    """The box of one nn.Module, with its name at the top left."""

    def __init__(self, box: ClusterBox, font: QFont) -> None:
        super().__init__()
        self.cluster_id = box.id
        self.module = box.module
        self.label = box.label
        self._rect = QRectF(*box.rect)
        self._font = font
        self.theme = LIGHT
        self.setZValue(0)
        self.setToolTip(f"module: {box.module or '(model)'}\nDouble-click to collapse it")

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def apply_theme(self, theme: Theme) -> None:
        """Draw with ``theme``'s module-box colours."""
        self.theme = theme
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setPen(QPen(QColor(self.theme.cluster_border), 1, Qt.PenStyle.DashLine))
        painter.setBrush(QBrush(QColor(self.theme.cluster_fill)))
        painter.drawRoundedRect(self._rect, 6, 6)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod >= TEXT_LOD:
            painter.setFont(self._font)
            painter.setPen(QPen(QColor(self.theme.cluster_text)))
            painter.drawText(
                self._rect.adjusted(6, 3, -4, -4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                self.label,
            )


def _spline(path: EdgePath) -> QPainterPath:
    result = QPainterPath()
    points = [QPointF(x, y) for x, y in path.points]
    if not points:
        return result
    result.moveTo(points[0])
    for i in range(1, len(points) - 2, 3):
        result.cubicTo(points[i], points[i + 1], points[i + 2])
    return result


def _arrowhead(path: EdgePath) -> QPolygonF:
    if path.arrow is None or not path.points:
        return QPolygonF()
    tip = QPointF(*path.arrow)
    base = QPointF(*path.points[-1])
    direction = tip - base
    length = max((direction.x() ** 2 + direction.y() ** 2) ** 0.5, 1e-6)
    normal = QPointF(-direction.y() / length, direction.x() / length) * (length * 0.4)
    return QPolygonF([tip, base + normal, base - normal])
