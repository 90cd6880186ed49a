"""A user's model file runs only after the user agreed, once per file contents."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

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


def ask(qtbot, window: MainWindow, path: Path) -> QMessageBox:  # type: ignore[no-untyped-def]
    """Open ``path`` through the window's opener and return the question it asks."""
    opener = window.parts["ModelOpener"]
    before = opener.question
    opener.open(path)
    qtbot.waitUntil(lambda: opener.question is not before, timeout=WAIT_MS)
    assert isinstance(opener.question, QMessageBox)
    return opener.question


def test_a_new_file_asks_first_and_dont_open_runs_nothing(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    path = user_file(tmp_path)
    box = ask(qtbot, window, path)
    assert box.isVisible() and "runs the Python code" in box.text()
    assert box.defaultButton().text() == "Don't open"
    click(box, "Don't open")
    assert window.result is None and not window.controller.busy
    assert not window.trust.is_trusted(path)


def test_open_runs_it_and_is_remembered_until_the_file_changes(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    path = user_file(tmp_path)
    asked = ask(qtbot, window, path)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        click(asked, "Open and run it")
    assert window.result.model_name == "mine"
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.parts["ModelOpener"].open(path)  # trusted now: no question
    assert window.parts["ModelOpener"].question is asked
    path.write_text(MODEL + "print('changed')\n")
    again = ask(qtbot, window, path)
    assert again is not asked and again.isVisible()
    click(again, "Don't open")


def test_builtin_models_need_no_question(qtbot, window: MainWindow) -> None:
    assert window.trust.is_trusted(Path(resolve_model("two_layer_net")))
