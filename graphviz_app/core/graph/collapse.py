"""Collapse ``nn.Module`` subtrees of a captured graph into single module nodes.

The result is an ordinary :class:`AutogradGraph` (nodes of kind ``MODULE`` stand
for collapsed modules and folded repeats, edges between groups are merged), so
layout, scene and export handle a collapsed graph exactly like a full one.
:func:`visible_graph` also says which captured nodes each drawn node stands for,
how many captured edges each drawn edge stands for, and per group its parameter
count and (given gradient norms) aggregated gradient statistics.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graphviz_app.core.graph.records import AutogradGraph, Edge, Node, NodeKind, module_prefixes

GROUP_PREFIX = "module_"
FOLD_PREFIX = "fold_"
#: Above this many drawn nodes a layout is never attempted: graphviz-pure needs
#: about 5 s for 5,000 nodes and grows as n^2.3 (37 s for 6,000 with Debian's dot).
LAYOUT_HARD_CAP = 5000


class LayoutTooLargeError(ValueError):
    """Even fully collapsed, the graph has more nodes than can be laid out."""


def group_id(module: str) -> str:
    """The node id of a collapsed module: stable, and safe in DOT (no ``:`` port syntax)."""
    return GROUP_PREFIX + hashlib.sha1(module.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Fold:
    """Repeated sibling modules drawn as one node ("x11"); ``shown`` is the instance
    that stays drawn (expanded or collapsed) beside it, ``modules`` are folded."""

    shown: str
    modules: tuple[str, ...]
    type_name: str | None = None

    @property
    def id(self) -> str:
        """The node id of the folded node."""
        return FOLD_PREFIX + hashlib.sha1(self.modules[0].encode("utf-8")).hexdigest()[:10]

    @property
    def title(self) -> str:
        """``h.1 .. h.11 x11``: the folded range and its count."""
        return f"{self.modules[0]} .. {self.modules[-1]} x{len(self.modules)}"


@dataclass(frozen=True)
class GradSummary:
    """Gradient norms aggregated over a group's members (from a backward pass)."""

    count: int  # members a gradient reached
    max_norm: float  # the largest norm that reached any member
    parameter_norm: float  # norm of all its parameters' gradients taken together
    non_finite: int  # members whose gradient norm is NaN or infinite


@dataclass(frozen=True)
class GroupSummary:
    """What one drawn module node (collapsed module or fold) stands for."""

    id: str
    module: str  # the collapsed module, or a fold's first folded module
    type_name: str | None  # the module's class name, when known
    members: tuple[str, ...]  # ids of the captured nodes inside it
    modules: tuple[str, ...]  # the modules it holds (several for a fold)
    parameter_tensors: int
    parameter_values: int
    grad: GradSummary | None = None


@dataclass(frozen=True)
class VisibleGraph:
    """A drawn graph and how it maps onto the captured one.

    ``owner`` maps every captured node id to the drawn node that holds it (itself when
    not grouped); ``edge_counts`` maps each drawn (source, target) pair to the number
    of captured edges it stands for.
    """

    graph: AutogradGraph
    owner: Mapping[str, str]
    groups: Mapping[str, GroupSummary] = field(default_factory=dict)
    edge_counts: Mapping[tuple[str, str], int] = field(default_factory=dict)


def module_paths(graph: AutogradGraph) -> list[str]:
    """Every module path that owns a node, with all its ancestors, sorted."""
    paths: set[str] = set()
    for module in {n.module for n in graph.nodes if n.module}:
        paths.update(module_prefixes(module))
    return sorted(paths)


def modules_at_depth(graph: AutogradGraph, depth: int) -> frozenset[str]:
    """The modules to collapse to show ``depth`` levels (1 = top-level children only,
    0 = the whole model as one node)."""
    if depth < 1:
        return frozenset({""})
    return frozenset(p for p in module_paths(graph) if p.count(".") == depth - 1)


def module_types(named_modules: Iterable[tuple[str, object]]) -> dict[str, str]:
    """Module path -> class name, from ``model.named_modules()``."""
    return {name: type(module).__name__ for name, module in named_modules if name}


def collapse_modules(graph: AutogradGraph, collapsed: Iterable[str]) -> AutogradGraph:
    """``graph`` with every node inside a module of ``collapsed`` merged into one node.

    A module nested in another collapsed module is absorbed by the outer one.
    Edges inside a group disappear; parallel edges between two groups are merged.
    """
    if not set(collapsed):
        return graph
    return visible_graph(graph, collapsed).graph


def visible_graph(
    graph: AutogradGraph,
    collapsed: Iterable[str] = (),
    folds: Iterable[Fold] = (),
    module_types: Mapping[str, str] | None = None,
    grad_norms: Mapping[str, float] | None = None,
) -> VisibleGraph:
    """The graph as drawn with ``collapsed`` modules and ``folds``, and its mapping.

    An outer collapsed module or fold absorbs what is inside it. ``module_types``
    (see :func:`module_types`) adds class names to group titles; ``grad_norms`` (node
    id -> norm of the gradient that reached it) fills each group's :class:`GradSummary`.
    """
    resolver = _Resolver(set(collapsed), list(folds))
    if not resolver.groups:
        return VisibleGraph(graph, {n.id: n.id for n in graph.nodes}, {}, _edge_counts(graph, {}))
    owner_group = {n.id: resolver.group_of(n) for n in graph.nodes}
    owner = {key: key if g is None else g for key, g in owner_group.items()}
    members: dict[str, list[Node]] = {}
    for node in graph.nodes:
        members.setdefault(owner[node.id], []).append(node)
    types = module_types or {}
    groups = {
        key: _summary(key, resolver.groups[key], group, types, grad_norms)
        for key, group in members.items()
        if owner_group[group[0].id] is not None
    }
    nodes = tuple(
        _group_node(groups[key], resolver.folds.get(key)) if key in groups else group[0]
        for key, group in members.items()
    )
    drawn = AutogradGraph(nodes, tuple(_merged_edges(graph, owner)), graph.roots, graph.meta)
    return VisibleGraph(drawn, owner, groups, _edge_counts(graph, owner))


class _Resolver:
    """Which group (collapsed module or fold) absorbs a node: the outermost one."""

    def __init__(self, collapsed: set[str], folds: list[Fold]) -> None:
        self.groups: dict[str, tuple[str, ...]] = {group_id(m): (m,) for m in collapsed}
        self.folds = {fold.id: fold for fold in folds}
        self._by_module = {m: group_id(m) for m in collapsed}
        for fold in folds:
            self.groups[fold.id] = fold.modules
            self._by_module.update((m, fold.id) for m in fold.modules)  # a fold wins
        self._cache: dict[str, str | None] = {}

    def group_of(self, node: Node) -> str | None:
        if node.module is None or node.kind is NodeKind.OUTPUT:
            return None
        module = node.module
        if module not in self._cache:
            self._cache[module] = self._outermost(module)
        return self._cache[module]

    def _outermost(self, module: str) -> str | None:
        whole_model = self._by_module.get("")  # "" is the model itself: it holds every path
        if whole_model is not None:
            return whole_model
        start = 0
        while True:
            end = module.find(".", start)
            prefix = module if end < 0 else module[:end]
            found = self._by_module.get(prefix)
            if found is not None or end < 0:
                return found
            start = end + 1


def _summary(
    key: str,
    modules: tuple[str, ...],
    group: list[Node],
    types: Mapping[str, str],
    grad_norms: Mapping[str, float] | None,
) -> GroupSummary:
    params = [n for n in group if n.kind is NodeKind.PARAMETER]
    return GroupSummary(
        id=key,
        module=modules[0],
        type_name=types.get(modules[0]),
        members=tuple(n.id for n in group),
        modules=modules,
        parameter_tensors=len(params),
        parameter_values=sum(_numel(n) for n in params),
        grad=None if grad_norms is None else _grad_summary(group, params, grad_norms),
    )


def _grad_summary(group: list[Node], params: list[Node], norms: Mapping[str, float]) -> GradSummary:
    reached = [norms[n.id] for n in group if n.id in norms]
    finite = [v for v in reached if math.isfinite(v)]
    squares = sum(norms[n.id] ** 2 for n in params if n.id in norms)
    return GradSummary(
        count=len(reached),
        max_norm=max(finite, default=0.0),
        parameter_norm=math.sqrt(squares),
        non_finite=len(reached) - len(finite),
    )


def _group_node(summary: GroupSummary, fold: Fold | None) -> Node:
    params = _plural(summary.parameter_tensors, "parameter")
    text = f"{_plural(len(summary.members), 'node')}, {params}"
    if summary.parameter_values:
        text += f" ({summary.parameter_values:,} values)"
    if summary.grad is not None and summary.grad.count:
        text += f", |g| max {summary.grad.max_norm:.3g}"
    if fold is not None:
        kind = f" {fold.type_name}" if fold.type_name else ""
        title, text = fold.title, f"{len(fold.modules)}{kind} like {fold.shown}: {text}"
    else:
        name = summary.module or "the whole model"
        title = f"{name} ({summary.type_name or 'collapsed'})"
    return Node(
        id=summary.id, name=text, kind=NodeKind.MODULE, module=summary.module, leaf_name=title
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _numel(node: Node) -> int:
    total = 1
    for dim in node.tensor.shape if node.tensor else ():
        total *= dim
    return total


def _merged_edges(graph: AutogradGraph, owner: Mapping[str, str]) -> list[Edge]:
    seen: set[tuple[str, str]] = set()
    edges = []
    for edge in graph.edges:
        source, target = owner[edge.source], owner[edge.target]
        if source == target:
            continue
        if source == edge.source and target == edge.target:
            edges.append(edge)  # untouched by collapsing: keep it exactly
        elif (source, target) not in seen:
            seen.add((source, target))
            edges.append(Edge(source, target, edge.input_index, edge.output_nr, edge.grad))
    return edges


def _edge_counts(graph: AutogradGraph, owner: Mapping[str, str]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for edge in graph.edges:
        pair = (owner.get(edge.source, edge.source), owner.get(edge.target, edge.target))
        if pair[0] != pair[1]:
            counts[pair] = counts.get(pair, 0) + 1
    return counts


def group_grad_summary(
    view: VisibleGraph, graph: AutogradGraph, group_id: str, grad_norms: Mapping[str, float]
) -> GradSummary | None:
    """The gradient norms that reached the nodes inside drawn group ``group_id``
    (None when it is not a group): how many, the largest, and the norm of all its
    parameters' gradients together."""
    group = view.groups.get(group_id)
    if group is None:
        return None
    members = [graph.node(m) for m in group.members if m in graph]
    params = [n for n in members if n.kind is NodeKind.PARAMETER]
    return _grad_summary(members, params, grad_norms)


def group_grad_norms(view: VisibleGraph, grad_norms: Mapping[str, float]) -> dict[str, float]:
    """``grad_norms`` for the drawn nodes: a group gets its members' largest norm
    (NaN/inf when any member's is), so colouring by gradient covers groups too."""
    drawn: dict[str, float] = {}
    for node_id, norm in grad_norms.items():
        key = view.owner.get(node_id)
        if key is None:
            continue
        old = drawn.get(key)
        if old is None or not math.isfinite(norm) or (math.isfinite(old) and norm > old):
            drawn[key] = norm
    return drawn


def count_visible(
    graph: AutogradGraph, collapsed: Iterable[str], folds: Iterable[Fold] = ()
) -> int:
    """How many nodes :func:`visible_graph` would draw, without building it."""
    resolver = _Resolver(set(collapsed), list(folds))
    keys = {resolver.group_of(n) or n.id for n in graph.nodes}
    return len(keys)


def fitting_collapse(
    graph: AutogradGraph, limit: int, folds: Iterable[Fold] = ()
) -> frozenset[str] | None:
    """The modules to collapse so that at most ``limit`` nodes are drawn beside
    ``folds``, keeping as many levels open as fit; None when everything fits already.

    Big models open this way: laying out thousands of nodes at once takes Graphviz
    tens of seconds, a module level at a time takes a fraction of one.
    """
    folds = list(folds)
    if count_visible(graph, frozenset(), folds) <= limit:
        return None
    paths = module_paths(graph)
    deepest = max((p.count(".") + 1 for p in paths), default=0)
    chosen = modules_at_depth(graph, 1)
    for depth in range(2, deepest + 1):
        candidate = modules_at_depth(graph, depth) | _shallower_leaves(paths, depth)
        if count_visible(graph, candidate, folds) > limit:
            break
        chosen = candidate
    return chosen


def _shallower_leaves(paths: list[str], depth: int) -> frozenset[str]:
    """Modules above ``depth`` with no child module: collapsed too at that depth."""
    parents = {p.rpartition(".")[0] for p in paths if "." in p}
    return frozenset(p for p in paths if p.count(".") < depth - 1 and p not in parents)


def capped_collapse(
    graph: AutogradGraph,
    collapsed: frozenset[str],
    folds: Iterable[Fold] = (),
    cap: int = LAYOUT_HARD_CAP,
) -> tuple[frozenset[str], str | None]:
    """``collapsed`` and None when the drawing fits ``cap`` nodes; else modules to
    collapse instead and a message saying why. Never lets a layout hang.

    Raises :class:`LayoutTooLargeError` (with the reason) when even every top-level module
    collapsed leaves more than ``cap`` nodes.
    """
    folds = list(folds)
    drawn = count_visible(graph, collapsed, folds)
    if drawn <= cap:
        return collapsed, None
    fitting = fitting_collapse(graph, cap) or frozenset()
    fitted = count_visible(graph, fitting, folds)
    if fitted > cap:
        raise LayoutTooLargeError(
            f"This graph has {len(graph.nodes):,} nodes and still {fitted:,} with every "
            f"module collapsed; laying out more than {cap:,} at once would take Graphviz "
            "minutes, so it is not drawn. Export it as DOT or JSON instead."
        )
    message = (
        f"{drawn:,} nodes are more than Graphviz can lay out in reasonable time "
        f"(the limit is {cap:,}); {len(fitting):,} modules were collapsed instead "
        f"({fitted:,} nodes drawn). Expand them one at a time."
    )
    return fitting, message
