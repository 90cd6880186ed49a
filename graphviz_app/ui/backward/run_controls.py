"""Forward, backward and the walk-through export: the Run menu's actions and handlers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMainWindow, QStatusBar

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.layout.svg import to_svg
from graphviz_app.core.training.settings import TrainRecord, TrainSettings
from graphviz_app.io.walkthrough import RecordedPass, write_walkthrough
from graphviz_app.session import BackwardResult, PictureResult
from graphviz_app.session.results import ScriptState
from graphviz_app.ui.backward.stepper import BackwardStepper
from graphviz_app.ui.common.actions import (
    NO_GRAPH,
    explain_when_disabled,
    make_action,
    set_available,
)
from graphviz_app.ui.common.dialogs import ask_folder
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.jobs.controller import SessionController

if TYPE_CHECKING:
    from graphviz_app.session.model_session import ModelSession

#: Why Train is off while a script is open (the Training dock says more).
SCRIPT_TRAINS = "a script trains itself: Run > Next backward runs it on"
SCRIPT_RUNS = "a script runs its own forward: Run > Next backward runs it on to its next one"
SCRIPT_BACKWARD = (
    "the pass shown is the script's own backward call, recorded as it ran (step through "
    "it in the Backward pass panel); Run > Next backward runs the script on to its next one"
)
NO_PASS = "run backward (F6) first: there is no recorded pass to export"


class RunHost(Protocol):
    """What the Run menu's handlers use of the window."""

    result: PictureResult | None
    style_options: GraphStyle
    settings: QSettings
    controller: SessionController
    scene: GraphScene
    stepper: BackwardStepper

    @property
    def qt_window(self) -> QMainWindow:
        """The window as a Qt parent."""
        ...

    @property
    def status(self) -> QStatusBar:
        """The status bar, for short messages."""
        ...

    def show_error(self, summary: str, details: str) -> None:
        """An error box."""
        ...

    def refresh_inspector(self) -> None:
        """Show the selected node again (new gradients)."""
        ...


class RunControls(QObject):
    """Runs forward/backward through the window's controller and shows the results."""

    walkthrough_exported = Signal(object)  # the files written, the page last

    def __init__(self, window: RunHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self._make_actions()
        self.train_settings = TrainSettings()
        #: Set by the Training dock: Ctrl+T then trains with the dock's settings and plots.
        self.train_handler: Callable[[], None] | None = None
        #: The next recorded pass opens on its first step (the user ran it to step
        #: through it: F6, a script's call); other passes show their end.
        self._walk_next = False
        self.set_model_open(False)
        window.controller.trained.connect(self._on_controller_trained)
        window.controller.backward_ready.connect(self._on_controller_backward_ready)
        window.controller.failed.connect(self._on_controller_failed)
        window.controller.cancelled.connect(self._on_controller_failed)

    def _make_actions(self) -> None:
        self.forward_action = make_action(
            self,
            "&Forward",
            self._on_forward_triggered,
            "F5",
            "Run the forward pass again: a new graph (same layout when the structure is the same)",
        )
        self.backward_action = make_action(
            self,
            "&Backward",
            self._on_backward_triggered,
            "F6",
            "Run and record backward; gradients accumulate into .grad as in PyTorch",
        )
        self.retain_action = make_action(
            self,
            "&Retain graph",
            lambda checked: None,
            None,
            "Backward with retain_graph=True, so that backward can run again on this graph",
        )
        self.retain_action.setCheckable(True)
        self.walkthrough_action = make_action(
            self,
            "Export backward &walk-through...",
            self._on_walkthrough_triggered,
            None,
            "An HTML page that steps through the recorded backward pass (one vector graph,"
            " no network needed) and one SVG per step",
        )
        explain_when_disabled(self.walkthrough_action, NO_PASS)
        self.train_action = make_action(
            self,
            "&Train one step",
            self._on_train_triggered,
            "Ctrl+T",
            "Forward, recorded backward and an optimizer step (the Training dock's "
            "settings); the graph and the gradients of that step are shown",
        )

    def set_model_open(
        self, is_open: bool, script: ScriptState | None = None, untrainable: str = ""
    ) -> None:
        """Forward and backward need an open model. A script's forward and training are
        its own (Next backward); Backward only runs on a graph it left without one.
        Training needs a model and inputs (``untrainable``: why this one has none)."""
        paused_at_call = script is not None and script.call > 0
        set_available(self.forward_action, _why_not(is_open, script, SCRIPT_RUNS), NO_GRAPH)
        why_not = NO_GRAPH if not is_open else SCRIPT_TRAINS if script else untrainable
        set_available(self.train_action, why_not, NO_GRAPH)
        why_not = _why_not(is_open, script if paused_at_call else None, SCRIPT_BACKWARD)
        set_available(self.backward_action, why_not, NO_GRAPH)
        self._enable_walkthrough()

    def _enable_walkthrough(self) -> None:
        """The walk-through exports the recorded pass: only once there is one."""
        stepper = getattr(self.window, "stepper", None)  # built after these controls
        self.walkthrough_action.setEnabled(stepper is not None and stepper.step_count > 0)

    def export_walkthrough_to(self, folder: str | Path) -> None:
        """Write the recorded backward pass into ``folder``: one SVG per step and the
        interactive ``index.html``; Graphviz and the writing run on the worker thread."""
        window = self.window
        backward, picture = window.stepper.result, window.result
        if backward is None or picture is None or not backward.trace.steps:
            window.show_error(
                "There is no recorded backward pass to export: run backward first.", ""
            )
            return
        recorded = RecordedPass(backward.graph, backward.trace, picture.model_name, picture.view)
        target = Path(folder)

        def write(session: ModelSession) -> list[Path]:
            # The picture on screen, as laid out there: no Graphviz run, the same drawing.
            svg = to_svg(picture.visible, picture.layout, picture.style)
            return write_walkthrough(target, recorded, svg)

        window.controller.submit("Exporting the walk-through", write, self._on_walkthrough_written)

    def _on_walkthrough_written(self, files: object) -> None:
        assert isinstance(files, list)
        self.window.status.showMessage(f"Wrote {len(files) - 1} steps and {files[-1]}", 8000)
        self.walkthrough_exported.emit(files)

    def run_to_node(self, node_id: str) -> None:
        """Step the recorded backward pass to where ``node_id`` runs."""
        if not self.window.stepper.go_to_node(node_id):
            self.window.status.showMessage("Backward has not run this node (F6 first).", 5000)

    def _on_forward_triggered(self) -> None:
        self.window.controller.forward(self.window.style_options)

    def walk_next_pass(self) -> None:
        """Open the next recorded pass on its first step, so Right walks it (End: the
        finished pass). A training step's or the health check's pass shows its end."""
        self._walk_next = True

    def _on_backward_triggered(self) -> None:
        self.walk_next_pass()
        self.window.controller.backward(self.retain_action.isChecked())

    def _on_controller_failed(self, *args: object) -> None:
        self._walk_next = False

    def _on_train_triggered(self) -> None:
        if self.train_handler is not None:
            self.train_handler()
        else:
            self.window.controller.train_step(self.train_settings, self.window.style_options)

    def _on_controller_trained(self, record: TrainRecord) -> None:
        if self.train_handler is not None:
            return  # the Training dock reports its own steps (one status line per step)
        biggest = max(record.params, key=lambda p: p.update_ratio, default=None)
        ratio = (
            f"; largest update/weight {biggest.update_ratio:.2g} ({biggest.name})"
            if biggest
            else ""
        )
        self.window.status.showMessage(
            f"Step {record.step} ({record.settings.describe()}): loss {record.loss:.4g}{ratio}",
            15000,
        )

    def _on_walkthrough_triggered(self) -> None:
        folder = ask_folder(
            self.window.qt_window, self.window.settings, "Folder for the walk-through"
        )
        if folder:
            self.export_walkthrough_to(folder)

    def _on_controller_backward_ready(self, result: BackwardResult) -> None:
        stepper = self.window.stepper
        stepper.show_result(result, at_start=self._walk_next)
        self._walk_next = False
        self._enable_walkthrough()
        self.window.refresh_inspector()
        self.window.status.showMessage(
            f"Backward recorded: {stepper.step_count} steps in {result.seconds * 1000:.0f} ms",
            8000,
        )


def _why_not(is_open: bool, script: ScriptState | None, scripted: str) -> str:
    """Why an action cannot run: no model, or ``scripted`` while a script is open."""
    if not is_open:
        return NO_GRAPH
    return scripted if script is not None else ""
