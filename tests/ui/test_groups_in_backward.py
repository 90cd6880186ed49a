"""A collapsed module during backward: coloured and marked by the nodes inside it, and
the inspector sums up their gradients (checked against torch's .grad)."""

from __future__ import annotations

import math

import torch

from graphviz_app.core.graph.collapse import group_id
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.graph.items import StepState
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def test_a_collapsed_module_follows_the_nodes_inside_it(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("residual_cnn"))
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.set_collapsed(frozenset({"block"}))
    with qtbot.waitSignal(window.controller.backward_ready, timeout=WAIT_MS):
        window.run.backward_action.trigger()
    block = window.scene.nodes[group_id("block")]
    kind_fill = block.theme.kind_fill[block.node.kind]
    window.stepper.go_to(0)
    assert block.fill_color() == kind_fill  # nothing inside has run yet
    window.stepper.go_to(window.stepper.step_count - 1)
    assert block.step_state is StepState.DONE and block.fill_color() != kind_fill
    window.scene.select_node(block.node_id)
    text = window.inspector.toPlainText()
    assert "Inside this ResidualBlock" in text and "Gradients inside (so far)" in text
    model = window.controller._worker._session_or_new().loaded.model
    grads = torch.cat([p.grad.flatten() for p in model.block.parameters()])
    shown = text.split("all parameter gradients together |g| ")[1].split()[0]
    assert math.isclose(float(shown), float(grads.norm()), rel_tol=1e-3)
