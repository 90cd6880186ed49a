"""Lay out only what is drawn, and expand a module without laying out the rest again.

Expanding a collapsed module (or unfolding a fold) replaces one drawn node by the
nodes inside it. Instead of running Graphviz on the whole new graph, the module's
insides are laid out on their own and spliced in at the node's place: everything
right of the node moves right and everything below it moves down by exactly the
room the insides need (a monotone stretch of both axes, so nothing that did not
overlap starts to). Edges that crossed the module's border keep their old route up
to it and get a last straight segment to the node inside. Both full and partial
layouts are cached by structure, so collapsing back, or expanding again, is free.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from graphviz_app.core.graph.collapse import LAYOUT_HARD_CAP, LayoutTooLargeError, VisibleGraph
from graphviz_app.core.graph.records import AutogradGraph, Edge, module_prefixes
from graphviz_app.core.layout.block_layout import layout_graph
from graphviz_app.core.layout.cache import LayoutCache
from graphviz_app.core.layout.dot import (
    PX_PER_PT,
    ClusterBox,
    EdgePath,
    GraphLayout,
    NodeBox,
    Point,
    box_module,
    cluster_id,
    edge_id,
)
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.ports import straight
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken

logger = logging.getLogger(__name__)

#: More drawn nodes replaced at once than this: one full layout is quicker.
SPLICE_LIMIT = 8
ARROW_PX = 7.0 * PX_PER_PT  # Graphviz's arrow at arrowsize 0.7 (10 pt * 0.7)
MARGIN_PX = 6.0  # room around spliced insides
Plan = dict[str, list[str]]  # old drawn node -> the new drawn nodes that replace it


@dataclass(frozen=True)
class Placed:
    """A drawn graph and its layout: what the next layout may start from."""

    view: VisibleGraph
    layout: GraphLayout


class LazyLayouter:
    """Layouts of drawn graphs, spliced from the previous one when possible, cached."""

    def __init__(self, engine: GraphvizEngine, capacity: int = 32) -> None:
        self.engine = engine
        self._full: LayoutCache[GraphLayout] = LayoutCache(capacity)
        self._parts: LayoutCache[GraphLayout] = LayoutCache(capacity * 4)
        self.last_kind = ""  # "cached", "spliced" or "full": how the last layout was made

    def layout(
        self,
        view: VisibleGraph,
        style: GraphStyle,
        previous: Placed | None = None,
        cancel: CancelToken | None = None,
    ) -> GraphLayout:
        """The layout of ``view.graph`` in ``style``: cached, else spliced into
        ``previous`` (when ``view`` only expands some of its nodes), else computed.

        Raises :class:`LayoutTooLargeError` above ``LAYOUT_HARD_CAP`` drawn nodes
        instead of starting a layout that would not finish.
        """
        if len(view.graph.nodes) > LAYOUT_HARD_CAP:
            raise LayoutTooLargeError(
                f"{len(view.graph.nodes):,} nodes are more than Graphviz can lay out in "
                f"reasonable time (the limit is {LAYOUT_HARD_CAP:,}): collapse modules first."
            )
        key = LayoutCache.picture_key(view.graph, style, self.engine)
        found = self._full.get(key)
        if found is not None:
            self.last_kind = "cached"
            return found
        plan = splice_plan(previous.view, view) if previous is not None else None
        if previous is not None and plan:
            result = splice(previous, view, plan, lambda g: self._part(g, style, cancel))
            self.last_kind = "spliced"
        else:
            result = layout_graph(view.graph, style, self.engine, cancel=cancel)
            self.last_kind = "full"
        self._full.put(key, result)
        return result

    def _part(
        self, graph: AutogradGraph, style: GraphStyle, cancel: CancelToken | None
    ) -> GraphLayout:
        key = LayoutCache.picture_key(graph, style, self.engine)
        found = self._parts.get(key)
        if found is None:
            found = layout_graph(graph, style, self.engine, cancel=cancel)
            self._parts.put(key, found)
        return found


def splice_plan(old: VisibleGraph, new: VisibleGraph, limit: int = SPLICE_LIMIT) -> Plan | None:
    """Which old drawn nodes ``new`` replaces by the nodes inside them; None when
    ``new`` is not such an expansion of ``old`` (something was collapsed, or the
    captured graph changed) or replaces more than ``limit`` nodes."""
    old_ids = {n.id for n in old.graph.nodes}
    new_ids = {n.id for n in new.graph.nodes}
    if set(old.owner) != set(new.owner) or old_ids == new_ids:
        return None
    plan: Plan = {}
    for added in (n.id for n in new.graph.nodes if n.id not in old_ids):
        holders = {old.owner[m] for m in _members(new, added)}
        if len(holders) != 1 or holders & new_ids:
            return None
        plan.setdefault(holders.pop(), []).append(added)
    for removed in old_ids - new_ids:
        inside = {new.owner[m] for m in _members(old, removed)}
        if removed not in plan or inside != set(plan[removed]):
            return None
    return plan if len(plan) <= limit else None


def _members(view: VisibleGraph, node_id: str) -> tuple[str, ...]:
    group = view.groups.get(node_id)
    return group.members if group is not None else (node_id,)


def splice(
    previous: Placed,
    view: VisibleGraph,
    plan: Plan,
    lay_out: Callable[[AutogradGraph], GraphLayout],
) -> GraphLayout:
    """``previous.layout`` with each planned node replaced by a layout of its insides
    (``lay_out`` of the subgraph of ``view`` they form)."""
    work = _Work.of(previous.layout)
    moved: dict[str, str] = {}
    for old_id, inside in plan.items():
        part = lay_out(_subgraph(view.graph, inside))
        holders = _modules_of(box_module(previous.view.graph.node(old_id)))
        work.insert(old_id, part, holders)
        moved.update((node_id, old_id) for node_id in inside)
    return work.finish(view.graph, moved)


def _subgraph(graph: AutogradGraph, ids: list[str]) -> AutogradGraph:
    keep = set(ids)
    nodes = tuple(graph.node(i) for i in ids)
    edges = tuple(e for e in graph.edges if e.source in keep and e.target in keep)
    return AutogradGraph(nodes, edges, (), graph.meta)


def _modules_of(module: str | None) -> frozenset[str]:
    """The cluster ids of ``module`` and its ancestors (the boxes around a node)."""
    if module is None:
        return frozenset()
    return frozenset(cluster_id(path) for path in module_prefixes(module))


Box = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass
class _Work:
    """A layout being spliced: mutable while the splices run."""

    width: float
    height: float
    nodes: dict[str, NodeBox]
    clusters: dict[str, ClusterBox]
    old_edges: list[EdgePath]
    inner_edges: dict[str, EdgePath]

    @classmethod
    def of(cls, layout: GraphLayout) -> _Work:
        nodes = {n.id: n for n in layout.nodes}
        clusters = {c.id: c for c in layout.clusters}
        return cls(layout.width, layout.height, nodes, clusters, list(layout.edges), {})

    def insert(self, old_id: str, part: GraphLayout, holders: frozenset[str]) -> None:
        """Put ``part`` (less the boxes in ``holders``, which exist here already) where
        the node ``old_id`` is, and stretch everything else to make room."""
        slot = self.nodes.pop(old_id)
        clusters = [c for c in part.clusters if c.id not in holders]
        left, top, right, bottom = _content_box(part.nodes, clusters)
        width, height = max(right - left, slot.width), max(bottom - top, slot.height)
        x0, y0 = slot.x - slot.width / 2, slot.y - slot.height / 2
        fx = _stretch(x0, slot.width, width)
        fy = _stretch(y0, slot.height, height)
        self._transform(fx, fy)
        dx = x0 + (width - (right - left)) / 2 - left
        dy = y0 + (height - (bottom - top)) / 2 - top
        shift = _offset(dx), _offset(dy)
        for node in part.nodes:
            self.nodes[node.id] = _move_node(node, *shift)
        for cluster in clusters:
            self.clusters[cluster.id] = _move_cluster(cluster, *shift)
        for edge in part.edges:
            self.inner_edges[edge.id] = _move_edge(edge, *shift)

    def _transform(self, fx: Callable[[float], float], fy: Callable[[float], float]) -> None:
        """Stretch everything; edge ends stay fixed to their nodes (only the node
        being replaced, no longer in ``nodes``, lets its edge ends stretch)."""
        self.width, self.height = fx(self.width), fy(self.height)
        moved = {k: _move_node(n, fx, fy) for k, n in self.nodes.items()}
        shift = {k: (n.x - self.nodes[k].x, n.y - self.nodes[k].y) for k, n in moved.items()}
        self.nodes = moved
        self.clusters = {k: _move_cluster(c, fx, fy) for k, c in self.clusters.items()}
        self.old_edges = [_move_edge(e, fx, fy, shift) for e in self.old_edges]
        self.inner_edges = {k: _move_edge(e, fx, fy, shift) for k, e in self.inner_edges.items()}

    def finish(self, graph: AutogradGraph, moved: Mapping[str, str]) -> GraphLayout:
        """The layout of ``graph``: edges routed, everything in ``graph``'s order."""
        by_id = {e.id: e for e in self.old_edges}
        by_pair: dict[tuple[str, str], EdgePath] = {}
        for path in self.old_edges:
            by_pair.setdefault((path.source, path.target), path)
        edges = []
        for edge in graph.edges:
            key = edge_id(edge)
            inner = self.inner_edges.get(key)
            if inner is None:
                pair = (moved.get(edge.source, edge.source), moved.get(edge.target, edge.target))
                inner = self._reroute(edge, by_id.get(key) or by_pair.get(pair), moved)
            edges.append(replace(inner, id=key, source=edge.source, target=edge.target))
        nodes = tuple(self.nodes[n.id] for n in graph.nodes)
        return GraphLayout(
            self.width, self.height, nodes, tuple(edges), tuple(self.clusters.values())
        )

    def _reroute(self, edge: Edge, old: EdgePath | None, moved: Mapping[str, str]) -> EdgePath:
        source, target = self.nodes[edge.source], self.nodes[edge.target]
        if old is None:  # not expected: an edge no old edge stood for; draw it straight
            start = _border(source, (target.x, target.y))
            end = _border(target, (source.x, source.y))
            return EdgePath(edge_id(edge), edge.source, edge.target, straight(start, end), end)
        points, tip = list(old.points), old.arrow
        if edge.source in moved:
            points = list(straight(_border(source, points[0]), points[0])[:-1]) + points
        if edge.target in moved:
            end = tip or points[-1]
            tip = _border(target, end)
            base = _towards(tip, end, ARROW_PX)
            points += list(straight(points[-1], base)[1:])
        return EdgePath(edge_id(edge), edge.source, edge.target, tuple(points), tip)


def _content_box(nodes: tuple[NodeBox, ...], clusters: list[ClusterBox]) -> Box:
    boxes = [
        (n.x - n.width / 2, n.y - n.height / 2, n.x + n.width / 2, n.y + n.height / 2)
        for n in nodes
    ]
    boxes += [
        (c.rect[0], c.rect[1], c.rect[0] + c.rect[2], c.rect[1] + c.rect[3]) for c in clusters
    ]
    return (
        min(b[0] for b in boxes) - MARGIN_PX,
        min(b[1] for b in boxes) - MARGIN_PX,
        max(b[2] for b in boxes) + MARGIN_PX,
        max(b[3] for b in boxes) + MARGIN_PX,
    )


def _stretch(start: float, old: float, new: float) -> Callable[[float], float]:
    """Map [start, start + old] onto [start, start + new] linearly and shift what
    lies beyond by the difference: monotone, so nothing comes to overlap."""
    grow = new - old
    scale = new / old if old > 0 else 1.0

    def move(value: float) -> float:
        if value <= start:
            return value
        if value >= start + old:
            return value + grow
        return start + (value - start) * scale

    return move


def _offset(delta: float) -> Callable[[float], float]:
    return lambda value: value + delta


def _move_node(
    node: NodeBox, fx: Callable[[float], float], fy: Callable[[float], float]
) -> NodeBox:
    return replace(node, x=fx(node.x), y=fy(node.y))


def _move_cluster(
    cluster: ClusterBox, fx: Callable[[float], float], fy: Callable[[float], float]
) -> ClusterBox:
    left, top, width, height = cluster.rect
    x0, y0, x1, y1 = fx(left), fy(top), fx(left + width), fy(top + height)
    return replace(cluster, rect=(x0, y0, x1 - x0, y1 - y0))


def _move_edge(
    edge: EdgePath,
    fx: Callable[[float], float],
    fy: Callable[[float], float],
    shift: Mapping[str, Point] | None = None,
) -> EdgePath:
    """``edge`` stretched; its first two and last two points (and the arrow) move
    with their node when ``shift`` has it, so ends stay on borders, arrows keep size."""
    points = [(fx(x), fy(y)) for x, y in edge.points]
    arrow = (fx(edge.arrow[0]), fy(edge.arrow[1])) if edge.arrow is not None else None
    shift = shift or {}
    if edge.source in shift and len(points) >= 2:
        points[:2] = [_plus(p, shift[edge.source]) for p in edge.points[:2]]
    if edge.target in shift and len(points) >= 2:
        points[-2:] = [_plus(p, shift[edge.target]) for p in edge.points[-2:]]
        arrow = _plus(edge.arrow, shift[edge.target]) if edge.arrow is not None else None
    return replace(edge, points=tuple(points), arrow=arrow)


def _plus(point: Point, delta: Point) -> Point:
    return (point[0] + delta[0], point[1] + delta[1])


def _border(box: NodeBox, toward: Point) -> Point:
    """Where the line from ``box``'s centre to ``toward`` leaves the box."""
    dx, dy = toward[0] - box.x, toward[1] - box.y
    if dx == 0 and dy == 0:
        return (box.x, box.y - box.height / 2)
    scale = min(
        (box.width / 2) / abs(dx) if dx else math.inf,
        (box.height / 2) / abs(dy) if dy else math.inf,
    )
    return (box.x + dx * scale, box.y + dy * scale)


def _towards(point: Point, target: Point, distance: float) -> Point:
    """``point`` moved ``distance`` towards ``target`` (not past it)."""
    dx, dy = target[0] - point[0], target[1] - point[1]
    length = math.hypot(dx, dy)
    if length <= distance or length == 0:
        return ((point[0] + target[0]) / 2, (point[1] + target[1]) / 2)
    return (point[0] + dx * distance / length, point[1] + dy * distance / length)
