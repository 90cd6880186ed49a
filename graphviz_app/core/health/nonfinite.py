"""Where the first NaN and the first Inf came from, in the engine's order.

Backward runs nodes in an order where every node runs after all its consumers; a NaN
(or Inf) that one node sends is received by the nodes after it. So the first step
whose outgoing gradients hold one is where it started: the node anomaly mode
(``torch.autograd.detect_anomaly``) names for NaN, which it does not do for Inf. The
cause is told in words from what the step received and what the node saved.
"""

from __future__ import annotations

import re

from graphviz_app.core.autograd.backward import BackwardStep, BackwardTrace
from graphviz_app.core.autograd.chain_rule import NUMBERS_UP_TO
from graphviz_app.core.graph.records import (
    AutogradGraph,
    Node,
    NodeKind,
    SourceLocation,
    TensorInfo,
)
from graphviz_app.core.health.report import INF, NAN, NonFiniteOrigin

_SUFFIX = re.compile(r"Backward\d*$")
_WORD = {NAN: "NaN", INF: "Inf"}
#: (op, kind) -> how a finite gradient in became a NaN / Inf out.
OP_CAUSES: dict[tuple[str, str], str] = {
    ("Sqrt", INF): "d sqrt(x)/dx = 1 / (2 sqrt(x)) is infinite at x = 0",
    ("Sqrt", NAN): "1 / (2 sqrt(x)) is infinite at x = 0, where the gradient it received "
    "is 0: 0 x inf = NaN",
    ("Log", INF): "d log(x)/dx = 1 / x is infinite at x = 0",
    ("Log", NAN): "grad / x = 0 / 0 at x = 0: the gradient it received is 0 there (a "
    "branch torch.where did not take still runs backward)",
    ("Div", INF): "grad / other divides by zero: other is 0",
    ("Div", NAN): "grad / other = 0 / 0: other is 0 where the gradient it received is 0 "
    "(a branch torch.where did not take still runs backward)",
    ("Pow", INF): "x^(p - 1) is infinite at x = 0 for an exponent p < 1",
    ("Pow", NAN): "p x^(p - 1) is NaN at x = 0 (0 x inf) or for x < 0",
    ("Rsqrt", INF): "d x^(-1/2)/dx = -x^(-3/2) / 2 is infinite at x = 0",
    ("Reciprocal", INF): "d (1/x)/dx = -1 / x^2 is infinite at x = 0",
    ("Acos", INF): "d acos(x)/dx = -1 / sqrt(1 - x^2) is infinite at x = +-1",
    ("Asin", INF): "d asin(x)/dx = 1 / sqrt(1 - x^2) is infinite at x = +-1",
}
GENERIC_CAUSE = "its local derivative is not finite at these inputs"


def first_in_backward(
    graph: AutogradGraph, trace: BackwardTrace, kind: str
) -> NonFiniteOrigin | None:
    """The first step (engine order) whose outgoing gradients hold a ``kind`` (NAN/INF)."""
    for step in trace.steps:
        count = sum(_count(g, kind) for g in step.grad_inputs)
        if count and step.node_id in graph:
            node = graph.node(step.node_id)
            return _origin(node, kind, step, count, graph)
    return None


def first_in_forward(graph: AutogradGraph) -> NonFiniteOrigin | None:
    """When the loss (a root) is NaN or Inf, the first value of the forward pass that
    held one: a parameter first, else the earliest op (by ``sequence_nr``: the order
    forward made them). None while the roots are finite: an Inf that a mask hides
    (attention's ``-inf`` fill) is no problem by itself."""
    if not any(_non_finite(graph.node(root).tensor) for root in graph.roots):
        return None
    made = [n for n in graph.nodes if n.kind is not NodeKind.OUTPUT and _non_finite(n.tensor)]
    if not made:
        return None
    node = min(made, key=lambda n: (not n.is_leaf, n.sequence_nr or 0))
    stats = node.tensor.stats if node.tensor else None
    kind = NAN if stats is not None and stats.nan_count else INF
    cause = (
        f"the parameter {node.title} itself holds {_WORD[kind]}: an earlier step diverged "
        "(reset the weights, lower the learning rate)"
        if node.is_leaf
        else f"{node.op or node.name} made {_WORD[kind]} in forward"
    )
    return NonFiniteOrigin(
        kind=kind,
        index=-1,
        node_id=node.id,
        node=node.name,
        op=node.op,
        module=node.module,
        source=_source(graph, node),
        count=_count(node.tensor, kind),
        received="",
        sent=_words(node.tensor),
        cause=cause,
    )


def _origin(
    node: Node, kind: str, step: BackwardStep, count: int, graph: AutogradGraph
) -> NonFiniteOrigin:
    received = [g for g in step.grad_outputs if g is not None]
    sent = [g for g in step.grad_inputs if g is not None and _count(g, kind)]
    return NonFiniteOrigin(
        kind=kind,
        index=step.index,
        node_id=node.id,
        node=node.name,
        op=node.op,
        module=node.module,
        source=_source(graph, node),
        count=count,
        received=", ".join(_words(g) for g in received) or "nothing",
        sent=", ".join(_words(g) for g in sent),
        cause=_cause(node, kind, received),
    )


def _cause(node: Node, kind: str, received: list[TensorInfo]) -> str:
    word = _WORD[kind]
    if any(_count(g, kind) for g in received):
        return (
            f"it received {word} already: the gradients its consumers sent summed to "
            "inf - inf, or the gradient given to the root holds one"
        )
    forward = [v.tensor for v in node.saved if v.tensor is not None] + [node.tensor]
    bad = [t for t in forward if _non_finite(t)]
    if bad:
        return (
            f"its forward values already hold NaN/Inf ({node.op or node.name} at 0, or an "
            "overflow); the loss does not show them (masked, or multiplied by 0), but "
            "backward multiplies by them: 0 x inf = NaN"
        )
    if kind == NAN and any(g.stats is not None and g.stats.inf_count for g in received):
        return (
            "inf x 0: the Inf it received met a 0 in its local derivative (0 x inf and "
            "inf - inf are NaN)"
        )
    op = _SUFFIX.sub("", node.name)
    return OP_CAUSES.get((op, kind), GENERIC_CAUSE)


def _count(info: TensorInfo | None, kind: str) -> int:
    stats = info.stats if info is not None else None
    if stats is None:
        return 0
    return stats.nan_count if kind == NAN else stats.inf_count


def _non_finite(info: TensorInfo | None) -> bool:
    return info is not None and info.stats is not None and info.stats.has_non_finite


def _words(info: TensorInfo | None) -> str:
    """Values when few, else the shape with its NaN/Inf counts (or its norm)."""
    if info is None or info.stats is None:
        return info.shape_text if info is not None else "None"
    if info.preview and not info.preview_truncated and len(info.preview) <= NUMBERS_UP_TO:
        return "[" + ", ".join(f"{v:.4g}" for v in info.preview) + "]"
    stats = info.stats
    if stats.has_non_finite:
        return f"{info.shape_text} with {stats.non_finite_text}"
    return f"{info.shape_text} with norm {stats.norm:.4g}"


def _consumer(graph: AutogradGraph, node: Node) -> Node | None:
    """The first annotated node that consumes ``node`` (an op made inside a C++ composite
    such as ``nn.Linear``'s TBackward0 has its consumer's forward line)."""
    seen, frontier = {node.id}, [node.id]
    while frontier:
        current = frontier.pop(0)
        for edge in graph.out_edges(current):
            consumer = graph.node(edge.target)
            if consumer.source is not None:
                return consumer
            if edge.target not in seen:
                seen.add(edge.target)
                frontier.append(edge.target)
    return None


def _source(graph: AutogradGraph, node: Node) -> SourceLocation | None:
    """The user's line of ``node``'s forward op (its consumer's, for a composite's part)."""
    if node.source is not None or node.is_leaf:
        return node.source
    consumer = _consumer(graph, node)
    return consumer.source if consumer is not None else None
