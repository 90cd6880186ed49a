"""Collapse ``nn.Module`` subtrees of a captured graph into single module nodes.

The result is an ordinary :class:`AutogradGraph` (nodes of kind ``MODULE`` stand
for collapsed modules, edges between groups are merged), so layout, scene and
export handle a collapsed graph exactly like a full one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from graphviz_app.core.graph import AutogradGraph, Edge, Node, NodeKind

GROUP_PREFIX = "module_"


def group_id(module: str) -> str:
    """The node id of a collapsed module: stable, and safe in DOT (no ``:`` port syntax)."""
    return GROUP_PREFIX + hashlib.sha1(module.encode("utf-8")).hexdigest()[:10]


def module_paths(graph: AutogradGraph) -> list[str]:
    """Every module path that owns a node, with all its ancestors, sorted."""
    paths: set[str] = set()
    for node in graph.nodes:
        if node.module:
            parts = node.module.split(".")
            paths.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(paths)


def modules_at_depth(graph: AutogradGraph, depth: int) -> frozenset[str]:
    """The modules to collapse to show ``depth`` levels (1 = top-level children only)."""
    if depth < 1:
        return frozenset(p for p in module_paths(graph) if "." not in p)
    return frozenset(p for p in module_paths(graph) if p.count(".") == depth - 1)


def collapse_modules(graph: AutogradGraph, collapsed: Iterable[str]) -> AutogradGraph:
    """``graph`` with every node inside a module of ``collapsed`` merged into one node.

    A module nested in another collapsed module is absorbed by the outer one.
    Edges inside a group disappear; parallel edges between two groups are merged.
    """
    outermost = _outermost(set(collapsed))
    if not outermost:
        return graph
    owner_module = {n.id: _owner_module(n, outermost) for n in graph.nodes}
    owner = {key: key if m is None else group_id(m) for key, m in owner_module.items()}
    nodes = _grouped_nodes(graph, owner, owner_module)
    edges = _merged_edges(graph, owner)
    return AutogradGraph(tuple(nodes), tuple(edges), graph.roots, graph.meta)


def _outermost(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if not any(m.startswith(o + ".") for o in modules))


def _owner_module(node: Node, outermost: list[str]) -> str | None:
    """The collapsed module that absorbs ``node``, or None when it stays visible."""
    if node.module is None or node.kind is NodeKind.OUTPUT:
        return None
    for module in outermost:
        if node.module == module or node.module.startswith(module + "."):
            return module
    return None


def _grouped_nodes(
    graph: AutogradGraph, owner: dict[str, str], owner_module: dict[str, str | None]
) -> list[Node]:
    members: dict[str, list[Node]] = {}
    for node in graph.nodes:
        members.setdefault(owner[node.id], []).append(node)
    nodes = []
    for key, group in members.items():
        module = owner_module[group[0].id]
        nodes.append(group[0] if module is None else _group_node(key, module, group))
    return nodes


def _group_node(key: str, module: str, group: list[Node]) -> Node:
    params = [n for n in group if n.kind is NodeKind.PARAMETER]
    numel = sum(_numel(n) for n in params)
    summary = f"{_plural(len(group), 'node')}, {_plural(len(params), 'parameter')}"
    if numel:
        summary += f" ({numel:,} values)"
    return Node(
        id=key, name=summary, kind=NodeKind.MODULE, module=module, leaf_name=f"{module} (collapsed)"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _numel(node: Node) -> int:
    total = 1
    for dim in node.tensor.shape if node.tensor else ():
        total *= dim
    return total


def _merged_edges(graph: AutogradGraph, owner: dict[str, str]) -> list[Edge]:
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


def fitting_collapse(graph: AutogradGraph, limit: int) -> frozenset[str] | None:
    """The modules to collapse so that at most ``limit`` nodes are drawn, keeping as
    many levels open as fit; None when the whole graph fits already.

    Big models open this way: laying out thousands of nodes at once takes Graphviz
    tens of seconds, a module level at a time takes a fraction of one.
    """
    if len(graph.nodes) <= limit:
        return None
    deepest = max((p.count(".") + 1 for p in module_paths(graph)), default=0)
    chosen = modules_at_depth(graph, 1)
    for depth in range(2, deepest + 1):
        candidate = modules_at_depth(graph, depth) | _shallower_leaves(graph, depth)
        if len(collapse_modules(graph, candidate).nodes) > limit:
            break
        chosen = candidate
    return chosen


def _shallower_leaves(graph: AutogradGraph, depth: int) -> frozenset[str]:
    """Modules above ``depth`` with no child module: collapsed too at that depth."""
    paths = module_paths(graph)
    parents = {p.rpartition(".")[0] for p in paths if "." in p}
    return frozenset(p for p in paths if p.count(".") < depth - 1 and p not in parents)
