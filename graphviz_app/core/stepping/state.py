"""What a picture of a recorded backward pass shows at step ``i``, as plain data.

The window's stepper, the exported walk-through (HTML and SVG frames) and the command
line's ``--grads`` all draw from here, so they agree. At step ``i`` the node of step
``i`` is executing; nodes whose every run came before it are done; the others wait
for the gradients their consumers have not sent yet. Nodes reached so far (and the
current one) are filled by the magnitude of the gradient that reached them, on a log
scale over the whole pass, so a node's colour does not change as later steps run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphviz_app.core.graph.collapse import VisibleGraph, group_grad_norms
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import edge_id
from graphviz_app.core.layout.style import grad_fills, grad_text

if TYPE_CHECKING:
    from graphviz_app.core.autograd.backward import BackwardStep, BackwardTrace


@dataclass(frozen=True)
class StepView:
    """The picture at one step; node ids are drawn ids (a collapsed module stands for
    the nodes inside it), except ``waiting``, which counts per captured node."""

    index: int
    count: int  # steps in the pass
    current: str  # the node executing
    done: frozenset[str]  # ran before this step and not again
    waiting: Mapping[str, int]  # gradients each node still waits for
    reached: frozenset[str]  # reached by backward so far (the current node included)
    labels: tuple[tuple[str, str], ...]  # (edge id, gradient sent) into the current node
    caption: str  # "Step 3/11: fc2.weight receives (4, 16) |g|=0.52"


def step_view(
    graph: AutogradGraph, trace: BackwardTrace, index: int, view: VisibleGraph | None = None
) -> StepView:
    """The picture of ``trace`` (over ``graph``, drawn as ``view``) at step ``index``."""
    owner = view.owner if view is not None else {}
    steps = trace.steps
    step = steps[index]

    def drawn(node_id: str) -> str:
        return owner.get(node_id, node_id)

    later = {drawn(s.node_id) for s in steps[index:]}
    return StepView(
        index=index,
        count=len(steps),
        current=drawn(step.node_id),
        done=frozenset(drawn(s.node_id) for s in steps[:index]) - later,
        waiting=_pending(graph, trace, index - 1),
        reached=frozenset(drawn(s.node_id) for s in steps[: index + 1]),
        labels=edge_labels(graph, step),
        caption=step_caption(graph, step, len(steps)),
    )


def edge_labels(graph: AutogradGraph, step: BackwardStep) -> tuple[tuple[str, str], ...]:
    """(edge id, text) for each gradient the step's node sends along its input edges."""
    labels = []
    for edge in graph.in_edges(step.node_id) if step.node_id in graph else ():
        if edge.input_index < len(step.grad_inputs):
            grad = step.grad_inputs[edge.input_index]
            if grad is not None:
                labels.append((edge_id(edge), grad_text(grad)))
    return tuple(labels)


def step_caption(graph: AutogradGraph, step: BackwardStep, count: int) -> str:
    """``Step 3/11: fc2.weight receives (4, 16) |g|=0.52``."""
    title = graph.node(step.node_id).title if step.node_id in graph else step.node_id
    incoming = ", ".join(grad_text(g) for g in step.grad_outputs if g) or "none"
    return f"Step {step.index + 1}/{count}: {title} receives {incoming}"


def drawn_norms(trace: BackwardTrace, view: VisibleGraph | None = None) -> dict[str, float]:
    """Gradient norm per drawn node over the whole pass (a group: its largest)."""
    norms = trace.grad_norms()
    return group_grad_norms(view, norms) if view is not None else norms


def reached_fills(
    trace: BackwardTrace, view: VisibleGraph | None, reached: frozenset[str]
) -> dict[str, str]:
    """Fill colours by gradient for the ``reached`` drawn nodes (ramp over the pass)."""
    return {k: v for k, v in grad_fills(drawn_norms(trace, view)).items() if k in reached}


def grad_marks(
    trace: BackwardTrace, drawn: AutogradGraph, view: VisibleGraph | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """For a picture of the whole pass: each drawn node's fill by the gradient that
    reached it (a collapsed module: its largest), and a last label line with that
    gradient (``grad (16, 8) |g|=0.3``) on each node drawn as itself."""
    lines = {
        step.node_id: "grad " + ", ".join(grad_text(g) for g in step.grad_outputs if g)
        for step in trace.steps
        if step.node_id in drawn and any(step.grad_outputs)
    }
    fills = {k: v for k, v in grad_fills(drawn_norms(trace, view)).items() if k in drawn}
    return fills, lines


def _pending(graph: AutogradGraph, trace: BackwardTrace, upto: int) -> dict[str, int]:
    # Imported here: the window builds its stepper before torch has loaded.
    from graphviz_app.core.autograd.backward import pending_counts

    return pending_counts(graph, trace, upto)
