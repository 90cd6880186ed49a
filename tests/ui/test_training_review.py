"""The Training dock after review: nothing stale after another model opens, readable
plots in both themes, outcome-led gradient-check text, and honest status lines."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt

from graphviz_app.core.training.trainer import Trainer, TrainRecord, TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.common.theme import DARK, LIGHT
from graphviz_app.ui.training.controls import PREPARING, TrainingControls
from graphviz_app.ui.training.device_controls import HINT, DevicePanel
from graphviz_app.ui.training.gradcheck_view import GradcheckView
from graphviz_app.ui.training.plot_parts import AXIS_WIDTH, FEW_POINTS, MAX_LOG_TICKS
from graphviz_app.ui.training.plots import TrainingPlots

WAIT_MS = 30_000


def _open(qtbot, window, name: str) -> TrainingControls:  # type: ignore[no-untyped-def]
    part = window.parts["TrainingControls"]
    part.devices.device.clear()
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model(name))
    qtbot.waitUntil(lambda: part.devices.device.count() > 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    return part


def _records(steps: int) -> list[TrainRecord]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    trainer, x = Trainer(model, TrainSettings(lr=0.1)), torch.randn(6, 3)
    records = []
    for _ in range(steps):
        trainer.before_forward()
        loss = model(x).pow(2).mean()
        loss.backward()
        records.append(trainer.apply(loss))
    return records


def test_opening_another_model_clears_every_result_of_the_previous_one(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "two_layer_net")
    part.train(1)
    qtbot.waitUntil(lambda: part.plots.steps == [1] and not part.running, timeout=WAIT_MS)
    part.check_gradients(None)
    qtbot.waitUntil(lambda: part.gradcheck.table.rowCount() == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    part.switch_device("cpu", "float64")
    qtbot.waitUntil(lambda: part.devices.table.rowCount() == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert part.panel.status.text() and part.gradcheck.explanation.text()
    assert "->" in part.devices.summary.text()
    _open(qtbot, window, "custom_relu")
    assert part.gradcheck.table.rowCount() == 0
    assert part.gradcheck.summary.text() == "" and part.gradcheck.explanation.text() == ""
    assert part.devices.table.rowCount() == 0 and part.devices.summary.text() == HINT
    assert part.panel.status.text() == "" and part.plots.steps == []
    assert part.plots.legend.count() == 0 and part.inspector.record is None


def test_the_status_bar_does_not_keep_the_preparing_job_name(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.status._busy_timer.setInterval(0)  # every job shows its "<job>..." message
    opened: list[str] = []
    window.picture_shown.connect(lambda: opened.append(window.status.currentMessage()))
    _open(qtbot, window, "two_layer_net")
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert window.status.currentMessage() != PREPARING + "..."
    assert opened and window.status.currentMessage() == opened[0]  # the opening message


def test_a_step_names_its_batch_in_the_status_line_and_the_tooltip(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "two_layer_net")
    assert "make_batch(n - 1)" in part.panel.step_button.toolTip()
    part.train(1)
    qtbot.waitUntil(lambda: part.plots.steps == [1] and not part.running, timeout=WAIT_MS)
    assert part.panel.status.text().startswith("Step 1 on make_batch(0) (SGD")


def test_step_ticks_are_whole_steps_and_log_ticks_are_few(qtbot) -> None:  # type: ignore[no-untyped-def]
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    axis = plots.ratio_plot.getAxis("bottom")
    for low, high in ((0.5, 1.5), (0.9, 3.1), (1, 250)):
        values = [v for _, level in axis.tickValues(low, high, 800) for v in level]
        assert values and all(float(v).is_integer() for v in values)
    assert axis.tickStrings([1.0, 2.0], 1, 1) == ["1", "2"]
    log_axis = plots.grad_plot.getAxis("left")
    for low, high in ((-1.2, -0.2), (-6, 1), (-0.52, -0.46)):
        values = [v for _, level in log_axis.tickValues(low, high, 80) for v in level]
        assert 1 <= len(values) <= MAX_LOG_TICKS
    plots.resize(800, 400)
    plots.show()
    qtbot.waitExposed(plots)
    for plot in (plots.loss_plot, plots.grad_plot, plots.ratio_plot):  # aligned y axes
        assert plot.getAxis("left").geometry().width() == AXIS_WIDTH


def test_few_steps_get_dots_and_the_legend_lists_and_hides_every_parameter(qtbot) -> None:  # type: ignore[no-untyped-def]
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.add_records(_records(1))
    assert plots.loss_curve.opts["symbol"] == "o"
    assert plots.curve("grad", "0.weight").opts["symbol"] == "o"
    names = [plots.legend.item(i).text() for i in range(plots.legend.count())]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    plots.legend.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not plots.curve("grad", "0.weight").isVisible()
    assert not plots.curve("ratio", "0.weight").isVisible()
    with qtbot.waitSignal(plots.param_clicked) as clicked:
        plots.legend.itemClicked.emit(plots.legend.item(2))
    assert clicked.args == ["2.weight"]
    plots.add_records(_records(FEW_POINTS + 1)[1:])
    assert plots.loss_curve.opts["symbol"] is None


def test_plots_follow_the_windows_theme(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = window.parts["TrainingControls"]
    part.plots.add_records(_records(2))
    window.appearance.themes.choose("dark")
    for plot in (part.plots.loss_plot, part.plots.grad_plot, part.plots.ratio_plot):
        assert plot.backgroundBrush().color().name() == DARK.background
    assert part.plots.curve("grad", "0.weight").opts["pen"].color().name() == DARK.categorical[0]
    assert part.plots.loss_curve.opts["pen"].color().name() == DARK.text
    window.appearance.themes.choose("light")
    assert part.plots.loss_plot.backgroundBrush().color().name() == LIGHT.background


def test_device_and_dtype_boxes_keep_a_sensible_width(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = DevicePanel()
    qtbot.addWidget(panel)
    panel.resize(1400, 300)
    panel.show()
    qtbot.waitExposed(panel)
    assert 120 < panel.device.width() < 400
    assert 60 < panel.dtype.width() < 200
    check = GradcheckView()
    qtbot.addWidget(check)
    check.resize(1400, 300)
    check.show()
    qtbot.waitExposed(check)
    assert 120 < check.target.width() < 400


def test_the_gradient_check_says_eval_mode_and_shows_float32_with_a_larger_step(
    qtbot, window
) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "two_layer_net")
    part.check_gradients(None)
    qtbot.waitUntil(lambda: part.gradcheck.table.rowCount() == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not part.running, timeout=WAIT_MS)
    table = part.gradcheck.table
    assert "copy of the model in eval mode" in part.gradcheck.summary.text()
    assert [table.item(r, 1).text() for r in range(4)] == [
        "128 of 128",
        "16 of 16",
        "64 of 64",
        "4 of 4",
    ]
    assert [table.item(r, 7).text() for r in range(4)] == ["pass"] * 4
    assert "h = 1e-3" in table.horizontalHeaderItem(7).text()
    assert "agrees with backward" in part.gradcheck.explanation.text()
