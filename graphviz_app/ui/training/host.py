"""What the Training dock uses of the window: a narrow interface, so the dock never
imports the window (the window builds the dock and hands itself over)."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.session import PictureResult
from graphviz_app.ui.backward.run_controls import RunControls
from graphviz_app.ui.common.host import DockHost
from graphviz_app.ui.common.theme import ThemeManager
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.panels.inspector import InspectorView


class TrainingHost(DockHost, Protocol):
    """What the Training dock uses of the window."""

    result: PictureResult | None
    style_options: GraphStyle
    controller: SessionController
    scene: GraphScene
    view: GraphView
    inspector: InspectorView
    run: RunControls
    cancel_action: QAction
    backward_dock: QDockWidget

    @property
    def themes(self) -> ThemeManager:
        """The window's theme (the plots follow it)."""
        ...

    def show_error(self, summary: str, details: str) -> None:
        """An error box."""
        ...
