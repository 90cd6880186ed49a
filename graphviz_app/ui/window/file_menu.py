"""The File and Settings menus' own actions: open, export, quit, and which Graphviz."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.session import PictureResult
from graphviz_app.ui.common.actions import NO_GRAPH, explain_when_disabled, make_action
from graphviz_app.ui.common.dialogs import ask_export_target, ask_model_file
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.jobs.worker import ExportRequest
from graphviz_app.ui.window.window_state import remember_engine


class FileMenuHost(Protocol):
    """What the File menu uses of the window."""

    result: PictureResult | None
    settings: QSettings
    style_options: GraphStyle
    controller: SessionController
    scene: GraphScene

    @property
    def qt_window(self) -> QMainWindow:
        """The parent of the actions and dialogs; Quit closes it."""
        ...

    def open_model(self, path: str | Path) -> None:
        """Open a model file or a built-in model."""
        ...

    def current_fills(self) -> dict[str, str]:
        """Node id -> fill, as drawn now."""
        ...


class FileMenu(QObject):
    """Open, Export, Quit and the engine choice; Export is enabled once a graph is shown."""

    def __init__(self, window: FileMenuHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self.open_action = make_action(
            self,
            "&Open model file...",
            self._on_open_triggered,
            QKeySequence.StandardKey.Open,
            "Open a model .py file",
        )
        self.export_action = make_action(
            self,
            "&Export graph...",
            self._on_export_triggered,
            "Ctrl+E",
            "Export the graph as SVG, PNG, DOT or JSON",
        )
        self.export_action.setEnabled(False)
        explain_when_disabled(self.export_action, NO_GRAPH)
        self.quit_action = make_action(
            self, "&Quit", window.qt_window.close, QKeySequence.StandardKey.Quit, "Close the window"
        )
        self.system_dot_action = make_action(
            self,
            "Use the system's Graphviz (dot)",
            self._on_system_dot_toggled,
            None,
            "Lay out with the 'dot' on PATH instead of the bundled graphviz-pure",
        )
        self.system_dot_action.setCheckable(True)
        window.controller.engine_changed.connect(self._on_controller_engine_changed)

    def export_to(self, path: str | Path, fmt: str = "", dpi: float | None = None) -> None:
        """Export the shown graph to ``path`` in a worker, as drawn: the selection
        highlighted, nodes coloured by gradient when they are on screen."""
        window = self.window
        if window.result is not None:
            selected = window.scene.selected_node_id()
            highlighted = frozenset({selected}) if selected else frozenset()
            fills = tuple(window.current_fills().items())
            request = ExportRequest(str(path), fmt, dpi, highlighted, fills)
            window.controller.export(window.result, request)

    def use_system_dot(self) -> None:
        """Lay out with the system's dot from now on (as the settings remember)."""
        self.system_dot_action.setChecked(True)
        self.window.controller.set_engine("dot")

    def _on_open_triggered(self) -> None:
        path = ask_model_file(self.window.qt_window, self.window.settings)
        if path:
            self.window.open_model(path)

    def _on_export_triggered(self) -> None:
        result = self.window.result
        if result is not None:
            target = ask_export_target(
                self.window.qt_window, self.window.settings, result.model_name
            )
            if target is not None:
                self.export_to(target[0], dpi=target[1])

    def _on_system_dot_toggled(self, checked: bool) -> None:
        preference = "dot" if checked else ""
        remember_engine(self.window.settings, preference)
        self.window.controller.set_engine(preference)
        if self.window.result is not None:
            self.window.controller.restyle(self.window.style_options)

    def _on_controller_engine_changed(self, description: str) -> None:
        self.system_dot_action.blockSignals(True)
        self.system_dot_action.setChecked(not description.startswith("graphviz-pure"))
        self.system_dot_action.blockSignals(False)
