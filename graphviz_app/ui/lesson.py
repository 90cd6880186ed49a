"""The Lesson panel: the open model's lesson (its docstring, in Markdown).

Links written ``[text](node:NAME)`` select and centre the node called NAME (a
parameter such as ``fc1.weight`` or a backward class such as ``AddmmBackward0``).
"""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from graphviz_app.core.graph import AutogradGraph

NODE_SCHEME = "node"


class LessonView(QTextBrowser):
    """Shows a lesson; clicking a node link asks for that node."""

    node_requested = Signal(str)  # a node's title (leaf name or class name)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)
        self.show_lesson("")

    def show_lesson(self, markdown: str) -> None:
        """Show ``markdown`` (a model's docstring); a note when there is none."""
        self.setMarkdown(markdown or "_This model has no lesson: its file has no docstring._")

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == NODE_SCHEME:
            self.node_requested.emit(url.path())


def find_node(graph: AutogradGraph, title: str) -> str | None:
    """The id of the first node whose leaf name or class name is ``title``."""
    for node in graph.nodes:
        if title in (node.leaf_name, node.name):
            return node.id
    return None
