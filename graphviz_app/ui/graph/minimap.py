"""The overview map: the whole graph, small, with the part on screen framed.

Drawn by hand from the scene's items as coloured boxes into a cached pixmap (redrawn
only when the scene changes), rather than as a second QGraphicsView: items cache
their pixels per view with DeviceCoordinateCache, and Qt refreshes that cache for
only one of two views after an item changes. Click or drag to move the main view.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from graphviz_app.ui.common.theme import LIGHT, Theme
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView

SIZE = (220, 160)
PAD = 4.0


class Minimap(QWidget):
    """An overview of ``view``'s scene; the frame is ``view``'s visible area."""

    def __init__(self, view: GraphView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.main_view = view
        self.theme = LIGHT
        self.enabled = True
        self._pixmap: QPixmap | None = None
        self.setFixedSize(*SIZE)
        self.setToolTip("Overview: click or drag to move the view (M hides it)")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        view.viewport_changed.connect(self._on_viewport_changed)
        scene = view.scene()
        if isinstance(scene, GraphScene):
            scene.changed.connect(self._on_scene_changed)
        self.hide()

    @property
    def scene(self) -> GraphScene:
        """The main view's scene."""
        scene = self.main_view.scene()
        assert isinstance(scene, GraphScene)
        return scene

    def set_enabled(self, on: bool) -> None:
        """Show the map when ``on``, a graph is drawn and not all of it is on screen."""
        self.enabled = on
        self.refresh()

    def set_theme(self, theme: Theme) -> None:
        """Frame and background colours from ``theme``."""
        self.theme = theme
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the scene (a new graph, new colours)."""
        self._pixmap = None
        self._on_viewport_changed()

    def _on_viewport_changed(self) -> None:
        # An overview of what is all on screen anyway would only cover part of it.
        everything = self.visible_rect().contains(self.scene.sceneRect())
        self.setVisible(self.enabled and bool(self.scene.nodes) and not everything)
        self.update()

    def scale_and_offset(self) -> tuple[float, QPointF]:
        """Scene -> map: the factor and the map position of the scene's top left."""
        rect = self.scene.sceneRect()
        if rect.width() <= 0 or rect.height() <= 0:
            return 1.0, QPointF(PAD, PAD)
        scale = min(
            (self.width() - 2 * PAD) / rect.width(), (self.height() - 2 * PAD) / rect.height()
        )
        used = QPointF(rect.width() * scale, rect.height() * scale)
        offset = QPointF((self.width() - used.x()) / 2, (self.height() - used.y()) / 2)
        return scale, offset - rect.topLeft() * scale

    def to_map(self, rect: QRectF) -> QRectF:
        """A scene rectangle in map pixels."""
        scale, offset = self.scale_and_offset()
        return QRectF(rect.topLeft() * scale + offset, rect.size() * scale)

    def to_map_point(self, point: QPointF) -> QPoint:
        """A scene point in map pixels."""
        scale, offset = self.scale_and_offset()
        return (point * scale + offset).toPoint()

    def to_scene(self, point: QPointF) -> QPointF:
        """A map pixel in scene coordinates."""
        scale, offset = self.scale_and_offset()
        return (point - offset) / scale

    def visible_rect(self) -> QRectF:
        """The main view's visible area in scene coordinates."""
        view = self.main_view
        return view.mapToScene(view.viewport().rect()).boundingRect()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._pixmap is None:
            self._pixmap = self._draw_graph()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        frame = self.to_map(self.visible_rect().intersected(self.scene.sceneRect()))
        painter.setPen(QPen(QColor(self.theme.selected), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(frame.adjusted(1, 1, -1, -1))
        painter.end()

    def _draw_graph(self) -> QPixmap:
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor(self.theme.background))
        painter = QPainter(pixmap)
        painter.setPen(QPen(QColor(self.theme.muted), 1))
        painter.drawRect(0, 0, self.width() - 1, self.height() - 1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self.theme.cluster_fill))
        for cluster in self.scene.clusters.values():
            painter.drawRect(self.to_map(cluster.sceneBoundingRect()))
        for item in self.scene.nodes.values():
            painter.setBrush(QColor(item.fill_color()))
            painter.drawRect(self.to_map(item.node_rect()))
        painter.end()
        return pixmap

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.main_view.centerOn(self.to_scene(event.position()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.main_view.centerOn(self.to_scene(event.position()))

    def _on_scene_changed(self, regions: object) -> None:
        self._pixmap = None  # redrawn at the next paint, once however many items changed
        self.update()
