"""Find (Ctrl+F) and opening a model by dropping its file on the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def test_find_walks_through_the_matching_nodes(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    window.views.find_action.trigger()
    qtbot.keyClicks(window.find_bar.edit, "linear fc2")
    graph = window.result.visible
    expected = [n.id for n in graph.nodes if n.op == "linear" and n.module == "fc2"]
    assert window.find_bar.hits == expected and len(expected) == 1
    qtbot.keyClick(window.find_bar.edit, Qt.Key.Key_Return)
    assert window.scene.selected_node_id() == expected[0]
    window.find_bar.edit.setText("(16, 8) float32")
    assert [graph.node(h).leaf_name for h in window.find_bar.hits] == ["fc1.weight"]
    window.find_bar.edit.setText("nothing-like-this")
    assert window.find_bar.count.text() == "0 found"


def test_dropping_a_model_file_opens_it(qtbot, window: MainWindow) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(Path(resolve_model("custom_relu"))))])
    where, copy = QPoint(50, 50), Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where, copy, data, buttons, keys)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()  # a .py file: the window takes it
    event = QDropEvent(QPointF(where), copy, data, buttons, keys)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        QApplication.sendEvent(window, event)
    assert window.result.model_name == "custom_relu"
