"""The main window: models on the left, the graph in the centre, the inspector on the right."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolButton,
    QWidget,
)

from graphviz_app.core.collapse import modules_at_depth
from graphviz_app.core.style import GraphStyle
from graphviz_app.io.builtin import list_builtin_models
from graphviz_app.io.export import FORMATS
from graphviz_app.session import PictureResult
from graphviz_app.ui.inspector import InspectorView
from graphviz_app.ui.scene import GraphScene
from graphviz_app.ui.view import GraphView
from graphviz_app.ui.worker import ExportRequest, SessionController

logger = logging.getLogger(__name__)

EXPORT_FILTERS = ";;".join(f"{fmt.upper()} (*.{fmt})" for fmt in FORMATS)


class MainWindow(QMainWindow):
    """The explorer window. All work goes through one :class:`SessionController`."""

    picture_shown = Signal()
    error_shown = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("graphviz_app: autograd explorer")
        self.resize(1280, 820)
        self.settings = settings or QSettings("graphviz_app", "graphviz_app")
        self.style_options = GraphStyle()
        self.result: PictureResult | None = None
        self.last_error = ""
        self._error_box: QMessageBox | None = None
        self.controller = SessionController(self)
        self.scene = GraphScene(self)
        self.view = GraphView(self)
        self.view.setScene(self.scene)
        self.setCentralWidget(self.view)
        self.inspector = InspectorView(self)
        self.models = QListWidget(self)
        self._build_docks()
        self._build_actions()
        self._build_status_bar()
        self._connect()
        self._restore_settings()

    # --- construction -------------------------------------------------------
    def _build_docks(self) -> None:
        for entry in list_builtin_models():
            item = QListWidgetItem(entry.name, self.models)
            item.setToolTip(entry.summary)
            item.setData(Qt.ItemDataRole.UserRole, str(entry.path))
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.models_dock = self._add_dock("Models", "models_dock", self.models, left, 190)
        self.inspector_dock = self._add_dock(
            "Inspector", "inspector_dock", self.inspector, right, 330
        )

    def _add_dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, width: int
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        return dock

    def _action(
        self,
        text: str,
        slot: object,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text.replace("&", "").rstrip("."))
        action.setStatusTip(action.toolTip())
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action(
            "&Open model file...",
            self._on_open_triggered,
            QKeySequence.StandardKey.Open,
            "Open a model .py file",
        )
        self.export_action = self._action(
            "&Export graph...",
            self._on_export_triggered,
            "Ctrl+E",
            "Export the graph as SVG, PNG, DOT or JSON",
        )
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.fit_action = self._action("&Fit to window", self.view.fit_all, "F")
        self.zoom_in_action = self._action(
            "Zoom &in", self.view.zoom_in, QKeySequence.StandardKey.ZoomIn
        )
        self.zoom_out_action = self._action(
            "Zoom &out", self.view.zoom_out, QKeySequence.StandardKey.ZoomOut
        )
        self.zoom_selection_action = self._action(
            "Zoom to &selection", self.view.zoom_to_selection, "Z"
        )
        self.rankdir_action = self._action(
            "&Left to right",
            self._on_rankdir_toggled,
            "Ctrl+L",
            "Lay the graph out left to right instead of top down",
        )
        self.rankdir_action.setCheckable(True)
        self.values_action = self._action("Show &values on nodes", self._on_values_toggled, "V")
        self.values_action.setCheckable(True)
        self.collapse_action = self._action(
            "&Collapse top-level modules",
            self._on_collapse_top_triggered,
            "Ctrl+Shift+C",
            "Draw each top-level module as one node (double-click a module to toggle it)",
        )
        self.expand_action = self._action(
            "E&xpand all modules", self._on_expand_all_triggered, "Ctrl+Shift+X"
        )
        self.cancel_action = self._action(
            "Cancel", self.controller.cancel, "Esc", "Stop the running job (layout, loading)"
        )
        self.cancel_action.setEnabled(False)
        self.export_action.setEnabled(False)
        self._build_menus()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.open_action, self.export_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions(
            [self.fit_action, self.zoom_in_action, self.zoom_out_action, self.zoom_selection_action]
        )
        view_menu.addSeparator()
        view_menu.addActions([self.rankdir_action, self.values_action])
        view_menu.addSeparator()
        view_menu.addActions([self.collapse_action, self.expand_action])
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.addActions(
            [
                self.open_action,
                self.export_action,
                self.fit_action,
                self.zoom_in_action,
                self.zoom_out_action,
            ]
        )

    def _build_status_bar(self) -> None:
        self.model_label = QLabel("no model")
        self.count_label = QLabel("")
        self.engine_label = QLabel("")
        self.time_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: jobs report no fraction yet
        self.progress.setMaximumWidth(140)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.cancel_action)
        self.cancel_button.hide()
        bar = self.statusBar()
        for widget in (self.model_label, self.count_label, self.engine_label, self.time_label):
            bar.addPermanentWidget(widget)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _connect(self) -> None:
        self.controller.picture_ready.connect(self._on_controller_picture_ready)
        self.controller.failed.connect(self._on_controller_failed)
        self.controller.busy_changed.connect(self._on_controller_busy_changed)
        self.controller.exported.connect(self._on_controller_exported)
        self.controller.job_finished.connect(self._on_controller_job_finished)
        self.controller.cancelled.connect(self._on_controller_cancelled)
        self.scene.node_selected.connect(self._on_scene_node_selected)
        self.scene.module_toggled.connect(self._on_scene_module_toggled)
        self.inspector.node_link_clicked.connect(self._on_inspector_link_clicked)
        self.models.itemActivated.connect(self._on_models_item_activated)

    # --- public API ---------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        """Open a model file (or built-in model path) in a worker."""
        self.controller.open_model(str(path), self.style_options)

    def export_to(self, path: str | Path, fmt: str = "", dpi: float | None = None) -> None:
        """Export the shown graph to ``path`` in a worker (the selection drawn highlighted)."""
        if self.result is not None:
            selected = self.scene.selected_node_id()
            highlighted = frozenset({selected}) if selected else frozenset()
            self.controller.export(self.result, ExportRequest(str(path), fmt, dpi, highlighted))

    # --- handlers -----------------------------------------------------------
    def _on_open_triggered(self) -> None:
        start = self.settings.value("last_dir", str(Path.cwd()))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model file", str(start), "Python model files (*.py)"
        )
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
            self.open_model(path)

    def _on_export_triggered(self) -> None:
        if self.result is None:
            return
        start = (
            Path(str(self.settings.value("last_dir", Path.cwd()))) / f"{self.result.model_name}.svg"
        )
        path, _ = QFileDialog.getSaveFileName(self, "Export graph", str(start), EXPORT_FILTERS)
        if not path:
            return
        dpi = None
        if path.lower().endswith(".png"):
            dpi, accepted = QInputDialog.getInt(
                self, "PNG resolution", "Dots per inch (96 = screen size):", 144, 36, 600
            )
            if not accepted:
                return
        self.export_to(path, dpi=dpi)

    def _on_models_item_activated(self, item: QListWidgetItem) -> None:
        self.open_model(item.data(Qt.ItemDataRole.UserRole))

    def _on_rankdir_toggled(self, checked: bool) -> None:
        self._restyle(rankdir="LR" if checked else "TB")

    def _on_values_toggled(self, checked: bool) -> None:
        self._restyle(show_values=checked)

    def _restyle(self, **changes: object) -> None:
        self.style_options = dataclasses.replace(self.style_options, **changes)  # type: ignore[arg-type]
        if self.result is not None:
            self.controller.restyle(self.style_options)

    def _on_controller_picture_ready(self, result: PictureResult) -> None:
        same_model = self.result is not None and self.result.model_path == result.model_path
        selected = self.scene.selected_node_id() if same_model else ""
        self.result = result
        self.scene.show_graph(result.visible, result.layout, result.style)
        self.view.fit_all()
        if selected in self.scene.nodes:
            self.scene.select_node(selected)
        self.settings.setValue("last_model", result.model_path)
        self._update_status(result)
        self.export_action.setEnabled(True)
        self.picture_shown.emit()

    def _update_status(self, result: PictureResult) -> None:
        self.setWindowTitle(f"{result.model_name} - graphviz_app")
        self.model_label.setText(f"{result.model_name} ({result.parameter_count:,} parameters)")
        self.count_label.setText(
            f"{len(result.graph.nodes)} nodes, {len(result.graph.edges)} edges"
        )
        self.engine_label.setText(result.engine)
        self.statusBar().showMessage(
            " | ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in result.timings), 8000
        )

    def _on_controller_failed(self, summary: str, details: str) -> None:
        self.last_error = summary
        logger.warning("job failed: %s\n%s", summary, details)
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(
            QMessageBox.Icon.Warning, "graphviz_app", summary, QMessageBox.StandardButton.Ok, self
        )
        box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._on_error_box_destroyed)
        box.open()  # window-modal, does not block the event loop
        self._error_box = box
        self.statusBar().showMessage(summary, 10000)
        self.error_shown.emit(summary)

    def _on_error_box_destroyed(self) -> None:
        self._error_box = None

    def _on_controller_busy_changed(self, busy: bool, description: str) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_action.setEnabled(busy)
        self.progress.setToolTip(description)
        if busy:
            self.statusBar().showMessage(description + "...")

    def _on_controller_job_finished(self, seconds: float) -> None:
        self.time_label.setText(f"last job {seconds * 1000:.0f} ms")

    def _on_controller_cancelled(self) -> None:
        self.statusBar().showMessage("Cancelled.", 5000)

    def _on_controller_exported(self, path: str) -> None:
        self.statusBar().showMessage(f"Exported {path}", 8000)

    def _on_scene_node_selected(self, node_id: str) -> None:
        if node_id and self.result is not None:
            self.inspector.show_node(self.result.visible, node_id)
        else:
            self.inspector.show_nothing()

    def _on_scene_module_toggled(self, module: str) -> None:
        self.set_collapsed(self.style_options.collapsed ^ {module})

    def set_collapsed(self, modules: frozenset[str]) -> None:
        """Draw ``modules`` collapsed (one node each) and every other module expanded."""
        self._restyle(collapsed=frozenset(modules))

    def _on_collapse_top_triggered(self) -> None:
        if self.result is not None:
            self.set_collapsed(modules_at_depth(self.result.graph, 1))

    def _on_expand_all_triggered(self) -> None:
        self.set_collapsed(frozenset())

    def _on_inspector_link_clicked(self, node_id: str) -> None:
        self.scene.select_node(node_id)
        item = self.scene.nodes.get(node_id)
        if item is not None:
            self.view.centerOn(item)

    # --- settings and shutdown ---------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        if self._error_box is not None:
            self._error_box.close()
        self.controller.shutdown()
        super().closeEvent(event)
