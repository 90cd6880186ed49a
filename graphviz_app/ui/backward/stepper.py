"""Step through a recorded backward pass: the stepper panel and what it draws.

A step is an index into the recorded :class:`BackwardTrace`, never a re-run. At step
``i`` the node of step ``i`` is executing (orange border); earlier ones are done
(green tick); the others show how many gradients they still wait for (blue count);
the gradients the current node sends on label its input edges. The fills of the
nodes that have run so far (and the current one) show the magnitude of the gradient
that reached them, on a log scale over the whole pass (legend top left); nodes still
waiting keep their kind colour, so the picture never shows a gradient before it
exists. Stepping keeps the current node on screen, zoomed in until labels are legible.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graphviz_app.core.graph.collapse import VisibleGraph
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.style import GradRamp, grad_fills
from graphviz_app.core.stepping.state import drawn_norms, step_view
from graphviz_app.session import BackwardResult
from graphviz_app.ui.common.actions import make_action
from graphviz_app.ui.graph.edge_labels import place_labels
from graphviz_app.ui.graph.grad_legend import GradLegend
from graphviz_app.ui.graph.items import NodeItem, StepState
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView

if TYPE_CHECKING:
    from graphviz_app.core.autograd.backward import BackwardStep

READABLE_TEXT_PX = 9.0  # stepping zooms in until labels are at least this tall
STEPPER_HEIGHT = 180  # pixels: the buttons, the step's line and a chain rule's numbers
START_HINT = "   (Right: next step; End: the finished pass)"


class StepperPanel(QWidget):
    """Buttons, a scrubber over all steps and the step's description."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first_button, self.prev_button = QToolButton(), QToolButton()
        self.next_button, self.last_button = QToolButton(), QToolButton()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(200)
        self.label = QLabel("Run backward (F6) to step through it.")
        # A long step description must not widen the window: it is cut, not wrapped.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.colour_box = QCheckBox("Colour by gradient")
        self.colour_box.setChecked(True)
        self.play_button = QToolButton()
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(1, 20)  # steps per second
        self.speed.setValue(4)
        self.speed.setMinimumWidth(70)
        self.speed.setMaximumWidth(110)
        self.speed.setToolTip("Playback speed: steps per second")
        self.speed_label = QLabel("Speed")
        self.chain_view = QTextBrowser()
        self.chain_view.setMaximumHeight(120)  # a rule and its numbers; longer ones scroll
        self.chain_view.setPlaceholderText(  # before any pass: say what will be here
            "Each step's chain rule shows here: the gradient the node receives, its local "
            "derivative, and what it sends to its inputs (or adds into .grad)."
        )
        self._lay_out()
        self.set_step_count(0)

    def _lay_out(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 2, 4, 2)
        row = QHBoxLayout()
        for widget in (
            self.first_button,
            self.prev_button,
            self.play_button,
            self.next_button,
            self.last_button,
            self.slider,
            self.speed_label,
            self.speed,
            self.colour_box,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.label)  # its own line: a step's description is long
        column.addWidget(self.chain_view)
        column.addStretch(1)  # spare height below, not between the lines

    def set_step_count(self, count: int) -> None:
        """Size the scrubber for ``count`` steps (0 disables it)."""
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(count > 0)


class BackwardStepper(QObject):
    """Holds the recorded backward pass and shows step ``index`` of it in the scene."""

    step_changed = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, scene: GraphScene, panel: StepperPanel, legend: GradLegend) -> None:
        super().__init__(panel)
        self.scene, self.panel, self.legend = scene, panel, legend
        self.result: BackwardResult | None = None
        self.view: VisibleGraph | None = None
        self.index = -1
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._on_timer_timeout)
        panel.speed.valueChanged.connect(self._on_speed_changed)
        self._on_speed_changed(panel.speed.value())
        panel.slider.valueChanged.connect(self._on_slider_value_changed)
        self.actions = self._make_actions()
        self.play_action = self.actions[2]
        self._enable_actions()
        panel.colour_box.toggled.connect(self._on_colour_toggled)

    def _make_actions(self) -> list[QAction]:
        actions = [
            make_action(self, "First step", lambda: self.go_to(0, follow=True), "Home"),
            make_action(self, "Step back", lambda: self.step_by(-1), "Left"),
            make_action(self, "Play", self.set_playing, "Space", "Play or pause the steps"),
            make_action(self, "Step forward", lambda: self.step_by(1), "Right"),
            make_action(
                self, "Last step", lambda: self.go_to(self.step_count - 1, follow=True), "End"
            ),
        ]
        actions[2].setCheckable(True)
        panel = self.panel
        buttons = (
            panel.first_button,
            panel.prev_button,
            panel.play_button,
            panel.next_button,
            panel.last_button,
        )
        for button, action in zip(buttons, actions, strict=True):
            button.setDefaultAction(action)
        return actions

    def _enable_actions(self) -> None:
        for action in self.actions:
            action.setEnabled(self.step_count > 0)

    @property
    def step_count(self) -> int:
        """How many steps the recorded pass has (0 when none is recorded)."""
        return len(self.result.trace.steps) if self.result else 0

    def show_result(self, result: BackwardResult, at_start: bool = False) -> None:
        """Take a new recorded pass and show its first step (``at_start``: a pass the
        user runs to step through it, Right walks it) or its last (everything done: a
        pass recorded for the gradients it left, such as a training step's)."""
        self.result = result
        self.panel.set_step_count(self.step_count)
        self._enable_actions()
        self.go_to(0 if at_start else self.step_count - 1)

    def clear(self) -> None:
        """Forget the recorded pass (a new forward made a new graph)."""
        self.result, self.index = None, -1
        self.set_playing(False)
        self.panel.chain_view.clear()
        self.panel.set_step_count(0)
        self._enable_actions()
        self.panel.label.setText("Run backward (F6) to step through it.")
        self.reapply()

    def step_for(self, node_id: str) -> BackwardStep | None:
        """The recorded step of ``node_id``, if backward ran it (at any step of the pass)."""
        return self.result.trace.step_for(node_id) if self.result else None

    def reached_step(self, node_id: str) -> BackwardStep | None:
        """The step of ``node_id`` if it has run by the step shown now (else None)."""
        step = self.step_for(node_id)
        return step if step is not None and step.index <= self.index else None

    def inspector_section(self, graph: AutogradGraph, node_id: str) -> str:
        """Inspector HTML for a node backward has not reached at the step shown."""
        step = self.step_for(node_id)
        if step is None or step.index <= self.index:
            return ""
        return (
            "<h4>Gradient</h4><p class='muted'>Not reached yet: backward runs this node at"
            f" step {step.index + 1}; the pass is at step {self.index + 1} of"
            f" {self.step_count}.</p>"
        )

    def go_to(self, index: int, follow: bool = False) -> None:
        """Show the pass as it was while step ``index`` ran (clamped to the steps);
        ``follow`` scrolls (and zooms in, if labels are unreadable) to its node."""
        if not self.step_count:
            return
        self.index = min(max(index, 0), self.step_count - 1)
        self.panel.slider.blockSignals(True)
        self.panel.slider.setValue(self.index)
        self.panel.slider.blockSignals(False)
        self._apply_fills()  # only the nodes that have run so far are coloured
        self._apply_states()
        if follow:
            self.reveal_current()
        self.step_changed.emit(self.index)

    def reveal_current(self) -> None:
        """Bring the current step's node into every view, at a zoom where it reads."""
        steps = self.result.trace.steps if self.result else ()
        item = self.scene.nodes.get(steps[self.index].node_id) if steps else None
        if item is None:
            return
        for view in self.scene.views():
            if isinstance(view, GraphView):
                view.reveal(item.node_rect(), readable_scale(item))

    def set_playing(self, playing: bool) -> None:
        """Play (advance one step per tick from the current one) or pause."""
        if playing and self.step_count:
            if self.index >= self.step_count - 1:
                self.go_to(0, follow=True)  # play from the start when at the end
            self.timer.start()
        else:
            self.timer.stop()
        self.play_action.setChecked(self.timer.isActive())
        self.play_action.setText("Pause" if self.timer.isActive() else "Play")
        self.playing_changed.emit(self.timer.isActive())

    @property
    def playing(self) -> bool:
        """True while the pass is being played."""
        return self.timer.isActive()

    def go_to_node(self, node_id: str) -> bool:
        """Show the step that ran ``node_id``; False when backward did not run it."""
        step = self.step_for(node_id)
        if step is not None:
            self.go_to(step.index, follow=True)
        return step is not None

    def _on_timer_timeout(self) -> None:
        if self.index >= self.step_count - 1:
            self.set_playing(False)
        else:
            self.step_by(1)

    def _on_speed_changed(self, steps_per_second: int) -> None:
        self.timer.setInterval(int(1000 / max(steps_per_second, 1)))

    def _on_slider_value_changed(self, index: int) -> None:
        self.go_to(index, follow=True)

    def step_by(self, delta: int) -> None:
        """Move ``delta`` steps forward (negative: back), keeping its node on screen."""
        self.go_to(self.index + delta, follow=True)

    def reapply(self) -> None:
        """Draw the current step again (after the scene's items were rebuilt)."""
        self._apply_fills()
        self._apply_states()

    def current_fills(self, norms: dict[str, float] | None = None) -> dict[str, str]:
        """Node id -> fill colour by gradient, as drawn now (empty when colouring is off).

        Only the nodes that have run by the current step, and the current one, have a
        fill; the ramp spans the whole pass, so a node's colour does not change as later
        steps run. ``norms``: :meth:`drawn_norms`, when the caller has them.
        """
        norms = self.drawn_norms() if norms is None else norms
        if not norms or not self.panel.colour_box.isChecked() or self.result is None:
            return {}
        reached = {self._drawn(s.node_id) for s in self.result.trace.steps[: self.index + 1]}
        return {k: v for k, v in grad_fills(norms).items() if k in reached}

    def set_view(self, view: VisibleGraph | None) -> None:
        """The drawn graph: a collapsed module or fold stands for the nodes inside it,
        so it is coloured and marked by theirs."""
        self.view = view

    def drawn_norms(self) -> dict[str, float]:
        """Gradient norm per drawn node over the whole pass (a group: its largest)."""
        return drawn_norms(self.result.trace, self.view) if self.result else {}

    def reached_norms(self) -> dict[str, float]:
        """Gradient norm per captured node, for the nodes run by the current step."""
        if self.result is None or self.index < 0:
            return {}
        reached = {s.node_id for s in self.result.trace.steps[: self.index + 1]}
        return {k: v for k, v in self.result.grad_norms().items() if k in reached}

    def _drawn(self, node_id: str) -> str:
        return self.view.owner.get(node_id, node_id) if self.view is not None else node_id

    def _apply_fills(self) -> None:
        norms = self.drawn_norms()
        fills = self.current_fills(norms)
        on = bool(fills)
        for node_id, item in self.scene.nodes.items():
            item.set_fill(fills.get(node_id))
        self.legend.set_ramp(GradRamp.over(norms) if on else None)

    def _apply_states(self) -> None:
        for edge in self.scene.edges.values():
            edge.set_label("")
        if self.result is None or self.index < 0:
            for item in self.scene.nodes.values():
                item.set_step_state(StepState.NONE)
            return
        shown = step_view(self.result.graph, self.result.trace, self.index, self.view)
        for node_id, item in self.scene.nodes.items():
            if node_id == shown.current:
                item.set_step_state(StepState.CURRENT)
            elif node_id in shown.done:
                item.set_step_state(StepState.DONE)
            else:
                item.set_step_state(StepState.WAITING, shown.waiting.get(node_id, 0))
        edges = self.scene.edges
        labels = [(edges[edge], text) for edge, text in shown.labels if edge in edges]
        place_labels(labels, (item.sceneBoundingRect() for item in self.scene.nodes.values()))
        hint = START_HINT if self.index == 0 and self.step_count > 1 else ""
        self.panel.label.setText(shown.caption + hint)
        accent = self.legend.theme.link
        current = self.result.trace.steps[self.index]
        self.panel.chain_view.setHtml(chain_rule_html(self.result.graph, current, accent))

    def _on_colour_toggled(self, checked: bool) -> None:
        self._apply_fills()


def readable_scale(item: NodeItem) -> float:
    """The zoom at which ``item``'s label is comfortably legible."""
    return READABLE_TEXT_PX / max(item.label_pixel_size(), 1)


def chain_rule_html(graph: AutogradGraph, step: BackwardStep, accent: str = "#00529b") -> str:
    """The chain-rule panel for ``step``: the rule, then the step's numbers."""
    if step.node_id not in graph:
        return ""
    from graphviz_app.core.autograd.chain_rule import explain_step  # loaded with torch

    rule = explain_step(graph.node(step.node_id), step)
    rules = "<br>".join(escape(r) for r in rule.rules)
    lines = "<br>".join(escape(line) for line in rule.lines)
    return (
        f"<b>{escape(rule.title)}</b> &mdash; {escape(rule.header)}"
        f"<br><span style='color:{accent}'>{rules}</span><br><tt>{lines}</tt>"
    )
