"""What the script part uses of the window: a narrow interface (the window builds the
part and hands itself over; the part never imports the window)."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStatusBar, QWidget

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.session import PictureResult
from graphviz_app.ui.backward.run_controls import RunControls
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.training.controls import TrainingControls


class ScriptHost(Protocol):
    """What the script part uses of the window."""

    result: PictureResult | None
    style_options: GraphStyle
    controller: SessionController
    cancel_action: QAction
    backward_dock: QDockWidget
    training: TrainingControls
    run: RunControls

    @property
    def qt_window(self) -> QMainWindow:
        """The window: its Run menu, toolbar and docks."""
        ...

    @property
    def picture_shown(self) -> SignalInstance:
        """Emitted once a picture is on screen."""
        ...

    @property
    def status(self) -> QStatusBar:
        """The status bar."""
        ...

    def add_dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, width: int
    ) -> QDockWidget:
        """A dock listed in View > Panels."""
        ...

    def show_error(self, summary: str, details: str) -> None:
        """An error box."""
        ...
