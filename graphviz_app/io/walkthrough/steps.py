"""A recorded backward pass as the walk-through draws it: each node's look at each
step, and what the page says about the step (caption, chain rule, gradient values)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphviz_app.core.graph.collapse import VisibleGraph
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.style import VIRIDIS, GradRamp, grad_fills
from graphviz_app.core.stepping.state import StepView, drawn_norms, step_view
from graphviz_app.io.walkthrough.svg import GraphSvg, Look, marked_svg

if TYPE_CHECKING:
    from graphviz_app.core.autograd.backward import BackwardTrace

TICK = "\u2713"


@dataclass(frozen=True)
class RecordedPass:
    """A backward pass to walk through: ``trace`` over the captured ``graph``, drawn as
    ``view`` (collapsed modules and folds; None: ``graph`` itself is drawn)."""

    graph: AutogradGraph
    trace: BackwardTrace
    title: str
    view: VisibleGraph | None = None

    @property
    def drawn(self) -> AutogradGraph:
        """The graph as drawn (what the SVG shows)."""
        return self.view.graph if self.view is not None else self.graph

    @property
    def count(self) -> int:
        """How many steps the pass has."""
        return len(self.trace.steps)

    def views(self) -> Iterator[StepView]:
        """The picture at each step, in order."""
        for index in range(self.count):
            yield step_view(self.graph, self.trace, index, self.view)


def looks(recorded: RecordedPass, shown: StepView, fills: dict[str, str]) -> dict[str, Look]:
    """Every drawn node's look at step ``shown``, as the window's stepper draws it: the
    executing node has an orange border, done nodes a tick, waiting ones their count;
    nodes reached so far are filled by gradient (``fills``, over the whole pass)."""
    result = {}
    for node in recorded.drawn.nodes:
        node_id = node.id
        if node_id == shown.current:
            badge = ""
        elif node_id in shown.done:
            badge = TICK
        else:
            count = shown.waiting.get(node_id, 0)
            badge = str(count) if count > 0 else ""
        fill = fills.get(node_id, "") if node_id in shown.reached else ""
        result[node_id] = Look(fill, node_id == shown.current, badge)
    return result


def pass_fills(recorded: RecordedPass) -> dict[str, str]:
    """Each drawn node's fill by the gradient that reached it (log ramp over the pass)."""
    return grad_fills(drawn_norms(recorded.trace, recorded.view))


def frames(recorded: RecordedPass, base: GraphSvg) -> Iterator[str]:
    """One complete SVG per step: the graph with that step's looks and labels."""
    fills = pass_fills(recorded)
    for shown in recorded.views():
        yield marked_svg(
            base, looks(recorded, shown, fills), shown.labels, f"{recorded.title}: {shown.caption}"
        )


def page_data(recorded: RecordedPass, base: GraphSvg) -> dict[str, Any]:
    """What the HTML page's script needs: boxes and edge anchors, then per step the
    looks that changed since the previous step, the labels and the texts."""
    fills = pass_fills(recorded)
    previous: dict[str, Look] = {}
    steps = []
    for shown in recorded.views():
        now = looks(recorded, shown, fills)
        changed = {k: v.as_json() for k, v in now.items() if previous.get(k, Look()) != v}
        previous = now
        steps.append(
            {
                "looks": changed,
                "labels": [list(label) for label in shown.labels],
                "caption": shown.caption,
                "rule": _rule(recorded, shown.index),
            }
        )
    return {
        "boxes": {k: [b.left, b.top, b.right, b.bottom] for k, b in base.boxes.items()},
        "anchors": {k: list(v) for k, v in base.anchors.items()},
        "steps": steps,
        "legend": _legend(recorded),
    }


def _rule(recorded: RecordedPass, index: int) -> dict[str, Any]:
    step = recorded.trace.steps[index]
    if step.node_id not in recorded.graph:
        return {"title": step.node_id, "header": "", "rules": [], "lines": []}
    from graphviz_app.core.autograd.chain_rule import explain_step  # torch: loaded by now

    rule = explain_step(recorded.graph.node(step.node_id), step)
    return {
        "title": rule.title,
        "header": rule.header,
        "rules": list(rule.rules),
        "lines": list(rule.lines),
    }


def _legend(recorded: RecordedPass) -> dict[str, Any] | None:
    ramp = GradRamp.over(drawn_norms(recorded.trace, recorded.view))
    if ramp is None:
        return None
    return {"low": f"{ramp.low:.3g}", "high": f"{ramp.high:.3g}", "colors": list(VIRIDIS)}
