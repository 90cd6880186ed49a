"""The list of built-in example models; activating one asks to open it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from graphviz_app.io.builtin import list_builtin_models


class ModelList(QListWidget):
    """Built-in models by name, with their one-line summary as tooltip."""

    model_chosen = Signal(str)  # the model file's path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for entry in list_builtin_models():
            item = QListWidgetItem(entry.name, self)
            item.setToolTip(entry.summary)
            item.setData(Qt.ItemDataRole.UserRole, str(entry.path))
        self.itemActivated.connect(self._on_item_activated)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.model_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
