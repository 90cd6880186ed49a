"""The status bar: model, counts, engine, job times, a busy bar with Cancel, and errors."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QStatusBar, QToolButton, QWidget

from graphviz_app.session import PictureResult

MESSAGE_MS = 8000


class AppStatusBar(QStatusBar):
    """Permanent facts on the right, passing messages on the left."""

    def __init__(self, cancel_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_label = QLabel("no model")
        self.count_label = QLabel("")
        self.engine_label = QLabel("")
        self.time_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: jobs report no fraction yet
        self.progress.setMaximumWidth(140)
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(cancel_action)
        for widget in (
            self.model_label,
            self.count_label,
            self.engine_label,
            self.time_label,
            self.progress,
            self.cancel_button,
        ):
            self.addPermanentWidget(widget)
        self.set_busy(False, "")

    def show_picture(self, result: PictureResult) -> None:
        """The facts of a new picture, and how long each step took."""
        self.model_label.setText(f"{result.model_name} ({result.parameter_count:,} parameters)")
        graph = result.graph
        self.count_label.setText(f"{len(graph.nodes)} nodes, {len(graph.edges)} edges")
        self.engine_label.setText(result.engine)
        steps = " | ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in result.timings)
        self.showMessage(steps, MESSAGE_MS)

    def show_engine(self, description: str) -> None:
        """The Graphviz engine now in use."""
        self.engine_label.setText(description)
        self.showMessage(f"Graphviz engine: {description}", MESSAGE_MS)

    def set_busy(self, busy: bool, description: str) -> None:
        """Show or hide the busy bar and its Cancel button."""
        self.progress.setVisible(busy)
        self.progress.setToolTip(description)
        self.cancel_button.setVisible(busy)
        self.cancel_button.defaultAction().setEnabled(busy)
        if busy:
            self.showMessage(description + "...")

    def show_job_time(self, seconds: float) -> None:
        """How long the last job took."""
        self.time_label.setText(f"last job {seconds * 1000:.0f} ms")


class ErrorReporter:
    """One non-blocking message box at a time, with the details under 'Show Details'."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent
        self._box: QMessageBox | None = None

    def show(self, summary: str, details: str) -> None:
        """Replace any open error box with one for ``summary``."""
        self.close()
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "graphviz_app",
            summary,
            QMessageBox.StandardButton.Ok,
            self._parent,
        )
        box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._on_box_destroyed)
        box.open()  # window-modal, does not block the event loop
        self._box = box

    def close(self) -> None:
        """Close the open error box, if any."""
        if self._box is not None:
            self._box.close()

    def _on_box_destroyed(self) -> None:
        self._box = None
