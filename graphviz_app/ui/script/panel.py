"""The Script dock: where the script is, Next backward / Run N / Stop, and what the
script printed."""

from __future__ import annotations

from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

MAX_LINES = 5000  # lines of output kept on screen
ERROR_STYLE = "color: #b00020"


class ScriptPanel(QWidget):
    """Status line, the run buttons and the script's output (read-only)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel("No script is open. Open a .py file that calls backward().")
        self.status.setWordWrap(True)
        self.next_button = QToolButton()
        self.run_button = QToolButton()
        self.stop_button = QToolButton()
        self.count = QSpinBox()
        self.count.setRange(1, 100_000)
        self.count.setValue(10)
        self.count.setSuffix(" calls")
        self.count.setToolTip("How many backward calls Run goes on for")
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(MAX_LINES)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.output.setPlaceholderText("What the script prints appears here.")
        self._lay_out()

    def _lay_out(self) -> None:
        row = QHBoxLayout()
        for widget in (self.next_button, self.run_button, self.count, self.stop_button):
            row.addWidget(widget)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.output, 1)

    def use_actions(self, next_action: QAction, run_action: QAction, stop_action: QAction) -> None:
        """The buttons trigger (and follow the state of) the Run menu's actions."""
        self.next_button.setDefaultAction(next_action)
        self.run_button.setDefaultAction(run_action)
        self.stop_button.setDefaultAction(stop_action)

    def show_status(self, text: str, problem: bool = False) -> None:
        """Where the script is (in red when it failed)."""
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if problem else "")

    def append(self, text: str) -> None:
        """Add what the script printed, keeping the view at the end."""
        if not text:
            return
        cursor = self.output.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)
        self.output.setTextCursor(cursor)
        self.output.ensureCursorVisible()

    def clear(self) -> None:
        """A new script: no output yet."""
        self.output.clear()
