"""Shared helpers for the core tests: torchviz as an oracle for the captured graph.

The module is named ``core_helpers`` (not ``helpers``) because ``tests/`` has no
``__init__.py``: pytest puts each test folder on ``sys.path``, and a second
``helpers.py`` elsewhere in ``tests/`` would shadow this one.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

import pytest
import torch

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.autograd.capture import capture_walk
from graphviz_app.core.graph.records import AutogradGraph, TensorInfo
from graphviz_app.core.graph.walk import AutogradWalk, walk_autograd
from graphviz_app.core.layout.dot import NodeBox

with warnings.catch_warnings():
    # torchviz 0.0.3 imports distutils' LooseVersion, which warns on Python >= 3.10.
    warnings.simplefilter("ignore", DeprecationWarning)
    import torchviz

# torchviz draws two kinds of tensors that our graph keeps as node attributes, not as
# nodes: orange ones are the tensors a custom autograd.Function saved
# (``fn.saved_tensors``; ours: ``Node.saved``), dark green ones the base tensor of an
# output that is a view (ours: ``Node.view_base``). They and the edges that tie them
# in (``dir=none`` for saved tensors, ``style=dotted`` from a base to its view, and
# ``grad_fn -> base``) are left out of the comparison.
ATTRIBUTE_FILLS = frozenset({"orange", "darkolivegreen3"})
ATTRIBUTE_EDGE_STYLES = ("dir=none", "style=dotted")

_EDGE_LINE = re.compile(r"\t(\d+) -> (\d+)(?: \[(.*)\])?\n", re.DOTALL)
_NODE_LINE = re.compile(r"\t(\d+) \[(.*)\]\n", re.DOTALL)
_FILL = re.compile(r"fillcolor=(\w+)")


class GraphSets(NamedTuple):
    """A graph as object-id strings: the node set and the edge multiset."""

    nodes: frozenset[str]
    edges: Counter[tuple[str, str]]


def torchviz_sets(
    roots: Sequence[torch.Tensor], params: Mapping[str, torch.Tensor] | None = None
) -> GraphSets:
    """Run ``torchviz.make_dot`` on ``roots`` and read its nodes and edges back."""
    target = roots[0] if len(roots) == 1 else tuple(roots)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        dot = torchviz.make_dot(target, params=dict(params) if params else None)
    fills: dict[str, set[str]] = {}
    raw_edges: list[tuple[str, str, str]] = []
    for line in dot.body:
        edge = _EDGE_LINE.fullmatch(line)
        if edge:
            raw_edges.append((edge.group(1), edge.group(2), edge.group(3) or ""))
            continue
        node = _NODE_LINE.fullmatch(line)
        assert node, f"unexpected torchviz DOT line: {line!r}"
        fill = _FILL.search(node.group(2))
        fills.setdefault(node.group(1), set()).add(fill.group(1) if fill else "")
    dropped = {name for name, seen in fills.items() if seen <= ATTRIBUTE_FILLS}
    edges = Counter(
        (tail, head)
        for tail, head, attrs in raw_edges
        if tail not in dropped
        and head not in dropped
        and not any(style in attrs for style in ATTRIBUTE_EDGE_STYLES)
    )
    return GraphSets(frozenset(fills) - dropped, edges)


def object_ids(walk: AutogradWalk) -> dict[str, str]:
    """Our graph ids -> ``str(id(obj))`` of the live tensor or autograd node."""
    ids = {f"n{i}": str(id(t)) for i, t in enumerate(walk.outputs)}
    ids.update({walk.fn_id(i): str(id(fn)) for i, fn in enumerate(walk.fns)})
    return ids


def our_sets(walk: AutogradWalk, graph: AutogradGraph | None = None) -> GraphSets:
    """Our captured graph in torchviz's terms (object ids; a leaf is two nodes).

    torchviz draws a leaf as its ``AccumulateGrad`` node plus a node for the leaf
    tensor (``fn.variable``) with an edge variable -> AccumulateGrad.
    """
    graph = graph or capture_walk(walk)
    ids = object_ids(walk)
    nodes = {ids[n.id] for n in graph.nodes}
    edges = Counter((ids[e.source], ids[e.target]) for e in graph.edges)
    for i, fn in enumerate(walk.fns):
        if graph.node(walk.fn_id(i)).is_leaf:
            variable = str(id(fn.variable))
            nodes.add(variable)
            edges[(variable, ids[walk.fn_id(i)])] += 1
    return GraphSets(frozenset(nodes), edges)


def compare_with_torchviz(
    roots: Sequence[torch.Tensor], params: Mapping[str, torch.Tensor] | None = None
) -> tuple[GraphSets, GraphSets]:
    """(ours, torchviz's) for the same roots.

    The walk stays alive while torchviz runs, so both see the same Python wrapper
    objects of the autograd nodes (a wrapper's ``id`` can change once it is freed).
    """
    walk = walk_autograd(roots)
    ours = our_sets(walk)
    theirs = torchviz_sets(roots, params)
    del walk
    return ours, theirs


def nodes_named(graph: AutogradGraph, name: str) -> list[str]:
    """Ids of the nodes whose ``name`` (backward class or ``output``) is ``name``."""
    return [n.id for n in graph.nodes if n.name == name]


# Oracles for recorded backward passes (tests/core/test_backward.py).

Grads = tuple[torch.Tensor | None, ...]


@dataclasses.dataclass
class HookedGrads:
    """What our own node hooks saw in a plain backward: real tensors per node index."""

    incoming: dict[int, Grads] = dataclasses.field(default_factory=dict)
    outgoing: dict[int, Grads] = dataclasses.field(default_factory=dict)
    order: list[int] = dataclasses.field(default_factory=list)

    def pre_hook(self, index: int) -> Callable[[Grads], None]:
        def hook(grads: Grads) -> None:
            self.order.append(index)
            self.incoming[index] = _kept(grads)

        return hook

    def post_hook(self, index: int) -> Callable[[Grads, Grads], None]:
        def hook(grads: Grads, _: Grads) -> None:
            self.outgoing[index] = _kept(grads)

        return hook


def _kept(grads: Sequence[torch.Tensor | None]) -> Grads:
    return tuple(None if g is None else g.detach().clone() for g in grads)


def hooked_backward(walk: AutogradWalk, seeds: Sequence[torch.Tensor] | None = None) -> HookedGrads:
    """Run ``torch.autograd.backward`` from ``walk``'s outputs, keeping every node's grads."""
    seen = HookedGrads()
    handles = [fn.register_prehook(seen.pre_hook(i)) for i, fn in enumerate(walk.fns)]
    handles += [fn.register_hook(seen.post_hook(i)) for i, fn in enumerate(walk.fns)]
    seeds = list(seeds) if seeds is not None else [torch.ones_like(t) for t in walk.outputs]
    torch.autograd.backward(walk.outputs, seeds)
    for handle in handles:
        handle.remove()
    return seen


def fn_index(walk: AutogradWalk, node_id: str) -> int:
    """The index in ``walk.fns`` of the node with id ``node_id``."""
    return int(node_id[1:]) - len(walk.outputs)


def leaf_variables(walk: AutogradWalk) -> dict[str, torch.Tensor]:
    """Node id -> leaf tensor, for every AccumulateGrad node of the walk."""
    return {walk.fn_id(i): fn.variable for i, fn in enumerate(walk.fns) if hasattr(fn, "variable")}


def assert_info_matches(info: TensorInfo | None, truth: torch.Tensor | None, rtol: float) -> None:
    """``info`` summarises ``truth``: shape, dtype, norm, min, max, mean, leading values."""
    if truth is None:
        assert info is None
        return
    assert info is not None and info.stats is not None
    assert (info.shape, info.dtype) == (tuple(truth.shape), str(truth.dtype).removeprefix("torch."))
    flat = truth.detach().to(torch.float64).reshape(-1)
    scale = float(flat.abs().max())
    expected = {"norm": flat.norm(), "min": flat.min(), "max": flat.max(), "mean": flat.mean()}
    for key, value in expected.items():
        got = getattr(info.stats, key)
        assert math.isclose(got, float(value), rel_tol=rtol, abs_tol=rtol * scale), (key, got)
    assert len(info.preview) == min(flat.numel(), 64)
    assert info.preview == pytest.approx(flat[: len(info.preview)].tolist(), rel=rtol, abs=0)


def assert_leaf_grads(walk: AutogradWalk, trace: BackwardTrace, rtol: float) -> None:
    """Each AccumulateGrad step's ``leaf_grad_after`` summarises its leaf's ``.grad``."""
    for node_id, variable in leaf_variables(walk).items():
        step = trace.step_for(node_id)
        assert step is not None, node_id
        assert_info_matches(step.leaf_grad_after, variable.grad, rtol)


def assert_infos_close(got: TensorInfo | None, expected: TensorInfo | None, rtol: float) -> None:
    """Two summaries of the same values (taken from differently laid out tensors)."""
    assert got is not None and expected is not None and got.stats and expected.stats
    assert got.shape == expected.shape
    for key in ("norm", "min", "max", "mean"):
        assert getattr(got.stats, key) == pytest.approx(getattr(expected.stats, key), rel=rtol)
    assert got.preview == pytest.approx(expected.preview, rel=rtol)


def assert_steps_match(
    walk: AutogradWalk, trace: BackwardTrace, seen: HookedGrads, rtol: float
) -> None:
    """Every step's incoming and outgoing gradients equal the ones our hooks kept."""
    assert len(trace.steps) == len(seen.order)
    for step in trace.steps:
        index = fn_index(walk, step.node_id)
        pairs = {
            "grad_outputs": (step.grad_outputs, seen.incoming[index]),
            "grad_inputs": (step.grad_inputs, seen.outgoing[index]),
        }
        for what, (recorded, real) in pairs.items():
            assert len(recorded) == len(real), (step.node_id, what)
            for slot, (info, grad) in enumerate(zip(recorded, real, strict=True)):
                try:
                    assert_info_matches(info, grad, rtol)
                except AssertionError as exc:
                    raise AssertionError(f"{step.node_id} {what}[{slot}]: {exc}") from exc


def assert_engine_order(graph: AutogradGraph, walk: AutogradWalk, trace: BackwardTrace) -> None:
    """Each node once; a node after all its consumers; a root's grad_fn first."""
    assert [s.index for s in trace.steps] == list(range(len(trace.steps)))
    position = {s.node_id: s.index for s in trace.steps}
    assert len(position) == len(trace.steps) == len(walk.fns)
    for edge in graph.edges:
        if edge.source in position and edge.target in position:
            assert position[edge.target] < position[edge.source], edge
    assert trace.steps[0].node_id in {walk.fn_id(i) for i in walk.root_fn}


def objects_in(value: object) -> Iterator[object]:
    """``value`` and everything reachable through dataclass fields and containers."""
    yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from objects_in(getattr(value, field.name))
    elif isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            yield from objects_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from objects_in(key)
            yield from objects_in(item)


def central_difference(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """d f / d x by central differences (step 1e-6; use float64), flattened."""
    eps, flat = 1e-6, x.detach().reshape(-1)
    grad = torch.empty_like(flat)
    with torch.no_grad():
        for i in range(flat.numel()):
            step = torch.zeros_like(flat)
            step[i] = eps
            grad[i] = (f((flat + step).view_as(x)) - f((flat - step).view_as(x))) / (2 * eps)
    return grad


#: A plain walk of ``grad_fn`` from some roots, as source text: the oracle subprocess of
#: test_script_oracle.py runs it too (torch untouched by the app there).
PLAIN_WALK = '''
def leaves_and_names(roots):
    """Leaves in a fixed depth-first order, and the classes of every node reached."""
    stack = [r.grad_fn for r in reversed(roots) if r.grad_fn is not None]
    seen, leaves, names = set(), [], []
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        names.append(type(fn).__name__)
        if hasattr(fn, "variable"):
            leaves.append(fn.variable)
        stack.extend(f for f, _ in reversed(fn.next_functions) if f is not None)
    return leaves, sorted(names)
'''
_walk: dict[str, object] = {}
exec(PLAIN_WALK, _walk)
#: ``leaves_and_names(roots) -> (leaf tensors, sorted node class names)``.
leaves_and_names = _walk["leaves_and_names"]


def box_corners(box: NodeBox) -> tuple[float, float, float, float]:
    """A laid-out node's (left, top, right, bottom) in scene pixels."""
    return (
        box.x - box.width / 2,
        box.y - box.height / 2,
        box.x + box.width / 2,
        box.y + box.height / 2,
    )
