"""Repeated blocks: sibling modules with identical insides (transformer layers, the
blocks of a ResNet stage), found in a captured graph and drawn folded ("x11").

Two modules are repeats when the nodes inside them match one for one (class name,
kind, forward op, path relative to the module, tensor shape) in discovery order and
their internal edges match too. Only siblings that ran one after another form a run, so a folded
node stands for one contiguous stretch of the model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphviz_app.core.graph.collapse import Fold, VisibleGraph, visible_graph
from graphviz_app.core.graph.records import AutogradGraph, Node, NodeKind, module_prefixes

#: A run needs at least this many modules to be worth folding (one shown, two folded).
MIN_RUN = 3
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class RepeatRun:
    """Consecutive sibling modules under ``parent`` with identical structure."""

    parent: str  # "" for the model's own children
    modules: tuple[str, ...]
    signature: str
    type_name: str | None = None

    def fold(self) -> Fold:
        """The fold that keeps the first module drawn and folds the others."""
        return Fold(self.modules[0], self.modules[1:], self.type_name)


def detect_repeats(
    graph: AutogradGraph,
    module_types: Mapping[str, str] | None = None,
    min_run: int = MIN_RUN,
) -> tuple[RepeatRun, ...]:
    """Every run of at least ``min_run`` consecutive identical sibling modules,
    outer modules first (a run inside a repeated block is listed for each block)."""
    members = _members_by_module(graph)
    internal = _internal_edges(graph, members)
    children: dict[str, list[str]] = {}
    for path in members:
        children.setdefault(path.rpartition(".")[0], []).append(path)
    runs: list[RepeatRun] = []
    types = module_types or {}
    for parent in sorted(children, key=lambda p: (p.count(".") if p else -1, _natural(p))):
        siblings = sorted(children[parent], key=lambda m: _forward_order(members[m], m))
        signatures = [structure_signature(members[m], m, internal[m]) for m in siblings]
        for start, stop in _equal_stretches(signatures, min_run):
            modules = tuple(siblings[start:stop])
            runs.append(RepeatRun(parent, modules, signatures[start], types.get(modules[0])))
    return tuple(runs)


def outermost_runs(runs: Iterable[RepeatRun]) -> tuple[RepeatRun, ...]:
    """The runs not inside a module of another run (what folding everything shows)."""
    runs = list(runs)
    inside = {m for run in runs for m in run.modules}
    return tuple(r for r in runs if not any(_within(r.parent, m) for m in inside))


def folded_view(
    graph: AutogradGraph,
    runs: Iterable[RepeatRun],
    collapsed: Iterable[str] = (),
    module_types: Mapping[str, str] | None = None,
    grad_norms: Mapping[str, float] | None = None,
) -> VisibleGraph:
    """``graph`` drawn with each of ``runs`` folded: its first module as ``collapsed``
    says (expanded unless listed), the others as one node titled with their count."""
    folds = [run.fold() for run in outermost_runs(runs)]
    return visible_graph(graph, collapsed, folds, module_types, grad_norms)


def structure_signature(nodes: list[Node], module: str, edges: list[tuple[int, int, int]]) -> str:
    """A hash of ``module``'s insides, independent of the module's own path and ids."""
    digest = hashlib.sha256()
    cut = len(module)
    for node in nodes:
        rel = node.module[cut:] if node.module else ""
        shape = node.tensor.shape if node.tensor is not None else None
        digest.update(f"{node.name}|{node.kind.value}|{node.op}|{rel}|{shape}\n".encode())
    for edge in edges:
        digest.update(f"{edge}\n".encode())
    return digest.hexdigest()[:20]


def _members_by_module(graph: AutogradGraph) -> dict[str, list[Node]]:
    """Module path -> the nodes inside it (at any depth), in graph order."""
    members: dict[str, list[Node]] = {}
    prefixes: dict[str, list[str]] = {}
    for node in graph.nodes:
        if node.module is None or node.kind is NodeKind.OUTPUT:
            continue
        if node.module not in prefixes:
            prefixes[node.module] = module_prefixes(node.module)
        for path in prefixes[node.module]:
            members.setdefault(path, []).append(node)
    return members


def _internal_edges(
    graph: AutogradGraph, members: dict[str, list[Node]]
) -> dict[str, list[tuple[int, int, int]]]:
    """Module path -> its internal edges as (local source, local target, input index)."""
    local = {path: {n.id: i for i, n in enumerate(nodes)} for path, nodes in members.items()}
    edges: dict[str, list[tuple[int, int, int]]] = {path: [] for path in members}
    modules = {n.id: n.module for n in graph.nodes if n.kind is not NodeKind.OUTPUT}
    for edge in graph.edges:
        module = modules.get(edge.target)
        while module:
            index = local[module]
            if edge.source in index and edge.target in index:
                edges[module].append((index[edge.source], index[edge.target], edge.input_index))
            module = module.rpartition(".")[0]
    for found in edges.values():
        found.sort()
    return edges


def _equal_stretches(signatures: list[str], min_run: int) -> list[tuple[int, int]]:
    stretches, start = [], 0
    for i in range(1, len(signatures) + 1):
        if i == len(signatures) or signatures[i] != signatures[start]:
            if i - start >= min_run:
                stretches.append((start, i))
            start = i
    return stretches


def _forward_order(nodes: list[Node], module: str) -> tuple[int, list[object]]:
    """When a module first ran: the smallest sequence number of its ops (leaves have
    none that means anything), then its name; so runs follow the forward pass."""
    ops = [n.sequence_nr for n in nodes if not n.is_leaf and n.sequence_nr is not None]
    return (min(ops) if ops else 1 << 62, _natural(module))


def _natural(path: str) -> list[object]:
    """``h.10`` after ``h.9``: numbers compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(path)]


def _within(module: str, ancestor: str) -> bool:
    return module == ancestor or module.startswith(ancestor + ".")
