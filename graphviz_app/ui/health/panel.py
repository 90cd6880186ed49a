"""The Gradient health dock's widget: the check and jump buttons, the thresholds, and
the report, whose links go to nodes."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from graphviz_app.core.health.report import HealthReport
from graphviz_app.ui.health.report_html import PROBLEM_COLOUR, report_html
from graphviz_app.ui.health.thresholds import ThresholdsForm

INTRO = (
    "<p>Run &gt; <b>Check gradient health</b> (Ctrl+Shift+H) runs forward and a recorded "
    "backward, then reports where gradients go wrong: the first node whose backward made an "
    "Inf or a NaN, parameters whose <tt>.grad</tt> stayed None or zero and what cut them "
    "off, vanishing and exploding gradients per module, dead ReLUs. A script is checked at "
    "the backward call it is paused at, from what that call did as it ran.</p>"
    "<p>Click a name to select its node; <b>Jump to first NaN / Inf</b> steps the backward "
    "pass to where it started.</p>"
)


class HealthPanel(QWidget):
    """Buttons (their actions come from the part), thresholds, the report."""

    link_clicked = Signal(str, str)  # scheme ("node" or "param"), target

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check_button = QToolButton()
        self.jump_nan_button = QToolButton()
        self.jump_inf_button = QToolButton()
        self.thresholds_button = QToolButton()
        self.thresholds_button.setText("Thresholds")
        self.thresholds_button.setCheckable(True)
        self.thresholds_button.setToolTip("When a module or a ReLU is flagged")
        self.thresholds = ThresholdsForm()
        self.thresholds.hide()
        self.thresholds_button.toggled.connect(self.thresholds.setVisible)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_browser_anchor_clicked)
        self._lay_out()
        self.browser.setHtml(INTRO)

    def _lay_out(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 2, 4, 2)
        for buttons in (
            (self.check_button, self.thresholds_button),
            (self.jump_nan_button, self.jump_inf_button),
        ):
            row = QHBoxLayout()
            for button in buttons:
                row.addWidget(button)
            row.addStretch(1)
            column.addLayout(row)
        column.addWidget(self.thresholds)
        column.addWidget(self.browser, 1)

    def show_report(self, report: HealthReport, note: str = "") -> None:
        """The report, with ``note`` (say, that it is about an earlier graph) above it."""
        link = self.palette().color(QPalette.ColorRole.Link).name()
        self.browser.setHtml(_note(note) + report_html(report, link))

    def show_message(self, text: str, problem: bool = False) -> None:
        """A line instead of the report (checking..., a threshold that is wrong)."""
        colour = f" style='color:{PROBLEM_COLOUR}'" if problem else ""
        self.browser.setHtml(f"<p{colour}>{escape(text)}</p>")

    def _on_browser_anchor_clicked(self, url: QUrl) -> None:
        scheme, _, target = url.toString().partition(":")
        self.link_clicked.emit(scheme, target)


def _note(text: str) -> str:
    return f"<p style='color:{PROBLEM_COLOUR}'><i>{escape(text)}</i></p>" if text else ""
