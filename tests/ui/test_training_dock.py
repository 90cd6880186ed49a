"""The Training dock: steps through the worker, a responsive GUI, cancel, plots,
devices and the gradient check."""

from __future__ import annotations

import threading
from collections import Counter

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QApplication

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.io.builtin import resolve_model
from graphviz_app.session import ModelSession
from graphviz_app.ui.training.controls import TrainingControls

WAIT_MS = 30_000
SLOW_STEP_S = 0.1


def _open(qtbot, window, name: str = "two_layer_net") -> TrainingControls:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model(name))
    part = window.parts["TrainingControls"]
    qtbot.waitUntil(lambda: part.devices.device.count() > 0, timeout=WAIT_MS)
    return part


def test_n_steps_keep_the_gui_responsive_and_stop_on_cancel(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    put = part.feed.put

    def slow_put(step: object) -> None:  # a model whose step takes SLOW_STEP_S
        threading.Event().wait(SLOW_STEP_S)  # waiting releases the GIL, as torch's kernels do
        put(step)  # type: ignore[arg-type]

    part.feed.put = slow_put  # type: ignore[method-assign]
    ticks: list[int] = []  # the steps drawn, seen at each tick of a GUI-thread timer
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(len(part.plots.steps)))
    timer.start(10)
    part.panel.steps.setValue(100_000)
    qtbot.mouseClick(part.panel.run_button, Qt.MouseButton.LeftButton)
    assert part.running and part.panel.stop_button.isEnabled()
    assert not part.panel.step_button.isEnabled()
    qtbot.waitUntil(lambda: len(part.plots.steps) >= 8, timeout=WAIT_MS)
    qtbot.mouseClick(part.panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not part.running and not window.controller.busy, timeout=WAIT_MS)
    timer.stop()
    done = len(part.plots.steps)
    assert 8 <= done < 100_000
    assert part.plots.steps == list(range(1, done + 1))
    assert part.panel.status.text() == f"Stopped after {done} of 100000 steps."
    assert part.panel.step_button.isEnabled() and not part.panel.stop_button.isEnabled()
    # Between most pairs of consecutive drawn steps the timer fired at least twice: the
    # GUI ran its event loop while the worker computed. A GUI thread blocked for each
    # step gets one (coalesced) tick per step; a starved one draws steps in batches.
    between = Counter(ticks)
    free = [k for k in range(1, done) if between[k] >= 2]
    assert len(free) >= 0.75 * (done - 1), sorted(between.items())


def test_a_step_draws_plots_and_the_inspector_shows_the_update(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        qtbot.mouseClick(part.panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert part.plots.steps == [1] and len(part.plots.losses) == 1
    assert set(part.plots.parameter_names()) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    graph = window.result.visible
    bias = next(n for n in graph.nodes if n.leaf_name == "fc2.bias")
    html = part.inspector(graph, bias.id)
    assert "update applied" in html and "-lr x .grad" in html
    assert "zero_grad(set_to_none=True) set .grad to None" in html and "sum" not in html
    assert "color:#" not in html  # the theme's sheet colours it (td.key, .muted)
    output = next(n for n in graph.nodes if n.kind is not NodeKind.PARAMETER)
    assert part.inspector(graph, output.id) == ""


def test_clicking_a_parameter_curve_selects_its_node(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    part.train(2)
    qtbot.waitUntil(lambda: len(part.plots.steps) == 2 and not part.running, timeout=WAIT_MS)
    part.dock.raise_()
    plot = part.plots.ratio_plot
    xs, ys = part.plots.curve("ratio", "fc1.weight").getData()
    box = plot.getPlotItem().getViewBox()
    on_curve = QPointF(float(xs[1]), float(ys[1]))  # step 2, in the plot's (log) units
    # Shown, and auto-ranged around the curves (the range updates when painted).
    qtbot.waitUntil(
        lambda: box.sceneBoundingRect().contains(box.mapViewToScene(on_curve)), timeout=WAIT_MS
    )
    point = plot.mapFromScene(box.mapViewToScene(on_curve))
    with qtbot.waitSignal(part.plots.param_clicked) as clicked:
        qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert clicked.args == ["fc1.weight"]
    selected = window.scene.selected_node_id()
    assert window.result.visible.node(selected).leaf_name == "fc1.weight"


def test_ctrl_t_trains_with_the_dock_settings(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    part.panel.optimizer.setCurrentText("Adam")
    part.panel.lr.setValue(0.02)
    window.run.train_action.trigger()
    qtbot.waitUntil(lambda: len(part.plots.steps) == 1 and not part.running, timeout=WAIT_MS)
    assert part.inspector.record is not None
    assert part.inspector.record.settings.optimizer == "Adam"
    assert part.inspector.record.settings.lr == 0.02


def test_zero_grad_off_shows_a_warning(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    assert part.panel.warning.isHidden()
    part.panel.zero_grad.setChecked(False)
    assert not part.panel.warning.isHidden() and "accumulate" not in part.panel.warning.text()
    assert "adds its gradient" in part.panel.warning.text()
    assert window.run.train_settings.zero_grad is False


def test_unavailable_devices_are_disabled_with_the_reason(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    combo = part.devices.device
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    assert combo.itemData(0) == "cpu" and model.item(0).isEnabled()
    for row in range(combo.count()):
        if "unavailable" in combo.itemText(row):
            assert not model.item(row).isEnabled()
            assert ":" in combo.itemData(row, Qt.ItemDataRole.ToolTipRole)


def test_switching_to_float64_shows_the_comparison(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    part.devices.dtype.setCurrentText("float64")
    qtbot.mouseClick(part.devices.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: part.devices.table.rowCount() == 4, timeout=WAIT_MS)
    assert "cpu float32 -> cpu float64" in part.devices.summary.text()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    tensors = [n.tensor for n in window.result.graph.nodes if n.tensor is not None]
    assert {t.dtype for t in tensors} == {"float64"}


def test_check_gradients_fills_both_columns(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "custom_relu")
    window.parts["TrainingControls"].check_action.trigger()
    qtbot.waitUntil(lambda: part.gradcheck.table.rowCount() == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not part.running, timeout=WAIT_MS)
    table = part.gradcheck.table
    assert [table.item(r, 3).text() for r in range(4)] == ["pass"] * 4
    assert "FAIL" in [table.item(r, 5).text() for r in range(4)]
    assert "7 significant digits" in part.gradcheck.explanation.text()


def test_a_training_step_keeps_the_users_zoom_and_scroll(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    window.view.zoom_by(3.0)
    window.view.centerOn(window.scene.sceneRect().center() + QPointF(40, 30))
    QApplication.processEvents()  # the scroll bars a zoom brings take their room first
    scale, centre = window.view.current_scale(), window.view.mapToScene(window.view.rect().center())
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        qtbot.mouseClick(part.panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert window.view.current_scale() == scale
    assert window.view.mapToScene(window.view.rect().center()) == centre
    window.restyle(rankdir="LR")  # a new layout is fitted again
    qtbot.waitUntil(lambda: window.view.current_scale() != scale, timeout=WAIT_MS)


def test_a_failed_switch_shows_where_the_model_still_is(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)

    def broken(*args: object) -> None:
        raise RuntimeError("the driver went away")

    monkeypatch.setattr(ModelSession, "set_device", broken)
    part.devices.dtype.setCurrentText("float64")
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS):
        qtbot.mouseClick(part.devices.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert part.devices.dtype.currentText() == "float32"  # not the float64 it failed to reach
    assert part.devices.device.currentData() == "cpu"


def test_choosing_a_dtype_is_not_undone_by_a_training_step(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    part.devices.dtype.setCurrentText("float64")
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        qtbot.mouseClick(part.panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert part.devices.dtype.currentText() == "float64"
