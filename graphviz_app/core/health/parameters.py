"""Parameters whose ``.grad`` stayed None or zero, each with the reason found on the graph.

A parameter with no gradient is not reachable from the loss. What cut it off is told
from what forward recorded, most specific first: a ``detach()`` / ``.data`` /
``item()`` / ``no_grad`` point behind which it lies, an output of the model that the
loss does not use, a module that never ran; else it was unused. A parameter whose
gradient is exactly zero is reachable: the report names the node that sent it zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.autograd.cuts import CutPoint
from graphviz_app.core.graph.records import AutogradGraph, Node, NodeKind, TensorInfo
from graphviz_app.core.health.report import (
    CUT,
    FROZEN,
    MODULE_NOT_RUN,
    NO_GRADIENT,
    UNUSED,
    UNUSED_OUTPUT,
    ZERO,
    ParameterFinding,
)


@dataclass(frozen=True)
class ParamState:
    """What one parameter's ``.grad`` was after the checked backward."""

    name: str
    requires_grad: bool
    grad_is_none: bool
    grad_is_zero: bool = False


@dataclass(frozen=True)
class ForwardFacts:
    """What forward recorded that explains a missing gradient."""

    cuts: tuple[CutPoint, ...] = ()
    modules_run: frozenset[str] = frozenset()
    feeds_output: Mapping[str, int] | None = None  # parameter -> an output the loss skips


def parameter_findings(
    graph: AutogradGraph,
    trace: BackwardTrace | None,
    states: Sequence[ParamState],
    facts: ForwardFacts,
) -> tuple[ParameterFinding, ...]:
    """A finding for every parameter whose gradient is None or zero, in model order.

    When backward failed (``trace`` None), the parameters of the graph are left out:
    they got nothing because of that failure, which the report gives on its own."""
    nodes = leaf_nodes(graph)
    findings = []
    for state in states:
        node = nodes.get(state.name)
        if state.grad_is_none and (node is None or trace is not None):
            findings.append(_why_none(state, node, graph, trace, facts))
        elif state.grad_is_zero and node is not None:
            findings.append(_why_zero(state, node, graph, trace))
    return tuple(findings)


def leaf_nodes(graph: AutogradGraph) -> dict[str, Node]:
    """Named leaves -> their AccumulateGrad nodes: parameters, and a script's plain leaf
    tensors (``w1``); a parameter wins over an input of the same name."""
    found: dict[str, Node] = {}
    for kind in (NodeKind.INPUT, NodeKind.PARAMETER):
        for node in graph.nodes:
            if node.kind is kind and node.leaf_name:
                found[node.leaf_name] = node
    return found


def _why_none(
    state: ParamState,
    node: Node | None,
    graph: AutogradGraph,
    trace: BackwardTrace | None,
    facts: ForwardFacts,
) -> ParameterFinding:
    name = state.name
    if not state.requires_grad:
        detail = "frozen: requires_grad=False, so it is not trained (on purpose)"
        return ParameterFinding(name, FROZEN, detail, True)
    if node is not None:
        return _none_arrived(name, node, graph, trace)
    cut = next((c for c in facts.cuts if name in c.params), None)
    if cut is not None:
        detail = f"cut off at {cut.describe()}: no gradient flows back through it"
        return ParameterFinding(name, CUT, detail, True, source=cut.source)
    output = (facts.feeds_output or {}).get(name)
    if output is not None:
        detail = f"it feeds output {output} of the model, which the loss does not use"
        return ParameterFinding(name, UNUSED_OUTPUT, detail, True)
    module = name.rpartition(".")[0]
    if module and module not in facts.modules_run:
        detail = f"unused in forward: module {module} never ran"
        return ParameterFinding(name, MODULE_NOT_RUN, detail, True)
    detail = "unused in forward: no op that reaches the loss used it"
    return ParameterFinding(name, UNUSED, detail, True)


def _none_arrived(
    name: str, node: Node, graph: AutogradGraph, trace: BackwardTrace | None
) -> ParameterFinding:
    """In the graph, yet no gradient: a consumer sent None."""
    assert trace is not None
    for edge in graph.out_edges(node.id):
        step = trace.step_for(edge.target)
        if step is not None and _sent(step.grad_inputs, edge.input_index) is None:
            consumer = graph.node(edge.target)
            detail = (
                f"in the graph, but {consumer.name} sent it no gradient (None): its "
                "backward returns None for this input"
            )
            return ParameterFinding(name, NO_GRADIENT, detail, True, node.id, consumer.id)
    detail = "in the graph, but backward did not run through it"
    return ParameterFinding(name, NO_GRADIENT, detail, True, node.id)


def _why_zero(
    state: ParamState, node: Node, graph: AutogradGraph, trace: BackwardTrace | None
) -> ParameterFinding:
    """Reachable, and every gradient that arrived is 0: name where it became 0."""
    at = _zeroed_at(node, graph, trace) if trace is not None else None
    if at is None:
        detail = "its gradient is 0 everywhere: the gradient given to the root is 0"
        return ParameterFinding(state.name, ZERO, detail, False, node.id)
    consumer = graph.node(at)
    dead = " (every input of this ReLU was negative)" if consumer.name.startswith("Relu") else ""
    detail = (
        f"its gradient is 0 everywhere: {consumer.name}"
        f"{f' ({consumer.op})' if consumer.op else ''} received a gradient but sent 0{dead}"
    )
    return ParameterFinding(state.name, ZERO, detail, False, node.id, at)


def _zeroed_at(node: Node, graph: AutogradGraph, trace: BackwardTrace) -> str | None:
    """The earliest step (engine order) on a path from the root to ``node`` that got a
    non-zero gradient and sent exactly zero towards ``node``."""
    above = _consumers_of(node.id, graph)
    best: tuple[int, str] | None = None
    for edge in graph.edges:
        if edge.target not in above or (edge.source not in above and edge.source != node.id):
            continue
        step = trace.step_for(edge.target)
        if step is None or not any(_non_zero(g) for g in step.grad_outputs):
            continue
        sent = _sent(step.grad_inputs, edge.input_index)
        if sent is not None and not _non_zero(sent) and (best is None or step.index < best[0]):
            best = (step.index, edge.target)
    return best[1] if best else None


def _consumers_of(node_id: str, graph: AutogradGraph) -> set[str]:
    """Every node that (transitively) consumes ``node_id``: the ways to the root."""
    seen: set[str] = set()
    stack = [node_id]
    while stack:
        for edge in graph.out_edges(stack.pop()):
            if edge.target not in seen:
                seen.add(edge.target)
                stack.append(edge.target)
    return seen


def _sent(grads: tuple[TensorInfo | None, ...], index: int) -> TensorInfo | None:
    return grads[index] if index < len(grads) else None


def _non_zero(info: TensorInfo | None) -> bool:
    stats = info.stats if info is not None else None
    return stats is not None and (stats.norm > 0 or stats.has_non_finite)
