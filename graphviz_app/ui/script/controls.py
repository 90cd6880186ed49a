"""Script mode in the window: open a script (paused at its first backward call), then
Next backward, Run N backward calls and Stop; the script's output in the Script dock
and each call's loss, gradient norms and update ratios in the training plots.

Every step is a job on the worker (``controller.submit``); the script itself runs on
its own thread, so a job waits for it with a cancel token: Esc or Stop ends a script
that never reaches its next backward call (a loop) within a second. While a job runs,
a timer takes the script's new output and records from the thread-safe
:class:`~graphviz_app.io.script.output.ScriptOutput`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QToolBar

from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.training.settings import TrainRecord
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.session import PictureResult
from graphviz_app.session.results import ScriptState, ScriptStep
from graphviz_app.ui.common.actions import explain_when_disabled, make_action, menu_named
from graphviz_app.ui.loading.opener import ModelOpener
from graphviz_app.ui.script.host import ScriptHost
from graphviz_app.ui.script.panel import ScriptPanel
from graphviz_app.ui.training.controls import DOCK_HEIGHT  # the bottom docks share a height

if TYPE_CHECKING:
    from graphviz_app.session.model_session import ModelSession

POLL_MS = 50  # how often the window takes the script's output while it runs
NOT_PAUSED = "open a script that calls backward(); it must be paused at a backward call"
MESSAGE_MS = 15000


class ScriptControls(QObject):
    """The window part for scripts (see the module docstring)."""

    def __init__(self, window: ScriptHost, opener: ModelOpener) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self.output = ScriptOutput()
        self.panel = ScriptPanel()
        self.state: ScriptState | None = None  # the open script's, as last reported
        self._token: CancelToken | None = None  # the running script job's
        self._shown = ""  # the script whose picture is on screen
        self._fresh = False  # a script was just opened: its first picture clears the plots
        self._pending: list[TrainRecord] = []  # records that came before its first picture
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._build_actions()
        self._build_dock()
        opener.script_handler = self.open
        window.picture_shown.connect(self._on_window_picture_shown)
        window.cancel_action.triggered.connect(self._cancel_job)
        window.controller.busy_changed.connect(self._on_controller_busy_changed)
        self._update_actions()

    def _build_actions(self) -> None:
        self.next_action = make_action(
            self,
            "&Next backward",
            lambda: self.next(1),
            "F7",
            "Let the script run on to its next backward call (one training step)",
        )
        self.run_action = make_action(
            self,
            "Run &N backward calls",
            lambda: self.next(self.panel.count.value()),
            "Shift+F7",
            "Let the script run on for the Script dock's number of backward calls",
        )
        self.stop_action = make_action(
            self, "Stop &script", self.stop, None, "End the script; its last graph stays"
        )
        menu = menu_named(self.window.qt_window, "&Run")
        menu.addSeparator()
        for action in (self.next_action, self.run_action, self.stop_action):
            menu.addAction(action)
            explain_when_disabled(action, NOT_PAUSED)
        toolbar = self.window.qt_window.findChild(QToolBar, "main_toolbar")
        if toolbar is not None:  # beside Forward, Backward and Train one step
            actions = toolbar.actions()
            train = self.window.run.train_action
            after = actions.index(train) + 1 if train in actions else len(actions)
            if after < len(actions):
                toolbar.insertAction(actions[after], self.next_action)
            else:
                toolbar.addAction(self.next_action)
        self.panel.use_actions(self.next_action, self.run_action, self.stop_action)

    def _build_dock(self) -> None:
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.dock = self.window.add_dock("Script", "script_dock", self.panel, bottom, DOCK_HEIGHT)
        self.window.qt_window.tabifyDockWidget(self.window.backward_dock, self.dock)
        self.window.backward_dock.raise_()

    # --- jobs -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while a script job (open, next, stop) is queued or running."""
        return self._token is not None

    def open(self, request: LoadRequest) -> None:
        """Run the script ``request`` names up to its first backward call (the window
        has its consent) and show that call."""
        window, name = self.window, Path(request.path).name
        window.style_options = dataclasses.replace(window.style_options, collapsed=frozenset())
        style, output, limit, token = (
            window.style_options,
            self.output,
            self._limit(),
            self._start(),
        )
        self.panel.clear()
        self.panel.show_status(
            f"Running {name} as python {name} would, up to its first backward call..."
        )
        self.output.take_records()  # nothing left of an earlier script
        self._pending.clear()
        self._fresh = True
        self.dock.show()
        self.dock.raise_()

        def task(session: ModelSession) -> ScriptStep | PictureResult:
            picture = session.open(request, style, token, output, limit)
            if picture.script is None:  # it fell back to its model class
                return picture
            return ScriptStep(picture, session.scripts.backward, (), picture.script)

        window.controller.submit(f"Running {name}", task, self._on_step_done)

    def next(self, count: int) -> None:
        """Let the script run on ``count`` backward calls (pausing at the last)."""
        if self.running or self.state is None or not self.state.paused:
            return
        style, limit, token = self.window.style_options, self._limit(), self._start()
        done = self.state.call + count
        self.panel.show_status(f"Running on to backward call {done}...")
        self.window.controller.submit(
            f"Running the script to backward call {done}",
            lambda s: s.scripts.next(count, style, token, limit),
            self._on_step_done,
        )

    def stop(self) -> None:
        """End the script: a running one within a second, a paused one at once."""
        if self._token is not None:
            self._token.cancel()
        elif self.state is not None and self.state.paused:
            self._start()
            self.window.controller.submit(
                "Stopping the script", lambda s: s.scripts.stop(), self._on_step_done
            )

    def close(self) -> None:
        """The window closes: end a script still running or paused."""
        self._cancel_job()
        self.output.stop_script()

    def _start(self) -> CancelToken:
        self._token = CancelToken()
        self._poll.start()
        self._update_actions()
        return self._token

    def _limit(self) -> float:
        """The window's time limit for model code (Run > Stop model code after...),
        a little under it, so that the script's own message (where it was) wins."""
        limit = self.window.controller.time_limit_s
        return max(0.5, limit - 1.0) if limit else 0.0

    def _cancel_job(self) -> None:
        if self._token is not None:
            self._token.cancel()

    # --- results (GUI thread) ---------------------------------------------------------
    def _on_step_done(self, result: object) -> None:
        self._end_job()
        if isinstance(result, PictureResult):  # not a script after all: its model class
            self.window.controller.picture_ready.emit(result)
            return
        assert isinstance(result, ScriptStep)
        self.state = result.state
        self._update_actions()
        if result.picture is not None:
            self.window.controller.picture_ready.emit(result.picture)
        if result.backward is not None:
            self.window.run.walk_next_pass()  # the call's pass, from its first step
            self.window.controller.backward_ready.emit(result.backward)
        self._show_state()
        if result.state.status == "failed":
            self.window.show_error(result.state.message, result.state.details)

    def _end_job(self) -> None:
        self._token = None
        self._poll.stop()
        self._on_poll_timeout()  # what came since the last tick
        self._update_actions()

    def _on_poll_timeout(self) -> None:
        self.panel.append(self.output.take())
        records = [r for r in self.output.take_records() if isinstance(r, TrainRecord)]
        if self._fresh:
            self._pending.extend(records)
        elif records:
            self.window.training.plots.add_records(records)

    def _show_state(self) -> None:
        state = self.state
        if state is None:
            return
        text = state.describe()
        if state.paused:
            text += " Next backward (F7) runs it on to its next call."
        self.panel.show_status(text, problem=state.status == "failed")
        if not state.paused:
            self.window.status.showMessage(state.message, MESSAGE_MS)

    def _update_actions(self) -> None:
        paused = self.state is not None and self.state.paused and not self.running
        self.next_action.setEnabled(paused)
        self.run_action.setEnabled(paused)
        self.stop_action.setEnabled(self.running or paused)

    # --- window events -------------------------------------------------------------------
    def _on_window_picture_shown(self) -> None:
        result = self.window.result
        if result is None or result.script is None:
            self.state, self._shown = None, ""
            self._update_actions()
            return
        self.state, self._shown = result.script, result.model_path
        if self._fresh:  # a newly opened script's first call: plots start over
            self._fresh = False
            self.window.training.plots.clear()
            self.window.training.plots.add_records(self._pending)
            self._pending = []
        self._show_state()
        self._update_actions()

    def _on_controller_busy_changed(self, busy: bool, description: str) -> None:
        if busy or self._token is None:
            return
        self._end_job()  # cancelled or failed: the job never reported back
        if self.state is not None and self.state.paused:  # (an open stops the one before)
            self.state = dataclasses.replace(
                self.state, status="stopped", message="The script was stopped."
            )
            self._update_actions()
        if self._fresh:
            self._fresh = False
            self.panel.show_status("The script did not reach a backward call.", problem=True)
        else:
            self._show_state()
