"""Shared helpers for the core tests: torchviz as an oracle for the captured graph.

The module is named ``core_helpers`` (not ``helpers``) because ``tests/`` has no
``__init__.py``: pytest puts each test folder on ``sys.path``, and a second
``helpers.py`` elsewhere in ``tests/`` would shadow this one.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch

from graphviz_app.core.capture import capture_walk
from graphviz_app.core.graph import AutogradGraph
from graphviz_app.core.walk import AutogradWalk, walk_autograd

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
