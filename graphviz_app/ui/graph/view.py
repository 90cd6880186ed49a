"""The graph view: wheel and key zoom (clamped), drag to pan, fit, zoom to selection."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QStyle, QWidget

MIN_SCALE = 0.02
MAX_SCALE = 8.0
WHEEL_STEP = 1.15
REVEAL_MARGIN = 60  # pixels kept around a node scrolled into view (its edges show)
OVERLAY_GAP = 8  # pixels between a corner overlay and the viewport's edge


class GraphView(QGraphicsView):
    """A QGraphicsView tuned for big graphs: cached background, culling, anchored zoom."""

    viewport_changed = Signal()  # scrolled, zoomed or resized (the overview map follows)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setBackgroundBrush(Qt.GlobalColor.white)
        self._overlays: list[tuple[QWidget, Qt.Corner]] = []
        self._kept_clear: list[QWidget] = []  # overlays a fit keeps the graph out from under

    def set_corner_overlay(
        self, widget: QWidget, corner: Qt.Corner = Qt.Corner.TopLeftCorner, keep_clear: bool = True
    ) -> None:
        """Keep ``widget`` (a legend, the overview map) in a corner of the viewport;
        with ``keep_clear``, fitting the graph leaves the widget's corner free."""
        widget.setParent(self.viewport())
        self._overlays.append((widget, corner))
        if keep_clear:
            self._kept_clear.append(widget)
        self.place_overlays()

    def place_overlays(self) -> None:
        """Move the overlays back to their corners (after a resize or a size change)."""
        area = self.viewport().rect()
        for widget, corner in self._overlays:
            right = corner in (Qt.Corner.TopRightCorner, Qt.Corner.BottomRightCorner)
            bottom = corner in (Qt.Corner.BottomLeftCorner, Qt.Corner.BottomRightCorner)
            x = area.width() - widget.width() - OVERLAY_GAP if right else OVERLAY_GAP
            y = area.height() - widget.height() - OVERLAY_GAP if bottom else OVERLAY_GAP
            widget.move(x, y)

    def paintEvent(self, event: QPaintEvent) -> None:
        use_scale = getattr(self.scene(), "use_scale", None)  # a GraphScene: far or near
        if use_scale is not None:
            use_scale(self.current_scale())
        super().paintEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.place_overlays()
        self.viewport_changed.emit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.place_overlays()  # the viewport's scroll moved its child widgets too
        self.viewport_changed.emit()

    def current_scale(self) -> float:
        """The zoom factor (1.0 = one scene pixel per screen pixel)."""
        return float(self.transform().m11())

    def zoom_by(self, factor: float) -> None:
        """Zoom by ``factor``, clamped to [MIN_SCALE, MAX_SCALE]."""
        target = min(max(self.current_scale() * factor, MIN_SCALE), MAX_SCALE)
        applied = target / self.current_scale()
        self.scale(applied, applied)
        self.viewport_changed.emit()

    def zoom_in(self) -> None:
        """One zoom step in."""
        self.zoom_by(WHEEL_STEP)

    def zoom_out(self) -> None:
        """One zoom step out."""
        self.zoom_by(1 / WHEEL_STEP)

    def fit_all(self) -> None:
        """Show the whole graph (never enlarged past 1:1, so small graphs stay crisp),
        with no node under a legend: the view's own scene rect grows by the margins
        the legends need, so the graph can sit beside them (and be scrolled out from
        under them when zoomed in)."""
        scene = self.scene()
        if scene is None:
            return
        self.setSceneRect(QRectF())  # the scene's own rect, to measure
        rect = scene.sceneRect()
        corners = [(w.width(), w.height(), c) for w, c in self._overlays if self._avoids(w)]
        size = self.viewport().size()
        scale, (left, top, right, bottom) = clear_fit(rect, size.width(), size.height(), corners)
        scale = min(max(scale, MIN_SCALE), 1.0)
        padded = rect.adjusted(-left / scale, -top / scale, right / scale, bottom / scale)
        self.setSceneRect(padded)
        self._fit_rect(padded, max_scale=1.0)

    def _avoids(self, widget: QWidget) -> bool:
        return widget in self._kept_clear and not widget.isHidden()

    def zoom_to_selection(self) -> None:
        """Fit the selected items, or the whole graph when nothing is selected."""
        scene = self.scene()
        if scene is None:
            return
        rect = QRectF()
        for item in scene.selectedItems():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isNull():
            self.fit_all()
        else:
            self._fit_rect(rect.adjusted(-80, -80, 80, 80), max_scale=2.0)

    def reveal(self, rect: QRectF, min_scale: float) -> None:
        """Bring ``rect`` (scene coordinates) into view, clear of the corner overlays;
        first zoom in to ``min_scale`` around it when the view is zoomed out further
        (labels would not be drawn)."""
        if self.current_scale() < min_scale:
            self.zoom_by(min_scale / self.current_scale())
            super().centerOn(rect.center())
        else:
            self.ensureVisible(rect, REVEAL_MARGIN, REVEAL_MARGIN)
        self.keep_clear(rect)

    def centerOn(self, *target: object) -> None:
        """Qt's centerOn; centring on an item (a node the user asked for: a link, a
        find hit, a jump) also keeps it out from under the overview map and legends."""
        super().centerOn(*target)  # type: ignore[call-overload]
        if len(target) == 1 and isinstance(target[0], QGraphicsItem):
            self.keep_clear(target[0].sceneBoundingRect())

    def keep_clear(self, rect: QRectF) -> None:
        """Scroll so that ``rect`` (scene coordinates) is under no shown corner overlay,
        by the shortest move that leaves it on screen; the scrollable area grows when
        the graph's edge is in the way (a node at the bottom under the overview map)."""
        self.place_overlays()
        on_screen = self.mapFromScene(rect).boundingRect()
        obstacles = [w.geometry() for w, _ in self._overlays if not w.isHidden()]
        # The scroll bars that a grown scrollable area brings shift the overlays in.
        gap = OVERLAY_GAP + self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        shift = clear_shift(on_screen, obstacles, self.viewport().rect(), gap)
        if shift is None or shift == (0, 0):
            return
        scale = self.current_scale()
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        moved = visible.translated(-shift[0] / scale, -shift[1] / scale)
        self.setSceneRect(self.sceneRect().united(moved))
        super().centerOn(moved.center())

    def _fit_rect(self, rect: QRectF, max_scale: float) -> None:
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.current_scale() > max_scale:
            self.zoom_by(max_scale / self.current_scale())
        elif self.current_scale() < MIN_SCALE:
            self.zoom_by(MIN_SCALE / self.current_scale())
        super().centerOn(rect.center())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(WHEEL_STEP**steps)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        else:
            super().keyPressEvent(event)


Margins = tuple[float, float, float, float]  # left, top, right, bottom (pixels)


def clear_fit(
    rect: QRectF, width: int, height: int, corners: list[tuple[int, int, Qt.Corner]]
) -> tuple[float, Margins]:
    """The largest scale at which ``rect`` fits a ``width`` x ``height`` viewport with
    no part under the corner widgets (width, height, corner), and the margins that
    keep it clear: each widget is avoided by a strip beside it or above/below it,
    whichever of the combinations leaves the graph the most room."""
    best: tuple[float, Margins] = (0.0, (0.0, 0.0, 0.0, 0.0))
    for choice in itertools.product((False, True), repeat=len(corners)):
        margins = [0.0, 0.0, 0.0, 0.0]
        for (w, h, corner), beside in zip(corners, choice, strict=True):
            right = corner in (Qt.Corner.TopRightCorner, Qt.Corner.BottomRightCorner)
            bottom = corner in (Qt.Corner.BottomLeftCorner, Qt.Corner.BottomRightCorner)
            side = (2 if right else 0) if beside else (3 if bottom else 1)
            margins[side] = max(margins[side], (w if beside else h) + 2 * OVERLAY_GAP)
        left, top, right_m, bottom_m = margins
        free_w, free_h = width - left - right_m, height - top - bottom_m
        if free_w > 0 and free_h > 0 and rect.width() > 0 and rect.height() > 0:
            scale = min(free_w / rect.width(), free_h / rect.height())
            if scale > best[0]:
                best = (scale, (left, top, right_m, bottom_m))
    return best


def clear_shift(
    node: QRect, obstacles: list[QRect], area: QRect, gap: int = OVERLAY_GAP
) -> tuple[int, int] | None:
    """The smallest move (dx, dy), in pixels, that takes ``node`` out from under every
    obstacle, ``gap`` pixels clear, while keeping it inside ``area``: (0, 0) when it is
    clear already, None when no move beside or above/below one obstacle does."""
    hit = [o for o in obstacles if o.intersects(node)]
    if not hit:
        return (0, 0)
    moves = []
    for o in hit:
        moves += [(o.left() - gap - node.right() - 1, 0), (o.right() + gap - node.left() + 1, 0)]
        moves += [(0, o.top() - gap - node.bottom() - 1), (0, o.bottom() + gap - node.top() + 1)]
    fits = [
        (dx, dy)
        for dx, dy in moves
        if area.contains(node.translated(dx, dy))
        and not any(o.intersects(node.translated(dx, dy)) for o in obstacles)
    ]
    return min(fits, key=lambda m: abs(m[0]) + abs(m[1]), default=None)
