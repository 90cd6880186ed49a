"""Cancel stops a forward stuck in a Python loop; a time limit does it unasked; the
window stays usable, keeps the previous model and opens the next one."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.nn.modules import module as nn_module

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.jobs.job_guard import Interrupted
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000
BAD = Path(__file__).resolve().parents[1] / "data" / "bad_models"
LOOP = BAD / "infinite_loop.py"


def hook_counts() -> tuple[int, int]:
    return len(nn_module._global_forward_pre_hooks), len(nn_module._global_forward_hooks)


def wait_until_running(qtbot, controller: SessionController) -> None:  # type: ignore[no-untyped-def]
    """Until the worker is inside the model's endless loop: a cancel that comes earlier
    (a slow load on a busy machine) is taken cooperatively, with no interrupt at all."""
    qtbot.waitUntil(lambda: _in_the_loop(controller), timeout=WAIT_MS)


def _in_the_loop(controller: SessionController) -> bool:
    frame = sys._current_frames().get(controller._worker.guard._thread_id)
    while frame is not None:
        if frame.f_code.co_filename == str(LOOP) and frame.f_code.co_name == "forward":
            return True
        frame = frame.f_back
    return False


def test_cancel_interrupts_an_endless_forward_and_the_next_open_works(qtbot) -> None:  # type: ignore[no-untyped-def]
    controller = SessionController()
    hooks = hook_counts()
    try:
        controller.open_model(str(LOOP), GraphStyle())
        wait_until_running(qtbot, controller)
        with qtbot.waitSignals([controller.interrupted, controller.cancelled], timeout=WAIT_MS):
            controller.cancel()
        qtbot.waitUntil(lambda: not controller.busy, timeout=WAIT_MS)
        assert hook_counts() == hooks  # the recorder removed its hooks on the way out
        with qtbot.waitSignal(controller.picture_ready, timeout=WAIT_MS) as opened:
            controller.open_model(str(resolve_model("two_layer_net")), GraphStyle())
        assert opened.args[0].model_name == "two_layer_net"
    finally:
        controller.shutdown()


def test_a_time_limit_stops_the_loop_with_a_message(qtbot) -> None:  # type: ignore[no-untyped-def]
    controller = SessionController()
    controller.set_time_limit(0.5)
    try:
        with qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as failed:
            controller.open_model(str(LOOP), GraphStyle())
        assert "did not finish within 0.5 s" in failed.args[0]
        qtbot.waitUntil(lambda: not controller.busy, timeout=WAIT_MS)
        controller.set_time_limit(0)
        with qtbot.waitSignal(controller.picture_ready, timeout=WAIT_MS):
            controller.open_model(str(resolve_model("two_layer_net")), GraphStyle())
    finally:
        controller.shutdown()


def test_a_job_that_stops_by_itself_is_never_interrupted(qtbot) -> None:  # type: ignore[no-untyped-def]
    controller = SessionController()
    sent: list[int] = []
    controller.interrupted.connect(sent.append)
    try:
        with qtbot.waitSignal(controller.picture_ready, timeout=WAIT_MS):
            controller.open_model(str(resolve_model("two_layer_net")), GraphStyle())
        qtbot.waitUntil(lambda: not controller.busy, timeout=WAIT_MS)
        controller.cancel()  # nothing runs: nothing to interrupt
        assert not controller._stop_timer.isActive()
        assert controller._worker.guard.interrupt(1, Interrupted) is False  # job 1 is over
        assert sent == []
        with qtbot.waitSignal(controller.picture_ready, timeout=WAIT_MS):
            controller.forward(GraphStyle())  # the worker thread is healthy
    finally:
        controller.shutdown()


def test_the_window_keeps_the_previous_model_and_stays_usable(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)  # training's prep too
    window.trust.trust(LOOP)
    window.parts["ModelOpener"].open(str(LOOP))
    wait_until_running(qtbot, window.controller)
    assert window.cancel_action.isEnabled()
    with qtbot.waitSignal(window.controller.cancelled, timeout=WAIT_MS):
        window.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert window.result is not None and window.result.model_name == "two_layer_net"
    assert window.scene.nodes  # still drawn
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.controller.forward(window.style_options)  # the session kept it too
    assert window.result.model_name == "two_layer_net"
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("residual_cnn"))
    assert torch.is_grad_enabled()


def test_cancel_drops_the_jobs_waiting_behind_the_running_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    controller = SessionController()
    pictures: list[object] = []
    controller.picture_ready.connect(pictures.append)
    try:
        with qtbot.waitSignal(controller.picture_ready, timeout=WAIT_MS):
            controller.open_model(str(resolve_model("two_layer_net")), GraphStyle())
        controller.open_model(str(LOOP), GraphStyle())
        controller.forward(GraphStyle())  # queued behind the endless loop
        wait_until_running(qtbot, controller)
        with qtbot.waitSignals([controller.cancelled, controller.cancelled], timeout=WAIT_MS):
            controller.cancel()
        qtbot.waitUntil(lambda: not controller.busy, timeout=WAIT_MS)
        assert len(pictures) == 1  # the queued forward never ran
        with qtbot.waitSignal(controller.picture_ready, timeout=WAIT_MS):
            controller.forward(GraphStyle())  # a job queued after the cancel runs
    finally:
        controller.shutdown()
