"""Parameters whose ``.grad`` stayed None or zero, each with the reason found on the graph.

A parameter with no gradient is not reachable from the loss. What cut it off is told
from what forward recorded, most specific first: a ``detach()`` / ``.data`` /
``item()`` / ``no_grad`` point behind which it lies, an output of the model that the
loss does not use, a module that never ran; else it was unused. A parameter whose
gradient is exactly zero is reachable: the report names the node that sent it zero, or
the node where the non-zero gradients of several uses cancel.

Two findings are listed but are not problems (``expected``): a tensor cut (``detach()``,
``.data``, ``no_grad``) behind which lie only parameters that another of the script's
optimizers trains, one holding none of those this backward reaches (a GAN's critic step:
the generator behind ``fake.detach()``, ``opt_g``); and uses that cancel exactly (a WGAN
critic's last bias in ``critic(fake).mean() - critic(real).mean()``): the loss does not
depend on it, which is the loss's own doing, not a broken graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.autograd.cuts import INFERENCE_MODE, NO_GRAD, CutPoint
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
    #: parameter -> the user's optimizer that trains it while holding none of the
    #: parameters this backward reaches (a script's call: a GAN's generator, opt_g)
    trained_elsewhere: Mapping[str, str] | None = None


#: Said of a cut that may be on purpose, when the check cannot tell that it is.
MAYBE_INTENDED = " (intended if another backward trains it, as in a GAN's critic step)"
#: Cuts that keep a tensor (not a Python number): the ones code makes on purpose.
TENSOR_CUTS = frozenset({"detach()", "detach_()", ".data", NO_GRAD, INFERENCE_MODE})


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
        return _cut_off(name, cut, (facts.trained_elsewhere or {}).get(name))
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


def _cut_off(name: str, cut: CutPoint, optimizer: str | None) -> ParameterFinding:
    """Cut off at ``cut``; expected when ``optimizer`` (the user's) trains it apart and
    the cut keeps a tensor (a Python number, ``item()``, is never a GAN's cut)."""
    where = f"cut off at {cut.describe()}"
    if optimizer is None or cut.kind not in TENSOR_CUTS:
        maybe = MAYBE_INTENDED if cut.kind in TENSOR_CUTS else ""
        detail = f"{where}: no gradient flows back through it{maybe}"
        return ParameterFinding(name, CUT, detail, True, source=cut.source)
    detail = (
        f"{where}: intended in GAN-style training? {optimizer} trains it, and none of "
        "the parameters this backward reaches: not counted as a problem"
    )
    return ParameterFinding(name, CUT, detail, True, source=cut.source, expected=True)


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
    """Reachable, and every gradient that arrived is 0: name where it became 0 (a node
    that got a gradient and sent 0, or one where non-zero gradients summed to 0)."""
    at = _zeroed_at(node, graph, trace) if trace is not None else None
    if at is None:
        return _zero_without_a_zeroing_node(state, node, graph, trace)
    consumer = graph.node(at)
    dead = " (every input of this ReLU was negative)" if consumer.name.startswith("Relu") else ""
    detail = (
        f"its gradient is 0 everywhere: {consumer.name}"
        f"{f' ({consumer.op})' if consumer.op else ''} received a gradient but sent 0{dead}"
    )
    return ParameterFinding(state.name, ZERO, detail, False, node.id, at)


def _zero_without_a_zeroing_node(
    state: ParamState, node: Node, graph: AutogradGraph, trace: BackwardTrace | None
) -> ParameterFinding:
    """No node sent 0 on its own: the gradients of several uses cancelled where the
    engine summed them (``critic(fake).mean() - critic(real).mean()`` for the critic's
    last bias: +1 and -1), or the root was given 0."""
    cancelled = _cancelled_at(node, graph, trace) if trace is not None else None
    if cancelled is not None:
        at, senders = cancelled
        names = " and ".join(graph.node(s).name for s in senders)
        where = "its own AccumulateGrad" if at == node.id else graph.node(at).title
        detail = (
            f"its gradient is exactly 0: the non-zero gradients of {len(senders)} uses "
            f"(from {names}) cancel where they are summed, at {where}: to first "
            "order the loss does not change with it, by the loss's own form (not a "
            "broken graph): not counted as a problem"
        )
        return ParameterFinding(state.name, ZERO, detail, False, node.id, at, expected=True)
    if trace is not None and _root_given_zero(graph, trace):
        detail = "its gradient is 0 everywhere: the gradient given to the root is 0"
    else:
        detail = "its gradient is 0 everywhere: what reached it cancelled or underflowed to 0"
    return ParameterFinding(state.name, ZERO, detail, False, node.id)


def _cancelled_at(
    node: Node, graph: AutogradGraph, trace: BackwardTrace
) -> tuple[str, list[str]] | None:
    """The first node (engine order) between the root and ``node`` that received
    exactly 0 although at least two of its consumers sent it a non-zero gradient
    (the engine sums them before the node runs), and those consumers."""
    steps = [trace.step_for(n) for n in (node.id, *_consumers_of(node.id, graph))]
    for step in sorted((s for s in steps if s is not None), key=lambda s: s.index):
        if any(_non_zero(g) for g in step.grad_outputs):
            continue
        senders = [
            edge.target
            for edge in graph.out_edges(step.node_id)
            if _non_zero(_sent_along(edge.target, edge.input_index, trace))
        ]
        if len(senders) >= 2:
            return step.node_id, senders
    return None


def _sent_along(consumer: str, index: int, trace: BackwardTrace) -> TensorInfo | None:
    step = trace.step_for(consumer)
    return _sent(step.grad_inputs, index) if step is not None else None


def _root_given_zero(graph: AutogradGraph, trace: BackwardTrace) -> bool:
    """Every root (a step no recorded step sends to) received exactly 0."""
    ran = {step.node_id for step in trace.steps}
    roots = [s for s in trace.steps if not any(e.target in ran for e in graph.out_edges(s.node_id))]
    return bool(roots) and not any(_non_zero(g) for s in roots for g in s.grad_outputs)


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
