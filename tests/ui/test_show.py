"""show(): the window on the user's live objects, without blocking (as in IPython with
%gui qt); backward and training act on those very objects; watch() feeds the window."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import torch
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip
from torch import nn

import graphviz_app
from graphviz_app.core.graph.records import NodeKind
from graphviz_app.ui.window import live as window_live
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


@pytest.fixture
def shown(qtbot, monkeypatch, settings: QSettings) -> Iterator[list[MainWindow]]:  # type: ignore[no-untyped-def]
    """Windows opened by show() use a temporary settings file and are closed after."""
    monkeypatch.setattr(window_live, "SETTINGS", settings)
    windows: list[MainWindow] = []
    yield windows
    for window in windows:
        window.close()


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


def _open(qtbot, windows: list[MainWindow], *args, **kwargs) -> MainWindow:  # type: ignore[no-untyped-def]
    window = graphviz_app.show(*args, block=False, **kwargs)
    assert isinstance(window, MainWindow) and window.isVisible()
    windows.append(window)
    qtbot.waitUntil(
        lambda: window.result is not None and not window.controller.busy, timeout=WAIT_MS
    )
    return window


def test_a_live_tensor_backward_from_the_window_fills_the_users_grad(qtbot, shown) -> None:  # type: ignore[no-untyped-def]
    model, x = _model(), torch.randn(6, 4)
    loss = model(x).pow(2).mean()
    expected = torch.autograd.grad(model(x).pow(2).mean(), model[0].weight)[0]
    window = _open(qtbot, shown, loss, model=model)
    names = {n.leaf_name for n in window.result.graph.nodes if n.kind is NodeKind.PARAMETER}
    assert names == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert len(window.scene.nodes) == len(window.result.visible.nodes)
    with qtbot.waitSignal(window.controller.backward_ready, timeout=WAIT_MS):
        window.run.backward_action.trigger()  # F6
    assert torch.equal(model[0].weight.grad, expected)  # the user's own tensor
    assert window.stepper.step_count == len(window.result.graph.nodes) - 1
    training = window.parts["TrainingControls"]
    assert window.run.walkthrough_action.isEnabled()  # a recorded pass to export now
    training.train(1)  # a tensor's graph cannot train: a message, no crash
    qtbot.waitUntil(lambda: "show(model=model, inputs=x)" in window.last_error, timeout=WAIT_MS)
    window.errors.close()


def test_a_tensors_graph_offers_no_training_and_says_why(qtbot, shown) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    window = _open(qtbot, shown, model(torch.randn(3, 4)).sum(), model=model)
    training = window.parts["TrainingControls"]
    train = window.run.train_action
    assert not train.isEnabled() and "show(model=model, inputs=x)" in train.toolTip()
    panel = training.panel
    assert not panel.step_button.isEnabled() and not panel.run_button.isEnabled()
    assert "show(model=model, inputs=x)" in panel.step_button.toolTip()
    assert "show(model=model, inputs=x)" in panel.status.text()
    assert not training.check_action.isEnabled()  # the gradient check trains a copy
    assert window.run.backward_action.isEnabled()  # backward runs from the tensors
    walkthrough = window.run.walkthrough_action
    assert not walkthrough.isEnabled() and "run backward (F6)" in walkthrough.toolTip()
    window = _open(qtbot, shown, model=model, inputs=torch.randn(3, 4))
    qtbot.waitUntil(lambda: train.isEnabled(), timeout=WAIT_MS)
    assert panel.step_button.isEnabled() and "Unavailable" not in train.toolTip()


def test_a_model_with_inputs_trains_the_users_model_and_the_window_is_reused(qtbot, shown) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    before = copy.deepcopy(model)
    window = _open(qtbot, shown, model=model, inputs=torch.randn(16, 4))
    assert {n.op for n in window.result.graph.nodes if n.op} >= {"linear", "tanh"}  # recorded
    training = window.parts["TrainingControls"]
    with qtbot.waitSignal(window.controller.trained, timeout=WAIT_MS):
        training.train(1)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert not torch.equal(model[0].weight, before[0].weight)  # the user's model moved
    a = torch.tensor(2.0, requires_grad=True)
    again = graphviz_app.show(a * 3, block=False)
    assert again is window
    qtbot.waitUntil(lambda: len(window.result.graph.nodes) == 3, timeout=WAIT_MS)


def test_a_watched_loop_feeds_the_windows_graph_and_plots(qtbot, shown) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    window = _open(qtbot, shown, model=model, inputs=torch.randn(2, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with graphviz_app.watch(model) as run:
        for _ in range(3):
            opt.zero_grad()
            model(torch.randn(8, 4)).pow(2).mean().backward()
            opt.step()
    plots = window.parts["TrainingControls"].plots
    qtbot.waitUntil(lambda: plots.steps == [1, 2, 3], timeout=WAIT_MS)
    assert "(watched)" in window.result.model_name
    assert plots.losses == [r.loss for r in run.records]
    assert window.stepper.step_count == len(run.trace.steps)  # the last step's backward
    assert plots.grad_norms["0.weight"] == [(r.step, r.grad_norms["0.weight"]) for r in run.records]
    ratios = [r.update_ratios["2.bias"] for r in run.records]
    assert [v for _, v in plots.ratios["2.bias"]] == pytest.approx(ratios)


def test_without_a_display_show_says_so_instead_of_aborting(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(window_live.QApplication, "instance", staticmethod(lambda: None))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(window_live.sys, "platform", "linux")
    a = torch.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="no display"):
        graphviz_app.show(a * 2, block=False)


def test_the_windows_own_looks_leave_the_users_batch_norm_alone(qtbot, shown) -> None:  # type: ignore[no-untyped-def]
    """Opening the window and Check gradient health run forward in train mode on the
    user's model: num_batches_tracked went 0 -> 1 -> 2 and running_mean moved."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    before = copy.deepcopy(model.state_dict())
    window = _open(qtbot, shown, model=model, inputs=torch.randn(16, 4))

    def unchanged() -> bool:
        now = model.state_dict()
        return all(torch.equal(now[k], v) for k, v in before.items())

    assert unchanged() and int(model[1].num_batches_tracked) == 0
    health = window.parts["HealthControls"]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        health.check_action.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert health.report is not None and unchanged()
    assert all(p.grad is None for p in model.parameters())


def test_a_long_status_message_is_cut_at_a_word_with_the_rest_in_its_tooltip(qtbot, shown) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, shown, torch.tensor(2.0, requires_grad=True) * 3)
    window.resize(900, 600)
    status = window.status
    qtbot.waitUntil(lambda: status.width() == 900 and status.model_label.x() < 900)
    message = "Step 12 of your loop: loss 0.25. " * 6
    status.showMessage(message)
    room = status.message_room()
    assert room.right() < status.model_label.x()  # clear of the permanent labels
    cut = status.shown_message()
    assert cut.endswith("\u2026") and message.startswith(cut[:-1])
    assert status.fontMetrics().horizontalAdvance(cut) <= room.width()
    point = room.center()
    QApplication.sendEvent(
        status, QHelpEvent(QEvent.Type.ToolTip, point, status.mapToGlobal(point))
    )
    assert QToolTip.text() == message
    QToolTip.hideText()
    status.showMessage("Backward recorded: 3 steps in 2 ms")
    assert status.shown_message() == status.currentMessage()  # room enough: as it is
