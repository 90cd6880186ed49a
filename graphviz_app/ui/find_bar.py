"""Find (Ctrl+F): nodes by name, op, module path or shape; Enter goes to the next hit.

A query matches a node when every word of it appears in the node's searchable text
(class name, parameter name, forward op, module path, shape and dtype), ignoring case.
``nan`` also finds nodes whose values hold NaN or Inf.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from graphviz_app.core.graph import AutogradGraph, Node
from graphviz_app.core.style import has_non_finite, shape_line


def search_text(node: Node) -> str:
    """Everything a query can match for ``node``, in lower case."""
    parts = [node.name, node.leaf_name or "", node.op or "", node.module or ""]
    if node.tensor is not None:
        parts.append(shape_line(node.tensor))
    if has_non_finite(node):
        parts.append("nan inf non-finite")
    return " ".join(parts).lower()


def find_nodes(graph: AutogradGraph, query: str) -> list[str]:
    """Ids of the nodes matching every word of ``query``, in graph order."""
    words = query.lower().split()
    if not words:
        return []
    return [n.id for n in graph.nodes if all(w in search_text(n) for w in words)]


class FindBar(QWidget):
    """A query box with previous/next buttons and a hit counter."""

    hit_selected = Signal(str)  # the node id to select and centre

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph: AutogradGraph | None = None
        self.hits: list[str] = []
        self.position = -1
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Find nodes: name, op, module, shape, 'nan'...")
        self.edit.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.prev_button, self.next_button = QToolButton(), QToolButton()
        self.prev_button.setText("Previous")
        self.next_button.setText("Next")
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 0, 2, 0)
        for widget in (self.edit, self.prev_button, self.next_button, self.count):
            row.addWidget(widget)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.returnPressed.connect(lambda: self.step(1))
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))

    def set_graph(self, graph: AutogradGraph) -> None:
        """Search this graph from now on (the query is kept)."""
        self.graph = graph
        self._on_edit_text_changed(self.edit.text())

    def step(self, delta: int) -> None:
        """Go to the next (or previous) hit, wrapping around."""
        if not self.hits:
            return
        self.position = (self.position + delta) % len(self.hits)
        self.count.setText(f"{self.position + 1} of {len(self.hits)}")
        self.hit_selected.emit(self.hits[self.position])

    def _on_edit_text_changed(self, text: str) -> None:
        self.hits = find_nodes(self.graph, text) if self.graph else []
        self.position = -1
        self.count.setText(f"{len(self.hits)} found" if text.strip() else "")
