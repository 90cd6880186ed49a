"""Find (Ctrl+F): nodes by name, op, module path, shape or predicate, with a results list.

The query language is in :mod:`graphviz_app.ui.graph.find_query` ("grad is nan",
"grad > 1e3", "module:fc1", "shape:(16, 8)", plain words). Enter or Next goes to
the next hit, Shift+Enter or Previous to the one before; the results dock lists
every hit, and clicking one selects and centres it.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QWidget,
)

from graphviz_app.core.graph.records import AutogradGraph, TensorInfo
from graphviz_app.core.layout.style import shape_line
from graphviz_app.ui.graph.find_query import find_nodes, search_text

__all__ = ["FindBar", "FindResults", "find_nodes", "search_text"]

PLACEHOLDER = "Find: name, op, module:fc1, shape:(3, 4), grad is nan, grad > 1e3..."


class FindBar(QWidget):
    """A query box with previous/next buttons and a hit counter."""

    hit_selected = Signal(str)  # the node id to select and centre
    hits_changed = Signal(list)  # node ids matching the query

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph: AutogradGraph | None = None
        self.grads: Mapping[str, TensorInfo] = {}
        self.hits: list[str] = []
        self.position = -1
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(PLACEHOLDER)
        self.edit.setToolTip(
            "Every term must match: words (class, parameter, op, module, shape),\n"
            "grad is nan | value is nan | grad > 1e3 | value < 1e-6 | max > 10 |\n"
            "module:fc1 | shape:(16, 8). Enter: next, Shift+Enter: previous."
        )
        self.edit.setMinimumWidth(200)  # beside the toolbar's buttons at 1280 px
        self.edit.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.prev_button, self.next_button = QToolButton(), QToolButton()
        self.prev_button.setText("Previous")
        self.next_button.setText("Next")
        self.prev_button.setToolTip("Previous hit (Shift+Enter)")
        self.next_button.setToolTip("Next hit (Enter)")
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 0, 2, 0)
        for widget in (self.edit, self.prev_button, self.next_button, self.count):
            row.addWidget(widget)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.returnPressed.connect(lambda: self.step(1))
        back = QShortcut(QKeySequence("Shift+Return"), self.edit, lambda: self.step(-1))
        back.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self._enable_buttons()

    def set_graph(
        self, graph: AutogradGraph, grads: Mapping[str, TensorInfo] | None = None
    ) -> None:
        """Search this graph (and these gradients, node id -> info) from now on."""
        self.graph = graph
        self.grads = grads or {}
        self._on_edit_text_changed(self.edit.text())

    def set_grads(self, grads: Mapping[str, TensorInfo]) -> None:
        """The gradients that reached each node (after backward); the query is re-run."""
        if self.graph is not None:
            self.set_graph(self.graph, grads)

    def step(self, delta: int) -> None:
        """Go to the next (or previous) hit, wrapping around."""
        if self.hits:
            self.go_to((self.position + delta) % len(self.hits))

    def go_to(self, position: int) -> None:
        """Select hit number ``position`` (0-based)."""
        self.position = position
        self.count.setText(f"{self.position + 1} of {len(self.hits)}")
        self.hit_selected.emit(self.hits[self.position])

    def _on_edit_text_changed(self, text: str) -> None:
        self.hits = find_nodes(self.graph, text, self.grads) if self.graph else []
        self.position = -1
        self.count.setText(f"{len(self.hits)} found" if text.strip() else "")
        self._enable_buttons()
        self.hits_changed.emit(list(self.hits))

    def _enable_buttons(self) -> None:
        for button in (self.prev_button, self.next_button):
            button.setEnabled(len(self.hits) > 0)


class FindResults(QListWidget):
    """Every hit of the query; clicking one goes to it."""

    def __init__(self, bar: FindBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = bar
        bar.hits_changed.connect(self._on_bar_hits_changed)
        bar.hit_selected.connect(self._on_bar_hit_selected)
        self.itemActivated.connect(self._on_item_activated)
        self.itemClicked.connect(self._on_item_activated)

    def _on_bar_hits_changed(self, hits: list[str]) -> None:
        self.clear()
        graph = self.bar.graph
        if graph is None:
            return
        for node_id in hits:
            node = graph.node(node_id)
            detail = [node.op or "", node.module or ""]
            if node.tensor is not None:
                detail.append(shape_line(node.tensor))
            item = QListWidgetItem(f"{node.title}   {'  '.join(d for d in detail if d)}")
            item.setData(Qt.ItemDataRole.UserRole, node_id)
            self.addItem(item)

    def _on_bar_hit_selected(self, node_id: str) -> None:
        if 0 <= self.bar.position < self.count():
            self.blockSignals(True)
            self.setCurrentRow(self.bar.position)
            self.blockSignals(False)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.bar.go_to(self.row(item))
