"""The Models panel: built-in models, recently opened files, and the open model's parameters.

Activating a model or a recent file asks to open it; clicking a parameter selects its
node in the graph. The recent files live in the window's QSettings.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.io.builtin import builtin_models_dir, list_builtin_models

RECENT_KEY = "recent_files"
RECENT_LIMIT = 10
_PATH = Qt.ItemDataRole.UserRole  # a model's file
_NODE = Qt.ItemDataRole.UserRole + 1  # a parameter's node id


class ModelList(QTreeWidget):
    """Three sections: Built-in, Recent files, Parameters (of the open model)."""

    model_chosen = Signal(str)  # the model file's path
    node_chosen = Signal(str)  # a parameter's node id

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setHeaderHidden(True)  # one column: the dock is narrow
        self.setRootIsDecorated(True)
        self.builtin = self._section("Built-in models")
        self.recent = self._section("Recent files")
        self.parameters = self._section("Parameters")
        for entry in list_builtin_models():
            self._model_item(self.builtin, entry.name, str(entry.path), entry.summary)
        self._show_recent()
        self.itemActivated.connect(self._on_item_activated)
        self.itemClicked.connect(self._on_item_clicked)

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setExpanded(True)
        return item

    def _model_item(self, section: QTreeWidgetItem, name: str, path: str, tip: str) -> None:
        item = QTreeWidgetItem(section, [name])
        item.setData(0, _PATH, path)
        item.setToolTip(0, tip or path)

    def show_model(self, model_path: str, graph: AutogradGraph) -> None:
        """Mark the open model, remember it as recent (files of the user's), and list
        its parameters: name, shape and number of values."""
        self._remember(model_path)
        for section in (self.builtin, self.recent):
            for child in _children(section):
                font = QFont(child.font(0))
                font.setBold(child.data(0, _PATH) == model_path)
                child.setFont(0, font)
        self.parameters.takeChildren()
        for node in graph.nodes:
            if node.kind is NodeKind.PARAMETER and node.tensor is not None:
                shape, values = node.tensor.shape, math.prod(node.tensor.shape)
                item = QTreeWidgetItem(self.parameters, [f"{node.title} {shape}"])
                item.setToolTip(0, f"{node.title}: shape {shape}, {values:,} values")
                item.setData(0, _NODE, node.id)
        self.parameters.setText(0, f"Parameters ({self.parameters.childCount()})")

    def recent_files(self) -> list[str]:
        """The user's recently opened model files, newest first."""
        value = self.settings.value(RECENT_KEY, [])
        files = [value] if isinstance(value, str) else value  # one entry reads as a str
        return [str(f) for f in files if f] if isinstance(files, list) else []

    def _remember(self, model_path: str) -> None:
        if Path(model_path).parent == builtin_models_dir():
            return  # built-ins have their own section
        files = [model_path, *(f for f in self.recent_files() if f != model_path)]
        self.settings.setValue(RECENT_KEY, files[:RECENT_LIMIT])
        self._show_recent()

    def _show_recent(self) -> None:
        self.recent.takeChildren()
        for path in self.recent_files():
            self._model_item(self.recent, Path(path).name, path, path)
        self.recent.setHidden(self.recent.childCount() == 0)

    def _on_item_activated(self, item: QTreeWidgetItem) -> None:
        path = item.data(0, _PATH)
        if path:
            self.model_chosen.emit(path)

    def _on_item_clicked(self, item: QTreeWidgetItem) -> None:
        node_id = item.data(0, _NODE)
        if node_id:
            self.node_chosen.emit(node_id)


def _children(section: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    found = (section.child(i) for i in range(section.childCount()))
    return [child for child in found if child is not None]
