"""The Training dock: train step by step or N steps, plots, devices and dtypes, and
the gradient check. Every job runs through ``window.controller.submit``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QTabWidget, QWidget

from graphviz_app.core.gradcheck.results import GradcheckReport
from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.training.settings import TrainRecord
from graphviz_app.session import (
    DeviceChoice,
    DeviceSwitchResult,
    PictureResult,
    StepResult,
    TrainRunResult,
)
from graphviz_app.ui.backward.run_controls import SCRIPT_TRAINS
from graphviz_app.ui.common.actions import make_action, menu_named
from graphviz_app.ui.training.device_controls import DevicePanel
from graphviz_app.ui.training.dock import RUNNING, TrainingPanel
from graphviz_app.ui.training.gradcheck_view import GradcheckView
from graphviz_app.ui.training.host import TrainingHost
from graphviz_app.ui.training.inspector_rows import TrainingInspector
from graphviz_app.ui.training.step_feed import ProgressBox, StepFeed

if TYPE_CHECKING:
    from graphviz_app.session.model_session import ModelSession
    from graphviz_app.ui.training.plots import TrainingPlots

logger = logging.getLogger(__name__)
POLL_MS = 10  # how often the GUI looks for new training steps while a run goes on
PROGRESS_MS = 100  # how often it reads a gradient check's progress
PREPARING = "Preparing training"
MESSAGE_MS = 15000
DOCK_HEIGHT = 270  # pixels: buttons, settings, status and the plots, none scrolled away
CHECK_TIP = (
    "Finite differences against backward, float64 and float32 side by side "
    "(the selected parameter, or all)"
)
CHECKING = "A gradient check is running: wait for it or cancel it (Esc)"
SCRIPT = f"{SCRIPT_TRAINS} (its steps are plotted here)"


class TrainingControls(QObject):
    """The window part that trains the open model and shows what each step did."""

    def __init__(self, window: TrainingHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self.panel = TrainingPanel()
        self._plots: TrainingPlots | None = None  # pyqtgraph: built once a model is open
        self.devices = DevicePanel()
        self.gradcheck = GradcheckView()
        self.inspector = TrainingInspector()
        self._tokens: list[CancelToken] = []
        self.feed = StepFeed()  # polled by a timer: see step_feed.py
        self._runs = 0  # training runs queued or running
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_steps_waiting)
        self.check_progress = ProgressBox()  # polled too: see step_feed.py
        self._progress_poll = QTimer(self)
        self._progress_poll.setInterval(PROGRESS_MS)
        self._progress_poll.timeout.connect(self._on_check_progress)
        self._model_path = ""
        self._where = ("cpu", "float32")  # the open model's device and dtype
        self._switching = False  # a switch is queued or running
        self._checking = False  # a gradient check is queued or running
        self._blocked = ""  # why the open graph cannot train (a script, live tensors)
        self._build_dock()
        self._build_actions()
        self._connect()

    def _build_dock(self) -> None:
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.panel)
        splitter.addWidget(QWidget())  # the plots' place, until they are built
        splitter.setStretchFactor(1, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(splitter, "Train")
        self.tabs.addTab(self.devices, "Device && dtype")
        self.tabs.addTab(self.gradcheck, "Gradient check")
        # Scrollable, so the dock may be shorter than its form and the graph keeps the room.
        scroll = QScrollArea()
        scroll.setWidget(self.tabs)
        scroll.setWidgetResizable(True)
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.dock = self.window.add_dock("Training", "training_dock", scroll, bottom, DOCK_HEIGHT)
        backward = self.window.backward_dock  # share the bottom's full width, as a tab
        self.window.qt_window.tabifyDockWidget(backward, self.dock)
        backward.raise_()
        self.window.qt_window.resizeDocks([backward], [DOCK_HEIGHT], Qt.Orientation.Vertical)

    def _build_actions(self) -> None:
        self.check_action = make_action(
            self, "Check &gradients", self._on_check_action_triggered, "Ctrl+G", CHECK_TIP
        )
        menu = menu_named(self.window.qt_window, "&Run")
        menu.addSeparator()
        menu.addAction(self.check_action)
        menu.addAction(self.dock.toggleViewAction())
        self.window.run.train_handler = lambda: self.train(1)
        self._update_availability()

    def _connect(self) -> None:
        panel, window = self.panel, self.window
        panel.step_button.clicked.connect(lambda: self.train(1))
        panel.run_button.clicked.connect(lambda: self.train(panel.steps.value()))
        panel.stop_button.clicked.connect(self.stop)
        panel.reset_button.clicked.connect(self.reset)
        panel.settings_changed.connect(self._on_panel_settings_changed)
        self.devices.switch_requested.connect(self.switch_device)
        self.gradcheck.check_requested.connect(self.check_gradients)
        window.picture_shown.connect(self._on_window_picture_shown)
        window.scene.node_selected.connect(self._on_scene_node_selected)
        window.cancel_action.triggered.connect(self.stop)
        window.controller.busy_changed.connect(self._on_controller_busy_changed)
        window.controller.failed.connect(self._on_controller_failed)
        window.inspector.add_extra(self.inspector)

    @property
    def plots(self) -> TrainingPlots:
        """The run's plots, built when first needed (the window shows before pyqtgraph)."""
        if self._plots is None:
            from graphviz_app.ui.training.plots import plots_in

            self._plots = plots_in(self.splitter, 1, self.select_parameter, self.window.themes)
        return self._plots

    # --- jobs -----------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while a training run or a gradient check is under way."""
        return bool(self._tokens)

    def train(self, steps: int) -> None:
        """Run ``steps`` training steps on the worker, drawing each as it comes."""
        if self._checking:  # Step and Run are disabled and say why; Ctrl+T is told here
            self.window.status.showMessage(CHECKING, MESSAGE_MS)
            return
        if self.window.result is None:
            return
        token = self._new_token()  # a run asked for while one goes on is queued after it
        self._runs += 1
        settings, style = self.panel.settings(), self.window.style_options

        def task(session: ModelSession) -> TrainRunResult:
            return session.train(settings, style, steps, token, self.feed.put)

        self.panel.set_running(True)
        self._update_availability()
        self._poll.start()
        self._submit(f"Training {steps} steps", task, self._on_run_finished)

    def stop(self) -> None:
        """Stop the run (or check) after the step that is running."""
        for token in self._tokens:
            token.cancel()

    def reset(self) -> None:
        """Weights back to their state at load, a new forward, empty plots."""
        style = self.window.style_options
        self._submit("Resetting weights", lambda s: s.reset_weights(style), self._on_reset_done)

    def switch_device(self, device: str, dtype: str) -> None:
        """Move the training state to ``device``/``dtype`` and compare gradients."""
        style = self.window.style_options
        self._switching = True
        self._submit(
            f"Switching to {device} {dtype}",
            lambda s: s.set_device(device, dtype, style),
            self._on_switch_done,
        )

    def check_gradients(self, names: tuple[str, ...] | None) -> None:
        """Finite differences for ``names`` (None: every parameter), cancellable."""
        if self.running or self.window.result is None:
            return  # the action and button say why they are disabled
        token = self._new_token()
        self._checking = True
        settings = self.panel.settings()
        self.gradcheck.summary.setText("Checking...")
        self.panel.set_running(True, CHECKING)
        self.gradcheck.show_progress(0, 0)
        self._update_availability()
        self.check_progress.take()  # nothing left over from an earlier check
        self._progress_poll.start()
        progress = self.check_progress.put
        self._submit(
            "Checking gradients",
            lambda s: s.check_gradients(settings, names, token, on_progress=progress),
            self._on_check_done,
        )

    def select_parameter(self, name: str) -> None:
        """Select and centre the node of parameter ``name`` (a plot curve's click)."""
        result = self.window.result
        node = (
            next((n for n in result.visible.nodes if n.leaf_name == name), None) if result else None
        )
        if node is None:
            self.window.status.showMessage(
                f"{name} is not drawn (inside a collapsed module?)", 5000
            )
            return
        self.window.scene.select_node(node.id)
        item = self.window.scene.nodes.get(node.id)
        if item is not None:
            self.window.view.centerOn(item)

    def _submit(
        self,
        description: str,
        task: Callable[[ModelSession], object],
        done: Callable[[object], None],
    ) -> None:
        self.window.controller.submit(description, task, done)

    def _new_token(self) -> CancelToken:
        token = CancelToken()
        self._tokens.append(token)
        return token

    # --- results (GUI thread) ---------------------------------------------------
    def _on_steps_waiting(self) -> None:
        """Plot every new step; draw the latest one's graph and backward pass."""
        records, step = self.feed.take()
        try:
            if step is not None:
                self._show_step(records, step)
        finally:
            self.feed.drawn()

    def _show_step(self, records: list[TrainRecord], step: StepResult) -> None:
        self.plots.add_records(records)
        self.inspector.record = step.record
        controller = self.window.controller
        controller.picture_ready.emit(step.picture)
        controller.backward_ready.emit(step.backward)
        controller.trained.emit(step.record)  # Run > Train one step's listeners
        record, change = step.record, step.change
        on = f" on {record.batch}" if record.batch else ""
        text = f"Step {record.step}{on} ({record.settings.describe()}): loss {record.loss:.4g}."
        self.panel.status.setText(" ".join(n for n in (text, change.describe(), step.note) if n))
        short = f"Step {record.step}: loss {record.loss:.4g}"  # the dock has the whole story
        if change.changed:
            short += f" (graph changed: {change.nodes_before} -> {change.nodes_after} nodes)"
        self.window.status.showMessage(short, MESSAGE_MS)

    def _on_check_progress(self) -> None:
        progress = self.check_progress.take()
        if progress is not None:
            self.gradcheck.show_progress(*progress)

    def _on_run_finished(self, result: object) -> None:
        assert isinstance(result, TrainRunResult)
        self._on_steps_waiting()  # steps the timer has not taken yet
        self._runs = max(0, self._runs - 1)
        if result.stopped:
            done = len(result.records)
            self.panel.status.setText(f"Stopped after {done} of {result.requested} steps.")
        if not self._runs:
            self._end_job()

    def _on_reset_done(self, result: object) -> None:
        assert isinstance(result, PictureResult)
        self.plots.start_over()  # the run so far stays, faint, to compare with
        self.inspector.record = None
        self.window.controller.picture_ready.emit(result)
        self.panel.status.setText("Weights, buffers and optimizer state reset to load time.")

    def _on_switch_done(self, result: object) -> None:
        assert isinstance(result, DeviceSwitchResult)
        if result.picture is not None:
            self.window.controller.picture_ready.emit(result.picture)
        if result.backward is not None:
            self.window.controller.backward_ready.emit(result.backward)
        self.devices.show_current(result.device, result.dtype)
        self._where = (result.device, result.dtype)
        if result.comparison is not None:
            self.devices.show_comparison(result.comparison)
        if not result.ok:
            self.window.show_error(result.error, result.details)

    def _on_check_done(self, result: object) -> None:
        assert isinstance(result, GradcheckReport)
        self._on_check_progress()  # the last count, when the check ended between polls
        self.gradcheck.show_report(result)
        self._end_job()

    def _end_job(self) -> None:
        self._runs = 0
        self._checking = False
        self._poll.stop()
        self._progress_poll.stop()
        self._tokens.clear()
        self.gradcheck.hide_progress()
        self.panel.set_running(False)
        self._update_availability()

    def _update_availability(self) -> None:
        """Check gradients and Switch wait for an open model and for the end of a
        training run (or check); each says why while it waits."""
        reason = ""
        if self.window.result is None:
            reason = "open a model first"
        elif self._blocked:
            reason = self._blocked
        elif self._runs:
            reason = RUNNING
        elif self._checking:
            reason = CHECKING
        self.check_action.setEnabled(not reason)
        tip = f"{CHECK_TIP}. Unavailable now: {reason}" if reason else CHECK_TIP
        self.check_action.setToolTip(tip)
        self.check_action.setStatusTip(tip)
        self.gradcheck.set_blocked(reason)
        self.devices.set_blocked(reason)

    # --- window events ------------------------------------------------------------
    def _on_controller_busy_changed(self, busy: bool, description: str) -> None:
        if busy:
            return
        if self._switching:  # a failed or cancelled switch never reports back
            self._switching = False
            self.devices.show_current(*self._where)
        if self.running:  # a failed or cancelled job never reports back
            self._end_job()
            if self.gradcheck.summary.text() == "Checking...":
                self.gradcheck.summary.setText("Cancelled.")

    def _on_controller_failed(self, summary: str, details: str) -> None:
        if self._checking:  # the tab says why, not "Cancelled."
            self.gradcheck.summary.setText(f"The check could not run: {summary}")

    def _on_window_picture_shown(self) -> None:
        result = self.window.result
        if result is None:
            return
        self._blocked = SCRIPT if result.script is not None else result.untrainable
        self.panel.set_model_open(not self._blocked, self._blocked)
        self._update_availability()
        if result.model_path != self._model_path:
            self._on_new_model(result)
        if result.script is not None:
            self.panel.status.setText(f"A script is open: {SCRIPT}.")
        elif self._blocked:
            self.panel.status.setText(self._blocked)

    def _on_new_model(self, result: PictureResult) -> None:
        """Forget every result of the previous model: plots, the last step, the
        comparison, the gradient check."""
        self._model_path = result.model_path
        if self._plots is not None:
            self._plots.clear()
        self.inspector.record = None
        self.panel.status.setText("")
        self.devices.clear_comparison()
        self.gradcheck.clear()
        names = tuple(
            n.leaf_name for n in result.graph.nodes if n.kind is NodeKind.PARAMETER and n.leaf_name
        )
        self.gradcheck.set_parameters(names)
        self._submit(PREPARING, lambda s: s.prepare_training(), self._on_devices_listed)

    def _on_devices_listed(self, choice: object) -> None:
        assert isinstance(choice, DeviceChoice)
        self.plots  # noqa: B018 (built now, pyqtgraph loaded: ready when the dock is shown)
        self.devices.set_devices(choice.devices)
        self._where = (choice.device, choice.dtype)
        self.devices.show_current(*self._where)

    def _on_scene_node_selected(self, node_id: str) -> None:
        result = self.window.result
        if result is not None and node_id in result.visible:
            name = result.visible.node(node_id).leaf_name
            if name:
                self.gradcheck.select_parameter(name)

    def _on_panel_settings_changed(self, settings: object) -> None:
        self.window.run.train_settings = settings  # type: ignore[assignment]

    def _on_check_action_triggered(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.tabs.setCurrentWidget(self.gradcheck)
        choice = self.gradcheck.target.currentText()
        self.check_gradients(None if choice == "all parameters" else (choice,))
