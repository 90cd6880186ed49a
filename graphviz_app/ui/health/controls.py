"""The Gradient health part: Run > Check gradient health (and its toolbar button) runs
the check in the worker, shows the report in its dock, goes to the nodes it names and
steps the backward pass to the first NaN or Inf (the chain-rule panel then shows the
numbers that made it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QToolBar

from graphviz_app.core.health.report import NAN, HealthReport, NonFiniteOrigin
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.session import BackwardResult, HealthResult
from graphviz_app.session.results import PictureResult
from graphviz_app.ui.common.actions import explain_when_disabled, make_action, menu_named
from graphviz_app.ui.health.host import HealthHost
from graphviz_app.ui.health.panel import HealthPanel
from graphviz_app.ui.health.report_html import NODE_SCHEME

if TYPE_CHECKING:
    from graphviz_app.session.model_session import ModelSession

CHECK_TIP = (
    "Forward, a recorded backward, then where gradients go wrong: first Inf and NaN, "
    "parameters cut off, vanishing and exploding gradients, dead ReLUs (a script: its "
    "backward call it is paused at)"
)
STALE = "This report is about an earlier graph: check again (Ctrl+Shift+H)."
DOCK_WIDTH = 340
MESSAGE_MS = 10000


class HealthControls(QObject):
    """The window part that checks gradient health and shows the report."""

    def __init__(self, window: HealthHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self.panel = HealthPanel()
        self.panel.thresholds.restore(window.settings)
        self.report: HealthReport | None = None
        self._checked: PictureResult | None = None  # the picture the report is about
        self._backward: BackwardResult | None = None  # the pass it was made from
        self._checking = False  # a check is queued or running
        self._make_actions()
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.dock = window.add_dock("Gradient health", "health_dock", self.panel, right, DOCK_WIDTH)
        # A tab beside the inspector: the report is read top to bottom and needs the
        # side's whole height (the inspector's histograms leave a sliver below them).
        window.qt_window.tabifyDockWidget(window.inspector_dock, self.dock)
        window.inspector_dock.raise_()
        self.dock.hide()  # shown by the first check
        self._add_to_menu_and_toolbar()
        self.panel.link_clicked.connect(self._on_panel_link_clicked)
        window.picture_shown.connect(self._update_actions)
        window.stepper.step_changed.connect(lambda index: self._update_actions())
        window.controller.failed.connect(self._on_controller_failed)
        window.controller.cancelled.connect(self._on_controller_cancelled)
        self._update_actions()

    def _make_actions(self) -> None:
        self.check_action = make_action(
            self, "Check gradient &health", self.check, "Ctrl+Shift+H", CHECK_TIP
        )
        self.jump_nan_action = make_action(
            self,
            "Jump to first &NaN",
            lambda: self.jump(NAN),
            None,
            "Step the backward pass to the node whose backward made the first NaN",
        )
        self.jump_inf_action = make_action(
            self,
            "Jump to first &Inf",
            lambda: self.jump("inf"),
            None,
            "Step the backward pass to the node whose backward made the first Inf",
        )
        explain_when_disabled(self.check_action, "open a model first")
        for action in (self.jump_nan_action, self.jump_inf_action):
            explain_when_disabled(action, "the last check found none, or backward ran since")
        panel = self.panel
        panel.check_button.setDefaultAction(self.check_action)
        panel.jump_nan_button.setDefaultAction(self.jump_nan_action)
        panel.jump_inf_button.setDefaultAction(self.jump_inf_action)

    def _add_to_menu_and_toolbar(self) -> None:
        qt_window = self.window.qt_window
        menu = menu_named(qt_window, "&Run")
        menu.addSeparator()
        for action in (self.check_action, self.jump_nan_action, self.jump_inf_action):
            menu.addAction(action)
        menu.addAction(self.dock.toggleViewAction())
        toolbar = qt_window.findChild(QToolBar, "main_toolbar")
        if toolbar is not None:
            self.check_action.setIconText("Check health")  # the toolbar's room is short
            toolbar.addAction(self.check_action)

    # --- the check ------------------------------------------------------------
    def check(self) -> None:
        """Run the check on the open model in the worker; the report lands in the dock."""
        if self.window.result is None:
            return
        try:
            settings = self.panel.thresholds.settings()
        except ValueError as exc:
            self._show_dock()
            self.panel.thresholds_button.setChecked(True)
            self.panel.show_message(f"A threshold is wrong: {exc}", problem=True)
            return
        self.panel.thresholds.keep(self.window.settings, settings)
        self.panel.show_message(self._checking_text())
        self._show_dock()
        self._checking = True
        self.window.controller.submit(
            "Checking gradient health", self._task(settings), self._on_checked
        )

    def _checking_text(self) -> str:
        script = self.window.result.script if self.window.result is not None else None
        if script is not None and script.call:
            return (
                f"Checking backward call {script.call} of the script, from what it left as "
                "it ran..."
            )
        return "Checking: forward, a recorded backward, then the report..."

    def _task(self, settings: HealthSettings) -> Callable[[ModelSession], HealthResult]:
        style = self.window.style_options

        def task(session: ModelSession) -> HealthResult:
            return session.check_health(settings, style)

        return task

    def _on_checked(self, result: object) -> None:
        assert isinstance(result, HealthResult)
        self._checking = False
        self.report, self._backward = result.report, result.backward
        # A script's call is checked on the graph already shown (no new picture).
        self._checked = result.picture or self._showing(result.backward)
        controller = self.window.controller
        if result.picture is not None:
            controller.picture_ready.emit(result.picture)
        if result.backward is not None and self.window.stepper.result is not result.backward:
            controller.backward_ready.emit(result.backward)  # the stepper shows this pass
        self.panel.show_report(result.report)
        self._show_dock()
        problems = result.report.problems()
        verdict = f"{len(problems)} problem(s): {problems[0]}" if problems else "healthy"
        self.window.status.showMessage(f"Gradient health: {verdict}", MESSAGE_MS)
        self._update_actions()

    def _on_controller_failed(self, summary: str, details: str) -> None:
        if self._checking:  # the error box has the details; the dock says what happened
            self._checking = False
            self.panel.show_message(f"The check could not run: {summary}", problem=True)

    def _on_controller_cancelled(self) -> None:
        if self._checking:
            self._checking = False
            self.panel.show_message("The check was cancelled.")

    # --- going to what the report names -------------------------------------------
    def jump(self, kind: str) -> None:
        """Step the backward pass to the first NaN (``kind`` NAN) or Inf and select it."""
        origin = self._origin(kind)
        if origin is None or not self._stepping_checked_pass():
            self.window.status.showMessage(STALE if origin else "None was found.", MESSAGE_MS)
            return
        self.window.stepper.go_to(origin.index, follow=True)
        self.go_to(origin.node_id)
        self.window.backward_dock.show()
        self.window.backward_dock.raise_()  # the chain-rule panel: the numbers that made it

    def go_to(self, node_id: str) -> bool:
        """Select and centre ``node_id`` of the checked graph (or the module drawn for it)."""
        shown = self.window.result
        if shown is None or shown is not self._checked_picture():
            self.window.status.showMessage(STALE, MESSAGE_MS)
            return False
        drawn = shown.view.owner.get(node_id, node_id)
        item = self.window.scene.nodes.get(drawn)
        if item is None:
            self.window.status.showMessage(f"{node_id} is not drawn now.", MESSAGE_MS)
            return False
        self.window.scene.select_node(drawn)
        self.window.view.centerOn(item)
        return True

    def _on_panel_link_clicked(self, scheme: str, target: str) -> None:
        if scheme == NODE_SCHEME:
            self.go_to(target)
            return
        finding = (
            next((p for p in self.report.parameters if p.name == target), None)
            if self.report
            else None
        )
        if finding is not None:
            self.window.status.showMessage(f"{target} has no node: {finding.detail}", MESSAGE_MS)

    def _origin(self, kind: str) -> NonFiniteOrigin | None:
        if self.report is None:
            return None
        return self.report.first_nan if kind == NAN else self.report.first_inf

    def _checked_picture(self) -> PictureResult | None:
        """The picture on screen when it still shows the checked graph (a restyle
        draws the same graph anew), else None."""
        shown = self.window.result
        if self._checked is None or shown is None or shown.graph is not self._checked.graph:
            return None
        return shown

    def _showing(self, backward: BackwardResult | None) -> PictureResult | None:
        """The picture on screen when it is the graph ``backward`` went through."""
        shown = self.window.result
        if backward is None or shown is None or shown.graph is not backward.graph:
            return None
        return shown

    def _stepping_checked_pass(self) -> bool:
        return self._backward is not None and self.window.stepper.result is self._backward

    def _update_actions(self) -> None:
        self.check_action.setEnabled(self.window.result is not None)
        usable = self._stepping_checked_pass()
        self.jump_nan_action.setEnabled(usable and self._origin(NAN) is not None)
        self.jump_inf_action.setEnabled(usable and self._origin("inf") is not None)
        if self.report is not None and self._checked is not None and not self._checked_picture():
            self.panel.show_report(self.report, STALE)
            self._checked = None  # said once; links now say so too

    def _show_dock(self) -> None:
        self.dock.show()
        self.dock.raise_()
