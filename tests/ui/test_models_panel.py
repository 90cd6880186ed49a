"""The Models panel: built-ins, recent files kept across windows, the open model's parameters."""

from __future__ import annotations

from pathlib import Path

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.panels.model_list import RECENT_KEY
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000
USER_MODEL = '''
import torch
from torch import nn

def build_model():
    return nn.Linear(3, 2)

def example_inputs():
    return torch.randn(4, 3)
'''


def _open(qtbot, window: MainWindow, path: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)


def test_parameters_are_listed_with_shapes_and_counts_and_select_their_node(
    qtbot, window: MainWindow
) -> None:
    _open(qtbot, window, resolve_model("two_layer_net"))
    section = window.models.parameters
    rows = {section.child(i).text(0): section.child(i) for i in range(section.childCount())}
    weight = rows["fc1.weight (16, 8)"]
    assert weight.toolTip(0) == "fc1.weight: shape (16, 8), 128 values"
    assert section.text(0) == "Parameters (4)"
    window.models.itemClicked.emit(rows["fc2.bias (4,)"], 0)
    assert window.scene.nodes[window.scene.selected_node_id()].node.title == "fc2.bias"


def test_a_users_file_is_remembered_as_recent_across_windows(
    qtbot, window: MainWindow, tmp_path: Path, settings
) -> None:
    path = tmp_path / "mine.py"
    path.write_text(USER_MODEL)
    window.trust.trust(path)
    _open(qtbot, window, resolve_model("two_layer_net"))
    assert window.models.recent_files() == []  # built-ins are not "recent"
    _open(qtbot, window, path)
    assert window.models.recent_files() == [str(path.resolve())]
    assert settings.value(RECENT_KEY) == [str(path.resolve())]
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    recent = again.models.recent
    assert not recent.isHidden() and recent.child(0).text(0) == "mine.py"
    with qtbot.waitSignal(again.picture_shown, timeout=WAIT_MS):
        again.models.itemActivated.emit(recent.child(0), 0)
    assert again.result is not None and again.result.model_name == "mine"
    again.close()
