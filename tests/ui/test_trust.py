"""A user's model file runs only after the user agreed, once per file contents."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.main_window import MainWindow

WAIT_MS = 60_000
MODEL = (
    "import torch\n"
    "def build_model():\n    return torch.nn.Linear(3, 2)\n"
    "def example_inputs():\n    return torch.randn(4, 3)\n"
)


def user_file(tmp_path: Path) -> Path:
    path = tmp_path / "mine.py"
    path.write_text(MODEL)
    return path


def click(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


def test_a_new_file_asks_first_and_dont_open_runs_nothing(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    path = user_file(tmp_path)
    window.open_model(path)
    box = window.trust_box
    assert box.isVisible() and "runs the Python code" in box.text()
    assert box.defaultButton().text() == "Don't open"
    click(box, "Don't open")
    assert window.result is None and not window.controller.busy
    assert not window.trust.is_trusted(path)


def test_open_runs_it_and_is_remembered_until_the_file_changes(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    path = user_file(tmp_path)
    window.open_model(path)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        click(window.trust_box, "Open and run it")
    assert window.result.model_name == "mine"
    asked = window.trust_box
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)  # trusted now: no question
    assert window.trust_box is asked
    path.write_text(MODEL + "print('changed')\n")
    window.open_model(path)
    assert window.trust_box is not asked and window.trust_box.isVisible()
    click(window.trust_box, "Don't open")


def test_builtin_models_need_no_question(qtbot, window: MainWindow) -> None:
    assert window.trust.is_trusted(Path(resolve_model("two_layer_net")))
