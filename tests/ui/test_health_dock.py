"""The Gradient health dock: the check runs in the worker, the report's links select and
centre nodes, Jump to first NaN / Inf steps the backward pass there with the numbers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QToolBar

from graphviz_app.core.health.check import HealthError
from graphviz_app.io.builtin import resolve_model
from graphviz_app.session import ModelSession
from graphviz_app.ui.health.controls import STALE, HealthControls
from graphviz_app.ui.health.thresholds import ThresholdsForm

WAIT_MS = 30_000
SHOTS = os.environ.get("GRAPHVIZ_APP_SHOTS")  # a folder: save screenshots to look at
SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "scripts"


def _open(qtbot, window, name: str) -> HealthControls:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model(name))
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    return window.parts["HealthControls"]


def _check(qtbot, window, part: HealthControls) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        part.check_action.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert part.report is not None


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        widget.grab().save(os.path.join(SHOTS, f"{name}.png"))


def _open_script(qtbot, window, name: str) -> HealthControls:  # type: ignore[no-untyped-def]
    path = SCRIPTS / name
    window.trust.trust(path)  # the consent question is tested with script mode
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    return window.parts["HealthControls"]


def _check_script(qtbot, window, part: HealthControls) -> None:  # type: ignore[no-untyped-def]
    part.check_action.trigger()  # the graph on screen stays: no new picture comes
    call = window.result.script.call
    assert f"Checking backward call {call} of the script" in part.panel.browser.toPlainText()
    qtbot.waitUntil(lambda: part.report is not None and not window.controller.busy, timeout=WAIT_MS)


def _next_backward(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.parts["ScriptControls"].next_action.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)


def test_the_check_is_in_the_run_menu_and_the_toolbar(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part: HealthControls = window.parts["HealthControls"]
    assert not part.check_action.isEnabled() and "open a model first" in part.check_action.toolTip()
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    assert part.check_action in run_menu.actions()
    assert part.jump_nan_action in run_menu.actions()
    toolbar = window.findChild(QToolBar, "main_toolbar")
    assert part.check_action in toolbar.actions()
    assert part.check_action.shortcut().toString() == "Ctrl+Shift+H"


def test_jump_to_first_nan_steps_to_mul_and_shows_inf_times_zero(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "nan_in_backward")
    assert not part.dock.isVisible()
    _check(qtbot, window, part)
    assert part.dock.isVisible()
    report = part.report
    assert report.first_nan.node == "MulBackward0" and report.first_inf.node == "SqrtBackward0"
    html = part.panel.browser.toHtml()
    assert "First NaN in backward" in html and "First Inf in backward" in html
    assert window.stepper.result is not None  # the checked pass is the one shown
    assert part.jump_nan_action.isEnabled() and part.jump_inf_action.isEnabled()
    qtbot.mouseClick(part.panel.jump_nan_button, Qt.MouseButton.LeftButton)
    assert window.stepper.index == report.first_nan.index
    assert window.scene.selected_node_id() == report.first_nan.node_id
    chain = window.stepper_panel.chain_view.toPlainText()
    assert "[inf, inf, 0.2387, 0.2387] x [0, 0," in chain
    assert "inf x 0 = nan: the NaN starts here" in chain
    _shot(window, "health-nan-window")
    _shot(part.panel, "health-nan-dock")
    part.jump_inf_action.trigger()
    assert window.stepper.index == report.first_inf.index
    assert "1 / 0 = inf" in window.stepper_panel.chain_view.toPlainText() or (
        "[0.5, 0.5] / [0, " in window.stepper_panel.chain_view.toPlainText()
    )


def test_clicking_an_entry_selects_and_centres_its_node(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "residual_cnn")
    _check(qtbot, window, part)
    assert part.report.healthy and "Healthy" in part.panel.browser.toPlainText()
    assert not part.jump_nan_action.isEnabled()
    module = part.report.modules[-1]
    window.view.scale(6, 6)  # zoomed in: there is room to scroll the node to the centre
    part.panel.browser.anchorClicked.emit(QUrl(f"node:{module.node_ids[0]}"))
    drawn = window.result.view.owner.get(module.node_ids[0], module.node_ids[0])
    assert window.scene.selected_node_id() == drawn
    item = window.scene.nodes[drawn]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert item.sceneBoundingRect().adjusted(-5, -5, 5, 5).contains(centre)
    _shot(part.panel, "health-healthy-dock")


@pytest.mark.parametrize(
    ("source", "lines", "param", "said"),
    [
        (
            "detached_branch",
            (
                "gate.weight: cut off at torch.sigmoid(self.gate(x)).detach()",
                "aux_head.bias: unused in forward: module aux_head never ran",
            ),
            "log_temperature",
            "cut off at self.log_temperature.exp().item()",
        ),
        (
            "detached_branch.py",  # a script: its own call, a plain leaf among them
            (
                "encoder.weight: cut off at encoder(x).detach() at detached_branch.py:16",
                "gate: cut off at gate.detach() at detached_branch.py:17",
            ),
            "gate",
            "cut off at gate.detach()",
        ),
    ],
    ids=["model", "script"],
)
def test_a_cut_off_parameter_has_no_node_and_says_why(  # type: ignore[no-untyped-def]
    qtbot, window, source: str, lines: tuple[str, ...], param: str, said: str
) -> None:
    if source.endswith(".py"):
        part = _open_script(qtbot, window, source)
        _check_script(qtbot, window, part)
    else:
        part = _open(qtbot, window, source)
        _check(qtbot, window, part)
    text = part.panel.browser.toPlainText()
    assert all(line in text for line in lines)
    part.panel.browser.anchorClicked.emit(QUrl(f"param:{param}"))
    assert f"{param} has no node: {said}" in window.statusBar().currentMessage()
    _shot(part.panel, f"health-detached-dock-{source}")


def test_after_a_new_forward_the_report_says_it_is_stale(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "nan_in_backward")
    _check(qtbot, window, part)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.run.forward_action.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert STALE in part.panel.browser.toPlainText()
    assert not part.jump_nan_action.isEnabled()
    part.panel.browser.anchorClicked.emit(QUrl(f"node:{part.report.first_nan.node_id}"))
    assert window.statusBar().currentMessage() == STALE


def test_a_wrong_threshold_is_said_and_nothing_runs(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "two_layer_net")
    part.panel.thresholds.fields["dead_fraction"].setText("2")
    part.check_action.trigger()
    assert not window.controller.busy
    assert "A threshold is wrong" in part.panel.browser.toPlainText()
    assert part.panel.thresholds.isVisible()
    part.panel.thresholds.fields["exploding_ratio"].setText("1e-9")
    part.panel.thresholds.fields["dead_fraction"].setText("0.5")
    _check(qtbot, window, part)
    assert not part.report.healthy and part.report.settings.exploding_ratio == 1e-9


def test_a_check_that_cannot_run_says_why_in_the_dock(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "two_layer_net")

    def cannot(*args: object, **kwargs: object) -> None:
        raise HealthError("two_layer_net is open structure-only: no values to check.")

    monkeypatch.setattr(ModelSession, "check_health", cannot)
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS):
        part.check_action.trigger()
    text = part.panel.browser.toPlainText()
    assert text.startswith("The check could not run: two_layer_net is open structure-only")
    assert part.report is None


def test_a_script_is_checked_at_the_call_it_is_paused_at(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open_script(qtbot, window, "bad_second_call.py")
    _next_backward(qtbot, window)  # the second call: the zero vector
    assert window.result.script.call == 2
    shown, pass_shown = window.result, window.stepper.result
    window.stepper.go_to(1)
    _check_script(qtbot, window, part)
    report = part.report
    assert report.model == "bad_second_call.py, backward call 2"
    assert report.first_nan.node == "MulBackward0" and report.first_inf.node == "SqrtBackward0"
    assert window.result is shown and window.stepper.result is pass_shown  # no re-run
    assert window.stepper.index == 1  # the stepper stays where it was
    assert "bad_second_call.py, backward call 2" in part.panel.browser.toPlainText()
    assert part.jump_nan_action.isEnabled() and part.jump_inf_action.isEnabled()
    part.jump_nan_action.trigger()
    assert window.stepper.index == report.first_nan.index
    assert window.scene.selected_node_id() == report.first_nan.node_id
    assert "inf x 0 = nan: the NaN starts here" in window.stepper_panel.chain_view.toPlainText()
    part.panel.browser.anchorClicked.emit(QUrl(f"node:{report.first_inf.node_id}"))
    assert window.scene.selected_node_id() == report.first_inf.node_id
    _shot(window, "health-script-window")
    _shot(part.panel, "health-script-dock")
    _next_backward(qtbot, window)  # the script runs on: the report is about an earlier call
    assert STALE in part.panel.browser.toPlainText()
    assert not part.jump_nan_action.isEnabled()


def test_a_gan_critic_steps_detached_generator_is_listed_apart_not_as_a_problem(  # type: ignore[no-untyped-def]
    qtbot, window
) -> None:
    part = _open_script(qtbot, window, "gan_critic_step.py")
    _check_script(qtbot, window, part)
    report = part.report
    expected = {p.name for p in report.parameters if p.expected}
    assert expected and all(name.startswith("generator.") for name in expected)
    text = part.panel.browser.toPlainText()
    assert f"Listed, not a problem ({len(expected)})" in text
    for name in expected:  # under that heading, not under the problems' one
        assert text.index(name) > text.index("Listed, not a problem")
    problems = [p for p in report.parameters if p.is_problem]
    if problems:
        assert text.index("Parameters whose .grad stayed None") < text.index("Listed, not")
    _shot(part.panel, "health-gan-dock")


def test_the_thresholds_a_check_ran_with_are_kept_for_the_next_session(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    part = _open(qtbot, window, "two_layer_net")
    fields = part.panel.thresholds.fields
    fields["exploding_ratio"].setText("1e-9")
    fields["dead_fraction"].setText("2")  # wrong: the check does not run, nothing is kept
    part.check_action.trigger()
    assert window.settings.value("health_thresholds/exploding_ratio") is None
    fields["dead_fraction"].setText("0.123456789")
    _check(qtbot, window, part)
    later = ThresholdsForm()  # the next session's form, from the same settings
    qtbot.addWidget(later)
    later.restore(window.settings)
    assert later.settings() == part.report.settings
    assert later.settings().dead_fraction == 0.123456789  # not rounded on the way
