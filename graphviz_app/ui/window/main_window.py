"""The main window: models on the left, the graph in the centre, the inspector on the right."""

from __future__ import annotations

import dataclasses
import logging
from operator import attrgetter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QSplitter, QToolBar, QWidget

from graphviz_app.core.graph.collapse import VisibleGraph
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.session import BackwardResult, PictureResult
from graphviz_app.ui.backward.run_controls import RunControls
from graphviz_app.ui.backward.stepper import STEPPER_HEIGHT, BackwardStepper, StepperPanel
from graphviz_app.ui.common.actions import (
    MENUS,
    NO_GRAPH,
    TOOLBAR,
    TOOLBAR_TEXT,
    Shortcut,
    explain_when_disabled,
    make_action,
    menu_named,
)
from graphviz_app.ui.common.dialogs import dropped_model_file
from graphviz_app.ui.common.theme import ThemeManager
from graphviz_app.ui.graph.find_bar import FindBar, FindResults
from graphviz_app.ui.graph.grad_legend import GradLegend
from graphviz_app.ui.graph.minimap import Minimap
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView
from graphviz_app.ui.health.controls import HealthControls
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.loading.opener import ModelOpener
from graphviz_app.ui.loading.trust import TrustStore
from graphviz_app.ui.panels.group_section import group_section
from graphviz_app.ui.panels.histogram import HistogramPanel
from graphviz_app.ui.panels.inspector import InspectorView
from graphviz_app.ui.panels.lesson import LessonView
from graphviz_app.ui.panels.model_list import ModelList
from graphviz_app.ui.script.controls import ScriptControls
from graphviz_app.ui.training.controls import DOCK_HEIGHT as TRAINING_HEIGHT
from graphviz_app.ui.training.controls import TrainingControls
from graphviz_app.ui.window.appearance import Appearance
from graphviz_app.ui.window.file_menu import FileMenu
from graphviz_app.ui.window.navigation import Navigator, incoming_grads
from graphviz_app.ui.window.status import (
    AppStatusBar,
    ErrorReporter,
    picture_message,
    reading_ms,
)
from graphviz_app.ui.window.view_controls import ViewControls
from graphviz_app.ui.window.window_state import (
    add_panel_toggle,
    fit_bottom_to_tab,
    restore_window,
    save_window,
    uses_system_dot,
)

logger = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The explorer window. All work goes through one :class:`SessionController`."""

    picture_shown = Signal()
    error_shown = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("graphviz_app: autograd explorer")
        self.setAcceptDrops(True)  # drop a model .py file to open it
        self.resize(1280, 820)
        self.settings = settings or QSettings("graphviz_app", "graphviz_app")
        self.style_options = GraphStyle()
        self.result: PictureResult | None = None
        self.last_error = ""
        self.trust = TrustStore(self.settings)
        self.controller = SessionController(self)
        self._build_widgets()
        self.run = RunControls(self)
        self.navigator = Navigator(self)
        self.panels_menu = QMenu("&Panels", self)
        self.find_toolbar: QToolBar | None = None  # built with the menus
        self._build_docks()
        self._build_actions()
        self.status = AppStatusBar(self.cancel_action, self)
        self.setStatusBar(self.status)
        self.errors = ErrorReporter(self)
        self._connect()
        self.inspector.add_extra(self.stepper.inspector_section)
        self.inspector.add_extra(group_section(self._shown_view, self.stepper.reached_norms))
        self._build_parts()
        self._restore()
        self.appearance.apply_theme()

    def _build_widgets(self) -> None:
        """The graph in the centre and the panels around it."""
        self.scene = GraphScene(self)
        self.view = GraphView(self)
        self.view.setScene(self.scene)
        self.setCentralWidget(self.view)
        self.inspector = InspectorView(self)
        self.histograms = HistogramPanel(self)
        self.models = ModelList(self.settings, self)
        self.lesson = LessonView(self)
        self.find_bar = FindBar(self)
        self.find_results = FindResults(self.find_bar, self)
        self.stepper_panel = StepperPanel(self)
        self.legend = GradLegend(self.view.viewport())
        self.stepper = BackwardStepper(self.scene, self.stepper_panel, self.legend)
        self.minimap = Minimap(self.view)

    def _build_parts(self) -> None:
        """The parts that add docks and menus of their own, built last: they wire
        themselves to the widgets, actions and menus above."""
        self.training = TrainingControls(self)
        self.opener = ModelOpener(self)
        self.health = HealthControls(self)
        self.script = ScriptControls(self, self.opener)
        fit_bottom_to_tab(self, {self.backward_dock: STEPPER_HEIGHT, self.script.dock: 200})
        fit_bottom_to_tab(self, {self.training.dock: TRAINING_HEIGHT})
        #: The optional parts by class name (tests look them up).
        self.parts: dict[str, object] = {
            "TrainingControls": self.training,
            "ModelOpener": self.opener,
            "HealthControls": self.health,
            "ScriptControls": self.script,
        }

    @property
    def qt_window(self) -> QMainWindow:
        """This window as a plain QMainWindow: the Qt parent its parts hang their
        actions, menus, docks and dialogs on (parts see the window through narrow
        protocols, never this class)."""
        return self

    @property
    def themes(self) -> ThemeManager:
        """The theme in use and its changes."""
        return self.appearance.themes

    def current_fills(self) -> dict[str, str]:
        """Node id -> fill, as drawn now (for exports)."""
        return self.appearance.current_fills()

    def _shown_view(self) -> tuple[VisibleGraph, AutogradGraph] | None:
        result = self.result
        return (result.view, result.graph) if result is not None else None

    def _restore(self) -> None:
        """Engine, geometry and dock layout as they were when the window last closed."""
        if uses_system_dot(self.settings):
            self.files.use_system_dot()
        restore_window(self, self.settings)

    # --- construction -------------------------------------------------------
    def _build_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.models_dock = self.add_dock("Models", "models_dock", self.models, left, 190)
        inspector = QSplitter(Qt.Orientation.Vertical)
        inspector.addWidget(self.inspector)
        inspector.addWidget(self.histograms)
        inspector.setStretchFactor(0, 3)
        self.inspector_dock = self.add_dock("Inspector", "inspector_dock", inspector, right, 340)
        self.lesson_dock = self.add_dock("Lesson", "lesson_dock", self.lesson, left, 190)
        self.find_dock = self.add_dock("Find results", "find_dock", self.find_results, left, 190)
        self.find_dock.hide()  # shown by Ctrl+F
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.backward_dock = self.add_dock(
            "Backward pass", "backward_dock", self.stepper_panel, bottom, 60
        )
        self.view.set_corner_overlay(self.legend)
        # Shown only when zoomed in: a fit need not keep its corner clear.
        self.view.set_corner_overlay(self.minimap, Qt.Corner.BottomRightCorner, keep_clear=False)

    def add_dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, width: int
    ) -> QDockWidget:
        """A movable, closable dock, listed in View > Panels (restore it from there)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        add_panel_toggle(self.panels_menu, dock)
        vertical = area == Qt.DockWidgetArea.BottomDockWidgetArea
        orientation = Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal
        self.resizeDocks([dock], [width], orientation)
        return dock

    def _action(self, text: str, slot: Any, shortcut: Shortcut = None, tip: str = "") -> QAction:
        return make_action(self, text, slot, shortcut, tip)

    def _build_actions(self) -> None:
        self.cancel_action = self._action(
            "Cancel", self.controller.cancel, "Esc", "Stop the running job (layout, loading)"
        )
        self.cancel_action.setEnabled(False)
        self.files = FileMenu(self)
        explain_when_disabled(self.cancel_action, "no job is running")
        for action in (self.run.forward_action, self.run.backward_action, self.run.train_action):
            explain_when_disabled(action, NO_GRAPH)
        for action in self.stepper.actions:
            explain_when_disabled(action, "run backward (F6) first")
        self.views = ViewControls(self)
        self.appearance: Appearance = Appearance(self)
        self._build_menus()

    def _build_menus(self) -> None:
        for title, names in MENUS:
            menu = self.menuBar().addMenu(title)
            for name in names:
                menu.addSeparator() if name == "-" else menu.addActions(self._actions_named(name))
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        for name in TOOLBAR:
            toolbar.addSeparator() if name == "-" else toolbar.addActions(self._actions_named(name))
            if name in TOOLBAR_TEXT:
                self._actions_named(name)[0].setIconText(TOOLBAR_TEXT[name])
        self.views.add_to_toolbar(toolbar)
        find_toolbar = self.addToolBar("Find")  # its own row in presentation mode
        find_toolbar.setObjectName("find_toolbar")
        find_toolbar.addWidget(self.find_bar)
        self.find_toolbar = find_toolbar
        view_menu = menu_named(self, "&View")
        view_menu.addSeparator()
        for menu in (self.appearance.theme_menu, self.appearance.colour_menu, self.panels_menu):
            view_menu.addMenu(menu)

    def _actions_named(self, name: str) -> list[QAction]:
        found = attrgetter(name)(self)
        return list(found) if isinstance(found, list) else [found]

    def _connect(self) -> None:
        self.controller.picture_ready.connect(self._on_controller_picture_ready)
        self.controller.failed.connect(self._on_controller_failed)
        self.controller.busy_changed.connect(self.status.set_busy)
        self.controller.exported.connect(
            lambda path: self.status.showMessage(f"Exported {path}", 8000)
        )
        self.controller.job_finished.connect(self.status.show_job_time)
        self.controller.cancelled.connect(self._on_controller_cancelled)
        self.controller.engine_changed.connect(self.status.show_engine)
        self.controller.backward_ready.connect(self._on_controller_backward_ready)
        self.stepper.step_changed.connect(self._on_stepper_step_changed)
        self.scene.node_selected.connect(self._on_scene_node_selected)
        navigator = self.navigator
        self.scene.module_toggled.connect(navigator.toggle_module)
        self.scene.node_context_menu.connect(navigator.show_node_menu)
        self.inspector.node_link_clicked.connect(navigator.go_to)
        self.lesson.node_requested.connect(navigator.go_to_named)
        self.find_bar.hit_selected.connect(navigator.go_to)
        self.models.model_chosen.connect(self.open_model)
        self.models.node_chosen.connect(navigator.go_to)

    # --- public API ---------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        """Open a model file (any supported format) or a built-in model; the ModelOpener
        asks what the file needs (trust, class, architecture, consent) first."""
        self.opener.open(path)

    # --- handlers -----------------------------------------------------------
    def restyle(self, **changes: object) -> None:
        """Change the picture's style (``rankdir="LR"``...) and lay it out again."""
        self.style_options = dataclasses.replace(self.style_options, **changes)  # type: ignore[arg-type]
        if self.result is not None:
            self.controller.restyle(self.style_options)

    def _on_controller_picture_ready(self, result: PictureResult) -> None:
        same_model = self.result is not None and self.result.model_path == result.model_path
        selected = self.navigator.carried_selection(result) if same_model else ""
        new_graph = self.result is None or self.result.graph is not result.graph
        self.result = result
        self.stepper.set_view(result.view)
        self.style_options = result.style  # an auto-collapsed open chose the modules
        # A training step with unchanged structure reuses the layout: keep the user's zoom.
        layout_kept = same_model and self.scene.layout is result.layout
        layout_kept = layout_kept and self.scene.graph_style == result.style
        self.scene.show_graph(result.visible, result.layout, result.style)
        if new_graph:
            self.stepper.clear()
        else:
            self.stepper.reapply()
        self.run.set_model_open(True, result.script, result.untrainable)
        if selected in self.scene.nodes:
            self.scene.select_node(selected)
        self.refresh_inspector()  # the new graph's node, or nothing for another model
        opened = result.opened or not same_model
        if opened:  # not on every training step: settings are written to disk
            self.settings.setValue("last_model", result.model_path)
            self.models.show_model(result.model_path, result.graph)
            self.setWindowTitle(f"{result.model_name} - graphviz_app")
            self.lesson.show_lesson(result.doc, result.guesses)
        self.status.show_picture(result)
        self.find_bar.set_graph(result.visible, incoming_grads(self.stepper.result))
        self.views.set_result(result)
        self.appearance.on_picture_shown(new_graph)
        # After the legends are set: the fit keeps clear of them.
        zoomed = not layout_kept and self.appearance.fit_new_layout()
        self.minimap.refresh()
        message = picture_message(result, opened, zoomed=zoomed)
        if message:
            self.status.showMessage(message, reading_ms(message))
        self.files.export_action.setEnabled(True)
        self.picture_shown.emit()

    def show_error(self, summary: str, details: str) -> None:
        """Report a failure: status bar, a non-blocking message box, the log."""
        self._on_controller_failed(summary, details)

    def _on_controller_failed(self, summary: str, details: str) -> None:
        self.last_error = summary
        logger.warning("job failed: %s\n%s", summary, details)
        self.errors.show(summary, details)
        self.status.showMessage(summary, 10000)
        self.error_shown.emit(summary)

    def _on_controller_backward_ready(self, result: BackwardResult) -> None:
        self.find_bar.set_grads(incoming_grads(result))

    def _on_controller_cancelled(self) -> None:
        self.status.showMessage("Cancelled.", 5000)

    def _on_scene_node_selected(self, node_id: str) -> None:
        self.refresh_inspector()

    def _on_stepper_step_changed(self, index: int) -> None:
        self.refresh_inspector()

    def refresh_inspector(self) -> None:
        """Describe the selected node (and its gradients, when backward ran it)."""
        node_id = self.scene.selected_node_id()
        if node_id and self.result is not None:
            step = self.stepper.reached_step(node_id)  # None: backward is not there yet
            self.inspector.show_node(self.result.visible, node_id, step)
            grad = step.received_grad() if step is not None else None
            self.histograms.show_tensors(self.result.visible.node(node_id).tensor, grad)
        else:
            self.inspector.show_nothing()
            self.histograms.show_tensors(None, None)

    def set_collapsed(self, modules: frozenset[str]) -> None:
        """Draw ``modules`` collapsed (one node each) and every other module expanded."""
        self.restyle(collapsed=frozenset(modules))

    # --- settings and shutdown ---------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_model_file(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_model_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.open_model(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        save_window(self, self.settings)
        self.errors.close()
        self.script.close()  # a running or paused script ends with the window
        self.controller.shutdown()
        super().closeEvent(event)
