"""What opening a class file guessed is said in the window (the status bar, long
enough to read, and the Lesson panel, with the menu entry that changes it), the
form's empty fields are guessed as it promises, and the File menu and the load
dialog read right (Quit last; the definitions-only note wraps)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox, QMenu

from graphviz_app.io.python_source import summarize_source
from graphviz_app.io.request import LoadRequest
from graphviz_app.ui.loading.load_dialogs import LoadDialog
from graphviz_app.ui.loading.opener import ModelOpener
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000
DATA = Path(__file__).resolve().parents[1] / "data"
CLASSES, MODELS = DATA / "classes", DATA / "models"


def opener(window: MainWindow) -> ModelOpener:
    found = window.parts["ModelOpener"]
    assert isinstance(found, ModelOpener)
    return found


def open_trusted(qtbot, window: MainWindow, path: Path) -> None:  # type: ignore[no-untyped-def]
    window.trust.trust(path)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)


def test_the_guesses_are_said_in_the_status_bar_and_the_lesson(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    shown: list[tuple[str, int]] = []
    original = window.status.showMessage
    window.status.showMessage = lambda text, ms=0: (shown.append((text, ms)), original(text, ms))[1]  # type: ignore[method-assign]
    open_trusted(qtbot, window, CLASSES / "conv_net.py")
    message = window.status.currentMessage()
    guessed = "Guessed class Net, input (File > Change class, arguments and inputs)"
    assert message.startswith(guessed)  # then, for this small net, that it opened zoomed in
    # It stays 15 s at least: long enough to read.
    assert any(text == message and ms >= 15_000 for text, ms in shown)
    lesson = window.lesson.toPlainText()
    assert lesson.startswith("Opened with guesses.")
    assert "class Net (the only nn.Module no other class of the file builds)" in lesson
    assert "input 1x1x32x32:float32 from conv1 = Conv2d(1, 6, kernel_size=(5, 5)" in lesson
    assert "Change them with File > Change class, arguments and inputs..." in lesson


def test_opening_the_same_file_again_with_other_choices_says_them_again(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    open_trusted(qtbot, window, CLASSES / "conv_net.py")
    window.status.clearMessage()
    window.lesson.show_lesson("")
    opener(window).choices_action.trigger()
    qtbot.waitUntil(lambda: isinstance(opener(window).question, LoadDialog), timeout=WAIT_MS)
    dialog = opener(window).question
    dialog.spec.setText("")  # the input guessed again
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
    assert window.status.currentMessage().startswith("Guessed input (File > Change")  # class chosen
    assert window.lesson.toPlainText().startswith("Opened with guesses.")


def test_a_file_that_needs_nothing_guessed_has_no_note(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    open_trusted(qtbot, window, CLASSES / "conv_net.py")
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        opener(window).send(LoadRequest(str(CLASSES / "conv_net.py"), "Net", "", "1x1x32x32"))
    assert "Opened with guesses" not in window.lesson.toPlainText()
    assert "Guessed" not in window.status.currentMessage()


def test_fields_left_empty_in_the_form_are_guessed(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "needy.py"
    path.write_text(
        "import torch\nclass Needy(torch.nn.Module):\n"
        "    def __init__(self, activation: str, hidden_size):\n"
        "        super().__init__()\n"
        "        self.fc = torch.nn.Linear(hidden_size, 1)\n"
        "        self.act = getattr(torch, activation)\n"
        "    def forward(self, x):\n        return self.act(self.fc(x))\n"
    )
    window.trust.trust(path)
    window.open_model(path)
    qtbot.waitUntil(lambda: isinstance(opener(window).question, LoadDialog), timeout=WAIT_MS)
    dialog = opener(window).question
    assert dialog._fields["activation"].placeholderText() == "required"
    assert dialog._fields["hidden_size"].placeholderText() == "guessed if empty"
    dialog._fields["activation"].setText("'tanh'")  # hidden_size left empty
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
    assert window.result.model_name == "needy.Needy"
    assert window.result.resolved.init_args == "activation='tanh', hidden_size=64"
    assert "hidden_size=64" in window.lesson.toPlainText()


def test_quit_is_the_last_entry_of_the_file_menu(window) -> None:  # type: ignore[no-untyped-def]
    menu = next(
        a.menu()
        for a in window.menuBar().actions()
        if isinstance(a.menu(), QMenu) and a.text() == "&File"
    )
    texts = [a.text() for a in menu.actions()]
    assert texts[-1] == "&Quit"
    assert texts.index("Change class, arguments and &inputs...") < texts.index("") < len(texts) - 1


def test_the_definitions_only_note_wraps_inside_the_dialogs_width(
    qtbot, window, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "script.py"
    long_statement = "x = torch.linspace(-math.pi, math.pi, 2000) + torch.zeros(2000) * 0.5"
    path.write_text(
        f"import math\nimport torch\n{long_statement}\n"
        "class Net(torch.nn.Module):\n    pass\n"
        "for _ in range(3):\n    torch.randn(2, requires_grad=True).sum().backward()\n"
    )
    dialog = LoadDialog(window, summarize_source(path), LoadRequest(str(path)))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    box, note = dialog.definitions_only, dialog.definitions_detail
    assert box.text() == "Definitions only: skip the top-level code"
    assert note.wordWrap() and note.isVisible()
    assert note.text().startswith("2 statements, e.g. line 3: x = torch.linspace(")
    assert box.sizeHint().width() <= box.width()  # the box's text is not cut
    assert note.geometry().right() <= dialog.width()  # the note wraps inside the dialog
    assert dialog.width() < 600
