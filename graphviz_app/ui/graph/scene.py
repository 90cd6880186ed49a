"""The graph scene: items built from a captured graph and its layout, keyed by id."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject, QPoint, QPointF, QRectF, Signal
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
)

from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.core.layout.dot import GraphLayout
from graphviz_app.core.layout.style import GraphStyle, node_label_lines
from graphviz_app.ui.common.theme import LIGHT, Theme
from graphviz_app.ui.graph.far_picture import FarPicture
from graphviz_app.ui.graph.items import MIN_TEXT_PX, ClusterItem, EdgeItem, NodeItem, label_font

MARGIN = 24.0
#: Below this many pixels on screen a label is not drawn (items.MIN_TEXT_PX): from
#: there on out the graph is drawn by one FarPicture (see far_picture.py).
_Item = TypeVar("_Item", NodeItem, EdgeItem, ClusterItem)


class GraphScene(QGraphicsScene):
    """Holds one graph's items; emits node ids, never items or records."""

    node_selected = Signal(str)  # "" when the selection is cleared
    node_hovered = Signal(str)
    module_toggled = Signal(str)  # a module box or collapsed module was double-clicked
    node_context_menu = Signal(str, QPoint)  # node id, screen position

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[str, EdgeItem] = {}
        self.clusters: dict[str, ClusterItem] = {}
        self._edges_by_node: dict[str, list[EdgeItem]] = {}
        self.layout: GraphLayout | None = None
        self.graph_style: GraphStyle | None = None
        self.theme = LIGHT
        self.far: FarPicture | None = None  # drawing the graph while zoomed out
        self.selectionChanged.connect(self._on_scene_selection_changed)

    def show_graph(self, graph: AutogradGraph, layout: GraphLayout, style: GraphStyle) -> None:
        """Draw ``graph`` at ``layout``.

        When the layout is the one already shown (the structure did not change, as
        on a training step), the items stay and only take the new records: no item
        is rebuilt, the selection and the view stay put.
        """
        if layout is self.layout and style == self.graph_style:
            for node_id, item in self.nodes.items():
                item.set_node(graph.node(node_id))
            return
        self.layout, self.graph_style = layout, style
        self.blockSignals(True)
        self.clear()
        self.blockSignals(False)
        self.nodes, self.edges, self.clusters, self._edges_by_node = {}, {}, {}, {}
        font = label_font(style.font_size)
        for cluster in layout.clusters:
            self._add(self.clusters, cluster.id, ClusterItem(cluster, label_font(9)))
        for box in layout.nodes:
            node = graph.node(box.id)
            item = NodeItem(node, box, node_label_lines(node, style), font)
            self._add(self.nodes, box.id, item)
        for path in layout.edges:
            edge = self._add(self.edges, path.id, EdgeItem(path))
            self._edges_by_node.setdefault(path.source, []).append(edge)
            self._edges_by_node.setdefault(path.target, []).append(edge)
        bounds = QRectF(0, 0, layout.width, layout.height)
        self.setSceneRect(bounds.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))
        self.far = FarPicture(self.sceneRect(), self.nodes.values(), self.edges.values())
        self.far.hide()
        self.addItem(self.far)

    def use_scale(self, scale: float) -> None:
        """Draw for a view at ``scale`` (``GraphView`` calls it before it paints): below
        the scale at which labels become readable, by :class:`FarPicture` in one paint,
        the node and edge items without contents (``ItemHasNoContents``: not painted,
        still hovered, clicked and selected); from there on, the items themselves."""
        size = label_font(self.graph_style.font_size if self.graph_style else 10).pixelSize()
        far = scale * size < MIN_TEXT_PX
        if self.far is None or far == self.far.isVisible():
            return
        self.far.setVisible(far)
        for item in (*self.nodes.values(), *self.edges.values()):
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, far)

    def _add(self, table: dict[str, _Item], key: str, item: _Item) -> _Item:
        table[key] = item
        item.apply_theme(self.theme)
        self.addItem(item)
        return item

    def set_theme(self, theme: Theme) -> None:
        """Redraw every item in ``theme`` (new items get it too)."""
        self.theme = theme
        for table in (self.nodes, self.edges, self.clusters):
            for item in table.values():
                item.apply_theme(theme)

    def select_node(self, node_id: str) -> None:
        """Select the node ``node_id`` alone (emits :attr:`node_selected`)."""
        item = self.nodes.get(node_id)
        self.clearSelection()
        if item is not None:
            item.setSelected(True)

    def selected_node_id(self) -> str:
        """The selected node's id, or "" when none is selected."""
        selected = [i for i in self.selectedItems() if isinstance(i, NodeItem)]
        return selected[0].node_id if selected else ""

    def highlighted_edge_ids(self) -> set[str]:
        """Ids of the edges drawn highlighted right now."""
        return {key for key, item in self.edges.items() if item.highlighted}

    def highlight_node_edges(self, node_id: str) -> None:
        """Highlight the incoming and outgoing edges of ``node_id`` ("" clears)."""
        keep = set(self._edges_by_node.get(self.selected_node_id(), []))
        wanted = set(self._edges_by_node.get(node_id, [])) | keep
        for edge in self.edges.values():
            edge.set_highlighted(edge in wanted)
        for key, item in self.nodes.items():
            item.set_highlighted(key == node_id)

    def hover_node(self, node_id: str) -> None:
        """What hovering a node does: highlight its edges and tell listeners."""
        self.highlight_node_edges(node_id)
        self.node_hovered.emit(node_id)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        # Handled here, not on the items: Qt turns a double-click on an item that did
        # not grab the first press into a plain press, and module boxes must not grab
        # presses (dragging on them pans the view).
        module = self.module_at(event.scenePos())
        if module is not None:
            self.toggle_module(module)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        for item in self.items(event.scenePos()):
            if isinstance(item, NodeItem):
                self.select_node(item.node_id)
                self.node_context_menu.emit(item.node_id, event.screenPos())
                event.accept()
                return
        super().contextMenuEvent(event)

    def module_at(self, point: QPointF) -> str | None:
        """The module whose box or collapsed node is topmost at ``point``, if any."""
        for item in self.items(point):
            if isinstance(item, NodeItem):
                is_module = item.node.kind is NodeKind.MODULE
                return item.node.module if is_module else None
            if isinstance(item, ClusterItem):
                return item.module
        return None

    def toggle_module(self, module: str) -> None:
        """Ask for ``module`` to be collapsed or expanded (the window decides)."""
        self.module_toggled.emit(module)

    def _on_scene_selection_changed(self) -> None:
        node_id = self.selected_node_id()
        self.highlight_node_edges(node_id)
        self.node_selected.emit(node_id)
