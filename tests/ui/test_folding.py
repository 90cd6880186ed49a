"""Repeated blocks in the window: a big model opens folded, a double-click opens a fold."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000

STACK = '''
"""Six identical blocks in a row."""
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return x + torch.tanh(self.fc(x))


def build_model():
    return nn.Sequential(*[Block() for _ in range(6)])


def example_inputs():
    return torch.randn(2, 8)
'''


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "stack.py"
    path.write_text(STACK)
    return path


def _open_folded(qtbot, window: MainWindow, path: Path) -> None:  # type: ignore[no-untyped-def]
    window.trust.trust(path)
    drawer = window.controller._worker._session_or_new().drawer
    drawer.fold_above = 10  # the stack has ~40 nodes; pretend that is big
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)


def _fold_items(window: MainWindow) -> list[str]:
    return [i.node.title for i in window.scene.nodes.values() if i.node.title.endswith("x5")]


def test_a_big_model_opens_folded_and_a_double_click_opens_the_fold(
    qtbot, window: MainWindow, stack_file: Path
) -> None:
    _open_folded(qtbot, window, stack_file)
    assert window.style_options.folded == {"0"}
    assert _fold_items(window) == ["1 .. 5 x5"]
    assert "1 run of repeated blocks folded." in window.status.currentMessage()
    assert window.views.fold_action.isEnabled() and window.views.fold_action.isChecked()
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.scene.toggle_module("1")  # what double-clicking the folded node sends
    assert window.style_options.folded == frozenset()
    modules = {i.node.module for i in window.scene.nodes.values() if i.node.kind is NodeKind.MODULE}
    assert {"1", "2", "3", "4", "5"} <= modules  # each block now one collapsed node


def test_the_fold_action_folds_and_unfolds_everything(
    qtbot, window: MainWindow, stack_file: Path
) -> None:
    _open_folded(qtbot, window, stack_file)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.views.fold_action.trigger()  # unfold
    assert not _fold_items(window) and not window.views.fold_action.isChecked()
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.views.fold_action.trigger()  # fold again
    assert _fold_items(window) == ["1 .. 5 x5"]


def test_a_graph_without_repeats_says_why_folding_is_off(qtbot, window: MainWindow) -> None:
    from graphviz_app.io.builtin import resolve_model

    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    assert not window.views.fold_action.isEnabled()
    assert "no run of 3 identical blocks" in window.views.fold_action.toolTip()
