"""The Training dock after the second review: controls visible without scrolling,
Check gradients and Switch disabled with the reason during a run, a device choice
that is not applied yet is said, readable plots for many parameters, short status-bar
lines and an inspector section that says what zero_grad did."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtWidgets import QWidget

from graphviz_app.core.training.trainer import Trainer, TrainRecord, TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.common.theme import LIGHT
from graphviz_app.ui.training.controls import CHECKING, TrainingControls
from graphviz_app.ui.training.plot_parts import PLOT_HEIGHT
from graphviz_app.ui.training.plots import LEGEND_WIDTH, TrainingPlots

WAIT_MS = 30_000


def _open(qtbot, window, name: str = "two_layer_net") -> TrainingControls:  # type: ignore[no-untyped-def]
    part = window.parts["TrainingControls"]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model(name))
    qtbot.waitUntil(lambda: part.devices.device.count() > 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    return part


def _records(widths: tuple[int, ...], steps: int = 3) -> list[TrainRecord]:
    """Steps of an MLP with one Linear per width: two parameters per layer."""
    torch.manual_seed(0)
    layers = [torch.nn.Linear(a, b) for a, b in zip((3, *widths), widths, strict=False)]
    model = torch.nn.Sequential(*layers)
    trainer, x = Trainer(model, TrainSettings(lr=0.1)), torch.randn(6, 3)
    records = []
    for _ in range(steps):
        trainer.before_forward()
        loss = model(x).pow(2).mean()
        loss.backward()
        records.append(trainer.apply(loss))
    return records


def _shown_in(widget: QWidget, viewport: QWidget) -> bool:
    """Whether all of ``widget`` lies inside ``viewport`` (not scrolled out of view)."""
    corner = widget.mapTo(viewport, widget.rect().topLeft())
    return widget.isVisible() and viewport.rect().contains(QRect(corner, widget.size()))


@pytest.mark.parametrize("size", [(1440, 900), (1280, 800)])
def test_the_controls_show_without_scrolling(qtbot, window, size) -> None:  # type: ignore[no-untyped-def]
    window.resize(*size)
    part = _open(qtbot, window)
    part.dock.raise_()
    panel, viewport = part.panel, part.dock.widget().viewport()
    panel.zero_grad.setChecked(False)
    panel.status.setText("Step 2 on make_batch(1) (SGD, lr 0.1): loss 0.04408. " * 2)
    buttons = (panel.step_button, panel.run_button, panel.stop_button, panel.reset_button)
    shown = (*buttons, panel.status, panel.warning, part.plots.ratio_plot)
    # waitUntil: the dock settles its size after it is raised
    qtbot.waitUntil(lambda: all(_shown_in(w, viewport) for w in shown), timeout=5000)
    assert part.dock.height() < size[1] // 3  # the graph keeps most of the height
    part.tabs.setCurrentWidget(part.gradcheck)
    check = part.gradcheck
    qtbot.waitUntil(
        lambda: _shown_in(check.check_button, viewport) and _shown_in(check.table, viewport),
        timeout=5000,
    )
    explanation = check.explanation.mapTo(check, check.explanation.rect().topLeft())
    assert explanation.x() > check.table.geometry().right()  # beside the table, not below


def test_check_gradients_and_switch_wait_for_a_run_and_say_why(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = window.parts["TrainingControls"]
    action = part.check_action
    assert not action.isEnabled() and "Unavailable now: open a model first" in action.toolTip()
    part = _open(qtbot, window)
    assert action.isEnabled() and "Unavailable" not in action.toolTip()
    part.panel.steps.setValue(100_000)
    qtbot.mouseClick(part.panel.run_button, Qt.MouseButton.LeftButton)
    blocked = (action, part.gradcheck.check_button, part.devices.switch_button)
    for widget in blocked:
        assert not widget.isEnabled()
        assert "Training is running: stop it first" in widget.toolTip()
    action.trigger()  # Ctrl+G does nothing while disabled
    qtbot.waitUntil(lambda: len(part.plots.steps) >= 2, timeout=WAIT_MS)
    qtbot.mouseClick(part.panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not part.running and not window.controller.busy, timeout=WAIT_MS)
    for widget in blocked:
        assert widget.isEnabled() and "Unavailable" not in widget.toolTip()
    assert part.gradcheck.table.rowCount() == 0  # no check was queued behind the run


def test_a_gradient_check_shows_its_progress(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    shown: list[tuple[int, int]] = []
    show = part.gradcheck.show_progress
    part.gradcheck.show_progress = lambda d, t: (shown.append((d, t)), show(d, t))  # type: ignore[method-assign]
    part.check_action.trigger()
    assert part.gradcheck.progress.isVisible() and not part.check_action.isEnabled()
    qtbot.waitUntil(lambda: any(t > 0 for _, t in shown), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not part.running, timeout=WAIT_MS)
    counted = [(d, t) for d, t in shown if t > 0]
    assert all(0 <= d <= t for d, t in counted)
    assert [d for d, _ in counted] == sorted(d for d, _ in counted)
    assert not part.gradcheck.progress.isVisible() and part.gradcheck.table.rowCount() == 4
    assert "every" in part.gradcheck.summary.text().lower()  # why that many elements


def test_a_device_choice_not_applied_yet_is_said(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    devices = part.devices
    assert "Now: <b>cpu float32</b>" in devices.state.text() and not devices.pending()
    devices.dtype.setCurrentText("float64")
    assert devices.pending() and "Not applied yet" in devices.state.text()
    assert "float64" in devices.state.text() and devices.switch_button.font().bold()
    qtbot.mouseClick(devices.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: devices.table.rowCount() == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert not devices.pending() and devices.state.text() == "Now: <b>cpu float64</b>."
    assert not devices.switch_button.font().bold() and devices.warning.isHidden()


def test_many_parameters_get_distinct_curves_and_a_fitting_legend(qtbot) -> None:  # type: ignore[no-untyped-def]
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.add_records(_records((4, 4, 4, 4, 4, 4, 4, 4, 1)))  # 18 parameters
    names = plots.parameter_names()
    looks = {
        (
            plots.curve("grad", n).opts["pen"].color().name(),
            plots.curve("grad", n).opts["pen"].style(),
        )
        for n in names
    }
    assert len(names) == 18 and len(looks) == 18
    assert len({plots.curve("grad", n).opts["pen"].color().name() for n in names}) == len(
        LIGHT.categorical
    )
    assert LEGEND_WIDTH[0] <= plots.legend.width() <= LEGEND_WIDTH[1]
    metrics = plots.legend.fontMetrics()
    assert plots.legend.width() > metrics.horizontalAdvance("0.weight")
    assert plots.legend.textElideMode() == Qt.TextElideMode.ElideMiddle
    for plot in (plots.loss_plot, plots.grad_plot, plots.ratio_plot):
        assert plot.getAxis("bottom").labelText == "step"
        assert plot.minimumHeight() >= PLOT_HEIGHT


def test_hover_reads_out_and_a_click_picks_the_nearest_curve(qtbot) -> None:  # type: ignore[no-untyped-def]
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 260)
    plots.show()
    qtbot.waitExposed(plots)
    plots.add_records(_records((4, 1)))
    plot, box = plots.grad_plot, plots.grad_plot.getPlotItem().getViewBox()
    xs, ys = plots.curve("grad", "0.weight").getData()
    qtbot.waitUntil(lambda: box.sceneBoundingRect().contains(box.mapViewToScene(QPointF(2, ys[1]))))
    on_curve = box.mapViewToScene(QPointF(float(xs[1]), float(ys[1])))
    assert plots.nearest(plot, on_curve) == (
        "0.weight",
        2,
        pytest.approx(plots.grad_norms["0.weight"][1][1]),
    )
    plots._on_plot_hovered(plot, on_curve)
    assert plots.readout.text().startswith("0.weight\n|grad| ")
    # A point a few pixels from each curve selects whichever is closer, not the top one.
    for name, _ in plots.grad_norms.items():
        x, y = plots.curve("grad", name).getData()
        point = box.mapViewToScene(QPointF(float(x[2]), float(y[2])))
        found = plots.nearest(plot, point + QPointF(0, 2), within=10)
        assert found is not None and found[0] == name


def test_status_bar_lines_are_short_and_the_dock_has_the_story(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "dynamic_net")
    messages: list[str] = []
    window.status.messageChanged.connect(messages.append)
    part.train(3)
    qtbot.waitUntil(lambda: len(part.plots.steps) == 3 and not part.running, timeout=WAIT_MS)
    steps = [m for m in messages if m.startswith("Step ")]
    assert steps and all(len(m) <= 80 for m in steps), steps
    changed = [m for m in steps if "graph changed" in m]
    assert changed, steps  # dynamic_net's seeded depth changes in its first steps
    assert " -> " in changed[0] and changed[0].endswith("nodes)")
    assert window.status.currentMessage().startswith("Step 3: loss ")
    assert "(SGD, lr 0.1)" in part.panel.status.text()


def test_the_inspector_says_zero_grad_off_sums_the_gradients(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    part.panel.zero_grad.setChecked(False)
    part.train(2)
    qtbot.waitUntil(lambda: len(part.plots.steps) == 2 and not part.running, timeout=WAIT_MS)
    graph = window.result.visible
    bias = next(n for n in graph.nodes if n.leaf_name == "fc2.bias")
    html = part.inspector(graph, bias.id)
    assert ".grad used (sum over steps)" in html and "-lr x .grad" in html
    assert "sum of this step's gradient and every earlier one's" in html
    assert "set_to_none" not in html and "color:#" not in html


def test_the_loss_plot_marks_where_the_settings_changed(qtbot) -> None:  # type: ignore[no-untyped-def]
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    records = _records((4, 1), steps=5)
    fast, no_zero = TrainSettings(lr=1.0), TrainSettings(lr=1.0, zero_grad=False)
    chosen = [TrainSettings(), TrainSettings(), fast, fast, no_zero]
    pairs = zip(records, chosen, strict=True)
    plots.add_records([dataclasses.replace(r, settings=s) for r, s in pairs])
    assert [line.value() for line in plots.changes] == [2.5, 4.5]
    assert [line.label.format for line in plots.changes] == ["lr 0.1 -> 1", "zero_grad off"]
    # Text on the side with room: right of the line in the first half, left in the second.
    assert [line.label.anchors[0] for line in plots.changes] == [(0, 0), (1, 0)]
    lines = plots.changes
    plots.clear()
    assert plots.changes == []
    assert not any(line in plots.loss_plot.getPlotItem().items for line in lines)


def test_training_waits_for_a_gradient_check_and_says_why(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window)
    part.check_action.trigger()
    buttons = (part.panel.step_button, part.panel.run_button)
    assert all(not b.isEnabled() and b.toolTip() == CHECKING for b in buttons)
    assert part.panel.stop_button.isEnabled()  # Stop cancels the check
    part.train(1)  # Ctrl+T while the check runs
    assert window.status.currentMessage() == CHECKING and part._runs == 0
    qtbot.waitUntil(lambda: not part.running and not window.controller.busy, timeout=WAIT_MS)
    assert all(b.isEnabled() for b in buttons) and part.plots.steps == []


def test_a_check_that_cannot_run_says_why_in_the_tab(qtbot, window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "float32_only.py"
    path.write_text(FLOAT32_ONLY)
    window.trust.trust(path)
    part = _open(qtbot, window, str(path))
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as shown:
        part.check_action.trigger()
    qtbot.waitUntil(lambda: not part.running and not window.controller.busy, timeout=WAIT_MS)
    assert not shown.args[0].startswith("Unexpected error")
    assert part.gradcheck.summary.text().startswith("The check could not run: ")
    assert "float64" in part.gradcheck.summary.text()


FLOAT32_ONLY = """
import torch
from torch import nn

def build_model():
    torch.manual_seed(0)
    return nn.Linear(3, 2)

def example_inputs():
    return torch.randn(4, 3)

def loss_fn(output, x):
    return (output @ torch.ones(2, 2)).pow(2).mean()  # a float32 matrix: no float64
"""


def test_after_a_reset_the_previous_runs_loss_stays_faint_for_comparison(qtbot) -> None:  # type: ignore[no-untyped-def]
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    records = _records((4, 1), steps=3)
    plots.add_records(records)
    plots.start_over()
    steps, losses = plots.previous_curve.getData()
    assert list(steps) == [1, 2, 3] and list(losses) == [r.loss for r in records]
    assert plots.previous_label.textItem.toPlainText() == "previous run: SGD, lr 0.1"
    assert plots.steps == [] and plots.parameter_names() == []
    plots.start_over()  # no step since: the comparison stays
    assert len(plots.previous_curve.getData()[0]) == 3
    plots.clear()  # another model: nothing to compare with
    assert plots.previous_curve.getData()[0] is None or not len(plots.previous_curve.getData()[0])
    assert plots.previous_label.textItem.toPlainText() == ""
