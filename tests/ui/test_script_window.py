"""Script mode in the window: consent first, paused at the first backward call, Next
backward / Run N / Stop, the script's output and its steps in the plots; stuck and
hostile files end with a message while the window stays usable; class files open with
their guesses, which File > Change class, arguments and inputs edits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.loading.load_dialogs import LoadDialog
from graphviz_app.ui.loading.opener import ModelOpener
from graphviz_app.ui.script.controls import ScriptControls
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000
DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPTS, CLASSES, HOSTILE = DATA / "scripts", DATA / "classes", DATA / "hostile"


def part(window: MainWindow) -> ScriptControls:
    found = window.parts["ScriptControls"]
    assert isinstance(found, ScriptControls)
    return found


def opener(window: MainWindow) -> ModelOpener:
    found = window.parts["ModelOpener"]
    assert isinstance(found, ModelOpener)
    return found


def idle(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(
        lambda: not window.controller.busy and not part(window).running, timeout=WAIT_MS
    )


def open_trusted(qtbot, window: MainWindow, path: Path) -> None:  # type: ignore[no-untyped-def]
    window.trust.trust(path)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)
    idle(qtbot, window)


def test_a_script_asks_first_then_pauses_at_its_first_backward_call(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    path = SCRIPTS / "sequential_loop.py"
    window.open_model(path)
    qtbot.waitUntil(lambda: isinstance(opener(window).question, QMessageBox), timeout=WAIT_MS)
    box = opener(window).question
    assert "runs it as python sequential_loop.py would" in box.text()
    assert box.defaultButton().text() == "Don't open"
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        next(b for b in box.buttons() if b.text() == "Open and run it").click()
    idle(qtbot, window)
    script = part(window)
    assert window.result.script.call == 1 and window.result.model_name == "sequential_loop"
    assert "0.weight" in {n.leaf_name for n in window.result.graph.nodes}
    assert window.stepper.step_count > 0  # the script's own backward, recorded
    assert script.panel.output.toPlainText() == "0 7482.3433\n"
    assert "Paused at backward call 1 (sequential_loop.py:20)" in script.panel.status.text()
    assert script.next_action.isEnabled() and script.next_action.shortcut().toString() == "F7"
    run = window.run
    assert not run.forward_action.isEnabled()  # the script runs its own forward
    assert not run.backward_action.isEnabled()  # ... and its own backward, recorded
    for action in (run.forward_action, run.backward_action, run.train_action):
        tip = action.toolTip()
        assert "Next backward" in tip and "open a model first" not in tip
    assert "Backward pass panel" in run.backward_action.toolTip()
    assert not window.training.panel.step_button.isEnabled()
    assert window.trust.is_trusted(path)  # asked once per file and content


def test_next_run_n_and_stop(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    open_trusted(qtbot, window, SCRIPTS / "sequential_loop.py")
    script = part(window)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        script.next_action.trigger()
    idle(qtbot, window)
    assert window.result.script.call == 2
    script.panel.count.setValue(2)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        script.run_action.trigger()
    idle(qtbot, window)
    assert window.result.script.call == 4
    assert script.panel.output.toPlainText().splitlines()[3].startswith("3 ")
    plots = window.training.plots
    assert plots.steps == [1, 2, 3, 4] and plots.losses[0] == pytest.approx(7482.3433, rel=1e-5)
    assert "0.weight" in plots.parameter_names()
    shown = window.result
    script.stop_action.trigger()
    idle(qtbot, window)
    assert script.state.status == "stopped" and not script.next_action.isEnabled()
    assert window.result is shown and window.scene.nodes  # the last graph stays


def test_a_script_can_be_opened_as_its_model_class_instead(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    open_trusted(qtbot, window, SCRIPTS / "guarded_main.py")
    opener(window).choices_action.trigger()
    qtbot.waitUntil(lambda: isinstance(opener(window).question, LoadDialog), timeout=WAIT_MS)
    dialog = opener(window).question
    assert dialog.classes.currentText() == "Net" and dialog.definitions_only.isChecked()
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
    idle(qtbot, window)
    assert window.result.model_name == "guarded_main.Net" and window.result.script is None
    assert not part(window).next_action.isEnabled()


def test_the_end_of_the_script_is_said_and_the_last_graph_stays(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    open_trusted(qtbot, window, SCRIPTS / "custom_function.py")
    script = part(window)
    script.next(10)
    idle(qtbot, window)
    assert script.state.status == "finished" and script.state.call == 1
    assert "made 4 backward calls; the last graph stays" in script.panel.status.text()
    assert window.result.script.call == 1 and window.scene.nodes
    assert not script.next_action.isEnabled()


def test_cancel_stops_a_stuck_script_within_a_second_and_the_window_goes_on(
    qtbot, window, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    idle(qtbot, window)
    window.trust.trust(HOSTILE / "stuck_script.py")
    opener(window).open(HOSTILE / "stuck_script.py")
    qtbot.waitUntil(lambda: part(window).running and window.controller.busy, timeout=WAIT_MS)
    qtbot.wait(300)  # it spins in its loop
    start = time.monotonic()
    window.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert time.monotonic() - start < 1.5
    assert window.result.model_name == "two_layer_net"
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.controller.forward(window.style_options)  # the next job runs


def test_stop_ends_a_script_stuck_after_its_first_call(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "stuck_later.py"
    path.write_text(
        "import torch\nw = torch.ones(2, requires_grad=True)\n(w * 3).sum().backward()\n"
        "while True:\n    w.grad = None\n"
    )
    open_trusted(qtbot, window, path)
    script = part(window)
    script.next(1)
    qtbot.wait(300)
    start = time.monotonic()
    script.stop_action.trigger()
    idle(qtbot, window)
    assert time.monotonic() - start < 1.5
    assert script.state.status == "stopped" and window.result.script.call == 1


def test_the_time_limit_stops_a_script_and_says_where_it_was(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.controller.set_time_limit(1.5)  # Run > Stop model code after ... s
    window.trust.trust(HOSTILE / "stuck_script.py")
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as error:
        window.open_model(HOSTILE / "stuck_script.py")
    assert "did not reach a backward call within 0.5 s" in error.args[0]
    assert "It was at stuck_script.py:" in error.args[0]
    idle(qtbot, window)
    window.errors.close()


@pytest.mark.parametrize(
    ("ending", "name"), [(b"\r\n", "plain_tensors.py"), (b"\r", "conv_net.py")]
)
def test_byte_order_mark_and_line_ends_open_as_python_reads_them(
    qtbot, window, tmp_path: Path, ending: bytes, name: str
) -> None:  # type: ignore[no-untyped-def]
    source = (SCRIPTS / name) if (SCRIPTS / name).exists() else (CLASSES / name)
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + ending.join(source.read_bytes().split(b"\n")))
    open_trusted(qtbot, window, path)
    names = {n.leaf_name or n.name for n in window.result.graph.nodes}
    assert {"w1", "w2"} <= names if name == "plain_tensors.py" else "conv1.weight" in names


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("quit_in_script.py", "called quit() at quit_in_script.py:6"),
        ("os_exit_in_script.py", "called os._exit(3) at os_exit_in_script.py:8"),
        ("exit_at_import.py", "called sys.exit(2) at exit_at_import.py:9"),
        ("exit_in_forward.py", "called exit() at exit_in_forward.py:13"),
        ("os_exit_in_forward.py", "called os._exit(0) at os_exit_in_forward.py:15"),
        ("keyboard_interrupt.py", "raised KeyboardInterrupt at keyboard_interrupt.py:13"),
    ],
)
def test_a_file_that_tries_to_end_the_program_is_an_error_box(
    qtbot, window, name: str, said: str
) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    idle(qtbot, window)
    window.trust.trust(HOSTILE / name)
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as error:
        window.open_model(HOSTILE / name)
    assert said in error.args[0]
    idle(qtbot, window)
    assert window.result.model_name == "two_layer_net" and window.isVisible()
    window.errors.close()


def test_a_class_file_opens_with_its_guesses_and_they_can_be_changed(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    open_trusted(qtbot, window, CLASSES / "conv_net.py")
    assert window.result.model_name == "conv_net.Net"
    assert any("input 1x1x32x32:float32 from conv1" in g for g in window.result.guesses)
    assert opener(window).choices_action.isEnabled()
    opener(window).choices_action.trigger()
    qtbot.waitUntil(lambda: isinstance(opener(window).question, LoadDialog), timeout=WAIT_MS)
    dialog = opener(window).question
    assert dialog.classes.currentText() == "Net" and dialog.spec.text() == "1x1x32x32:float32"
    dialog.spec.setText("2x1x32x32:float32")
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
    idle(qtbot, window)
    assert window.result.graph.nodes[0].tensor.shape == (2, 10)


def test_missing_arguments_get_one_field_each(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.trust.trust(CLASSES / "needs_args.py")
    window.open_model(CLASSES / "needs_args.py")
    qtbot.waitUntil(lambda: isinstance(opener(window).question, LoadDialog), timeout=WAIT_MS)
    dialog = opener(window).question
    assert list(dialog._fields) == ["in_features", "activation", "bias"]
    assert "needs activation" in dialog.reason.text()
    field = dialog._fields["activation"]
    assert field.placeholderText() == "required"
    assert "activation: the name of a torch function" in field.toolTip()
    assert "in_features: the width of the input." in dialog._fields["in_features"].toolTip()
    assert dialog._fields["bias"].placeholderText() == "default True"
    assert dialog._fields["in_features"].placeholderText() == "guessed if empty"
    assert "--class" not in dialog.reason.text()
    dialog._fields["in_features"].setText("3")
    dialog._fields["activation"].setText("'tanh'")
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
    idle(qtbot, window)
    assert window.result.model_name == "needs_args.Projection"


def test_closing_the_window_ends_a_paused_script(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    open_trusted(qtbot, window, SCRIPTS / "plain_tensors.py")
    import threading

    assert any(t.name == "script plain_tensors.py" for t in threading.enumerate())
    window.close()
    assert not any(t.name == "script plain_tensors.py" for t in threading.enumerate())
