"""The window's ModelOpener: it asks only what a file needs, remembers the answers,
and a bad file is an error dialog while the previous model stays on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
)

from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file
from graphviz_app.ui.loading.load_dialogs import LoadDialog
from graphviz_app.ui.loading.opener import ModelOpener
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000
DATA = Path(__file__).resolve().parents[1] / "data"
BAD = DATA / "bad_models"
MODELS = DATA / "models"
BAD_FILES = [
    ("syntax_error.py", "syntax_error.py:5: syntax error"),
    ("import_error.py", "No module named 'graphviz_app_no_such_module'"),
    ("init_raises.py", "(at init_raises.py:8)"),
    ("forward_raises.py", "forward_raises.py:12"),
    ("wrong_input_shape.py", "shapes cannot be multiplied"),
    ("no_grad_output.py", "does not require grad"),
    ("empty.py", "empty.py is empty"),
    ("binary.py", "holds binary data"),
    ("truncated_torchscript.pt", "damaged zip archive"),
]


def opener(window: MainWindow) -> ModelOpener:
    part = window.parts["ModelOpener"]
    assert isinstance(part, ModelOpener)
    return part


def click(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


def show_builtin(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        opener(window).open(resolve_model("two_layer_net"))


def wait_for_question(qtbot, window: MainWindow, kind: type) -> object:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: isinstance(opener(window).question, kind), timeout=WAIT_MS)
    return opener(window).question


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "marker.txt"
    monkeypatch.setenv("GRAPHVIZ_APP_TEST_MARKER", str(path))
    return path


@pytest.mark.parametrize(("name", "words"), BAD_FILES)
def test_a_bad_file_is_an_error_dialog_and_the_previous_model_stays(
    qtbot, window: MainWindow, name: str, words: str
) -> None:
    show_builtin(qtbot, window)
    shown = window.result
    window.trust.trust(BAD / name)
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as error:
        opener(window).open(BAD / name)
    assert words in error.args[0]
    assert window.errors._box is not None and window.errors._box.isVisible()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert window.result is shown and window.scene.nodes
    window.errors.close()


def test_a_class_is_picked_with_arguments_and_remembered(qtbot, window: MainWindow) -> None:
    path = MODELS / "classes_only.py"
    opener(window).open(path)
    click(wait_for_question(qtbot, window, QMessageBox), "Open and run it")  # trust
    qtbot.waitUntil(lambda: window.result is not None, timeout=WAIT_MS)  # its guesses
    assert window.result.model_name == "classes_only.WiderNet"
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    opener(window).choices_action.trigger()  # File > Change class, arguments and inputs
    dialog = wait_for_question(qtbot, window, LoadDialog)
    assert isinstance(dialog, LoadDialog)
    open_button = dialog.buttons.button(QDialogButtonBox.StandardButton.Open)
    dialog.classes.setCurrentText("Net")
    assert open_button.isEnabled()  # empty sizes are guessed
    dialog._fields["in_features"].setText("3")
    dialog._fields["out_features"].setText("2")
    dialog._fields["hidden"].setText("nope(")
    assert not open_button.isEnabled() and "is not a Python value" in dialog.problem.text()
    dialog._fields["hidden"].setText("")
    dialog.spec.setText("4x3:float32")
    assert open_button.isEnabled()
    qtbot.waitUntil(lambda: dialog._fields["hidden"].isVisible())  # rows shown, as on screen
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        open_button.click()
    assert window.result is not None and window.result.model_name == "classes_only.Net"
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        opener(window).open(path)  # remembered: no question
    assert window.result.model_name == "classes_only.Net"
    assert opener(window).question is dialog or not opener(window).question.isVisible()


def test_a_script_that_cannot_run_opens_its_model_class_instead(
    qtbot, window: MainWindow, marker: Path
) -> None:
    window.trust.trust(MODELS / "tutorial_script.py")
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        opener(window).open(MODELS / "tutorial_script.py")  # its dataset import fails
    assert window.result.model_name == "tutorial_script.SmallNet"
    assert "No module named 'graphviz_app_no_such_dataset_package'" in window.result.notes[0]
    assert not marker.exists(), "the training loop ran"


def test_weights_ask_for_their_architecture(qtbot, window: MainWindow, tmp_path: Path) -> None:
    weights = tmp_path / "net.pth"
    torch.save(load_model_file(resolve_model("two_layer_net")).model.state_dict(), weights)
    opener(window).open(weights)
    dialog = wait_for_question(qtbot, window, QFileDialog)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        name_edit = dialog.findChild(QLineEdit, "fileNameEdit")  # as a user types it
        name_edit.setText(str(resolve_model("two_layer_net")))
        dialog.accept()
        qtbot.waitUntil(lambda: window.last_error or window.result, timeout=WAIT_MS)
    assert window.result.model_name == "net", window.last_error
    assert opener(window).choices.recall(weights).architecture.endswith("two_layer_net.py")


def test_a_pickle_asks_first_and_dont_load_runs_nothing(
    qtbot, window: MainWindow, marker: Path
) -> None:
    show_builtin(qtbot, window)
    opener(window).open(BAD / "pickle_marker.pt")
    box = wait_for_question(qtbot, window, QMessageBox)
    assert box.defaultButton().text() == "Don't load" and "runs code" in box.text()
    click(box, "Don't load")
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert not marker.exists() and window.result.model_name == "two_layer_net"


def test_a_model_too_large_for_memory_is_offered_structure_only(qtbot, window: MainWindow) -> None:
    window.trust.trust(BAD / "too_large.py")
    opener(window).open(BAD / "too_large.py")
    box = wait_for_question(qtbot, window, QMessageBox)
    assert box.defaultButton().text() == "Open structure only"
    assert "needs more memory" in box.text()
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        click(box, "Open structure only")
    assert "AddmmBackward0" in {n.name for n in window.result.graph.nodes}


def test_torchscript_without_inputs_asks_for_a_spec(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), str(path))
    opener(window).open(path)
    dialog = wait_for_question(qtbot, window, QInputDialog)
    dialog.setTextValue("5x3:float32")
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        dialog.accept()
    assert window.result.model_name == "scripted"
