"""Lay out each repeated module's insides once, and the rest of the graph around them.

Graphviz's ``dot`` grows faster than linearly with the nodes it places, and a deep
model repeats itself: GPT-2's twelve blocks are one kind, a ResNet-50's sixteen
bottlenecks two (:mod:`graphviz_app.core.layout.blocks` finds them). :func:`layout_graph`
lays out one instance of each kind in a graph of its own, every kind in one Graphviz
run; a second run lays out the rest of the graph with each block as one invisible box
of exactly that size, inside its parent modules' boxes; every instance is then moved
into its box. Kinds are cached for the process, so the next picture or model with
the same blocks needs only the second run.

Both runs are real Graphviz layouts, so nothing overlaps and every edge is routed by
Graphviz: an edge that crosses a block's border is routed inside the block from an
entry point on its first rank (or to an exit point on its last), and outside by the
top-level run to a port of the block's box at exactly that point
(:mod:`graphviz_app.core.layout.ports`); the two routes make one smooth spline. What
differs from one layout of everything: a block's insides are not rearranged to
shorten edges outside it, all instances of a kind look alike and are as wide as the
widest, and edges come into a block across its first side and leave across its last.
Graphs small enough to lay out whole in tens of milliseconds
(:data:`WHOLE_LAYOUT_NODES`), and graphs whose repeats would spare Graphviz few nodes,
are laid out whole.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from graphviz_app.core.graph.records import AutogradGraph, Edge, Node, NodeKind
from graphviz_app.core.layout.blocks import ENTRY, EXIT, RANKING, Block, block_dot, find_blocks
from graphviz_app.core.layout.cache import LayoutCache
from graphviz_app.core.layout.dot import (
    PX_PER_PT,
    ClusterBox,
    EdgePath,
    GraphLayout,
    Marks,
    NodeBox,
    Point,
    cluster_id,
    cluster_label,
    compute_layout,
    dot_header,
    edge_id,
    emit_branch,
    module_tree,
    node_line,
    parse_layout_json,
    quote,
    to_dot,
)
from graphviz_app.core.layout.engine import DEFAULT_TIMEOUT_S, EngineError, GraphvizEngine
from graphviz_app.core.layout.ports import (
    IN_PORT,
    OUT_PORT,
    SIDES,
    chain_pads,
    eased,
    join,
    point_offset,
    port_box,
    port_ref,
    straight,
)
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken

BLOCK_PREFIX = "block_"
#: Below this many nodes a graph is laid out whole: as quick as in blocks (ResNet-18's
#: 133 nodes: 28 ms whole, 33 ms in blocks; ResNet-50's 338: 72 ms against 45 ms),
#: and Graphviz then arranges every module's insides for the edges around it.
WHOLE_LAYOUT_NODES = 200

#: Block layouts by structure, for the whole process: the next model (or the next
#: picture of this one) with the same blocks lays none of them out again.
_BLOCK_CACHE: LayoutCache[GraphLayout] = LayoutCache(256)


def layout_graph(
    graph: AutogradGraph,
    style: GraphStyle,
    engine: GraphvizEngine,
    timeout: float = DEFAULT_TIMEOUT_S,
    cancel: CancelToken | None = None,
    whole_below: int = WHOLE_LAYOUT_NODES,
) -> GraphLayout:
    """The layout of ``graph`` in ``style``: repeated modules laid out once each when
    that spares Graphviz enough work (see the module's docstring), else one run (and
    always one run for fewer than ``whole_below`` nodes)."""
    blocks = find_blocks(graph, style) if len(graph.nodes) >= whole_below else []
    if not blocks:
        return compute_layout(to_dot(graph, style), engine, timeout, cancel)
    kinds = _block_layouts(graph, style, blocks, engine, timeout, cancel)
    top = _TopLevel(graph, style, blocks, kinds)
    outer = compute_layout(top.dot(), engine, timeout, cancel)
    return top.compose(outer)


def forget_block_kinds() -> None:
    """Empty the process's cache of laid-out kinds (a benchmark's first picture)."""
    _BLOCK_CACHE.clear()


# ----------------------------------------------------------------- laying out the kinds


def _block_layouts(
    graph: AutogradGraph,
    style: GraphStyle,
    blocks: list[Block],
    engine: GraphvizEngine,
    timeout: float,
    cancel: CancelToken | None,
) -> dict[str, GraphLayout]:
    """Signature -> the layout of one instance, every box as wide as the widest of its
    place in any instance (cached; the missing ones in one Graphviz run)."""
    widths: dict[str, tuple[float, ...]] = {}
    first: dict[str, Block] = {}
    for block in blocks:
        first.setdefault(block.signature, block)
        known = widths.get(block.signature, block.widths)
        widths[block.signature] = tuple(map(max, known, block.widths))
    kinds: dict[str, GraphLayout] = {}
    missing: dict[tuple[str, str], Block] = {}
    for signature, block in first.items():
        key = (_kind_key(signature, widths[signature], style), engine.path)
        cached = _BLOCK_CACHE.get(key)
        if cached is not None:
            kinds[signature] = cached
        else:
            missing[key] = block
    if missing:
        texts = [block_dot(graph, style, b, widths[b.signature]) for b in missing.values()]
        # One Graphviz per core, each laying out its share of the kinds one after another.
        share = -(-len(texts) // min(len(texts), os.cpu_count() or 1))
        runs = ["".join(texts[i : i + share]) for i in range(0, len(texts), share)]
        raws = engine.run_many(runs, "json0", timeout=timeout, cancel=cancel)
        layouts = [layout for raw in raws for layout in _parse_many(raw)]
        for (key, block), layout in zip(missing.items(), layouts, strict=True):
            kinds[block.signature] = generic = _generic(layout, block)
            _BLOCK_CACHE.put(key, generic)
    return kinds


def _kind_key(signature: str, widths: tuple[float, ...], style: GraphStyle) -> str:
    sizes = ",".join(f"{w:.3f}" for w in widths)
    digest = hashlib.sha256(f"{signature}|{sizes}|{style.rankdir}|{style.font_size:g}".encode())
    return digest.hexdigest()


def _parse_many(raw: bytes) -> list[GraphLayout]:
    """Graphviz's JSON for several graphs in one input: one document after another."""
    text, decoder, at = raw.decode("utf-8"), json.JSONDecoder(), 0
    layouts: list[GraphLayout] = []
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return layouts
        try:
            data, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise EngineError(f"Graphviz returned output that is not JSON: {exc}") from exc
        layouts.append(parse_layout_json(data))


# ------------------------------------------------------- the rest, and putting it together


@dataclass
class _TopLevel:
    """The graph with each block as one box of its layout's size; then every block's
    layout moved into its box and the edges that cross borders joined up."""

    graph: AutogradGraph
    style: GraphStyle
    blocks: list[Block]
    kinds: Mapping[str, GraphLayout]
    owner: dict[str, Block] = field(init=False)
    placeholders: dict[str, Block] = field(init=False)  # a block's box -> the block

    pads: dict[str, int] = field(init=False)  # block module -> room before it (points)

    def __post_init__(self) -> None:
        self.owner = {m: b for b in self.blocks for m in b.members}
        self.placeholders = {placeholder_id(b.module): b for b in self.blocks}
        links: dict[str, tuple[str, float, float]] = {}
        rankdir = self.style.rankdir
        for block in self.blocks:
            feeder = self.owner.get(block.entries[0]) if block.entries else None
            if feeder is not None:
                exit_point = f"{EXIT}{feeder.local[block.entries[0]]}"
                exit_at = point_offset(self.kinds[feeder.signature], exit_point, rankdir)
                entry_at = point_offset(self.kinds[block.signature], f"{ENTRY}0", rankdir)
                links[block.module] = (feeder.module, exit_at, entry_at)
        self.pads = chain_pads(links)

    def dot(self) -> str:
        """The top-level DOT text: blocks as fixed-size boxes in their parents' boxes,
        with a port where each edge crosses a block's border."""
        nodes: list[Node] = []
        for node in self.graph.nodes:
            block = self.owner.get(node.id)
            if block is None:
                nodes.append(node)
            elif block.members[0] == node.id:  # where the block's first node would be
                nodes.append(
                    Node(
                        placeholder_id(block.module), "block", NodeKind.MODULE, module=block.module
                    )
                )
        lines = dot_header(self.style)
        emit_branch(lines, module_tree(nodes, self.style), self._line, 1)
        seen: set[str] = set()
        for edge in self.graph.edges:
            line = self._edge_line(edge, seen)
            if line:
                lines.append(line)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _edge_line(self, edge: Edge, seen: set[str]) -> str:
        """A top-level edge; one from (to) a block starts (ends) at its port, and the
        edges that share both ports share one route."""
        name = self.top_route(edge)
        if name is None or name in seen:
            return ""
        seen.add(name)
        tail, head = self._ends(edge)
        attrs = f"id={quote(name)}"
        if edge.target in self.owner:
            attrs = "arrowhead=none " + attrs
        return f"\t{tail} -> {head} [{attrs}]"

    def _ends(self, edge: Edge) -> tuple[str, str]:
        """The tail and head of ``edge``'s top-level route: nodes, or blocks' ports."""
        into, out_of = self.owner.get(edge.target), self.owner.get(edge.source)
        first, last = SIDES[self.style.rankdir]
        tail, head = quote(edge.source), quote(edge.target)
        if out_of is not None:
            port = OUT_PORT + str(out_of.local[edge.source])
            tail = port_ref(placeholder_id(out_of.module), port, last)
        if into is not None:
            port = IN_PORT + str(into.entry_of[edge.source])
            head = port_ref(placeholder_id(into.module), port, first)
        return tail, head

    def top_route(self, edge: Edge) -> str | None:
        """The id of ``edge``'s route in the top-level layout (None: inside a block)."""
        into, out_of = self.owner.get(edge.target), self.owner.get(edge.source)
        if into is out_of:
            return None if into is not None else edge_id(edge)
        tail, head = self._ends(edge)
        return f"{tail}>{head}"

    def _line(self, node: Node) -> str:
        block = self.placeholders.get(node.id)
        if block is None:
            return node_line(node, self.style, Marks())
        layout = self.kinds[block.signature]
        entries = [f"{ENTRY}{k}" for k in range(len(block.entries))]
        exits = [f"{EXIT}{i}" for i in block.exits]
        pad = self.pads.get(block.module, 0)
        box = port_box(layout, entries, exits, self.style.rankdir, pad)
        return f"{node.id} [{box}]"

    def compose(self, outer: GraphLayout) -> GraphLayout:
        """``outer`` with every block's insides in its box, in ``graph``'s order."""
        boxes = {n.id: n for n in outer.nodes}
        routes = {e.id: e for e in outer.edges}
        clusters = list(outer.clusters)
        for block in self.blocks:
            slot = boxes[placeholder_id(block.module)]
            pad = self.pads.get(block.module, 0) * PX_PER_PT
            shift = (pad, 0.0) if self.style.rankdir in ("TB", "BT") else (0.0, pad)
            placed = _Placed.of(block, self.kinds[block.signature], slot, shift)
            boxes.update(placed.nodes)
            routes.update(placed.routes)
            clusters.extend(placed.clusters)
        edges = tuple(self._route(edge, routes, boxes) for edge in self.graph.edges)
        nodes = tuple(boxes[n.id] for n in self.graph.nodes)
        return GraphLayout(outer.width, outer.height, nodes, edges, tuple(clusters))

    def _route(
        self, edge: Edge, routes: Mapping[str, EdgePath], boxes: Mapping[str, NodeBox]
    ) -> EdgePath:
        into, out_of = self.owner.get(edge.target), self.owner.get(edge.source)
        name = edge_id(edge)
        top = self.top_route(edge)
        parts: list[EdgePath | None] = []
        if top is None or top == name:  # inside one block, or outside all
            parts.append(routes.get(name))
        else:
            if out_of is not None:
                parts.append(routes.get(f"{out_of.module}/{EXIT}{out_of.local[edge.source]}"))
            route = routes.get(top)
            if route is not None and len(route.points) >= 4:
                vertical = self.style.rankdir in ("TB", "BT")
                route = eased(route, out_of is not None, into is not None, vertical)
            parts.append(route)
            if into is not None:
                entry = into.entry_of[edge.source]
                parts.append(routes.get(f"{into.module}/{ENTRY}{entry}>{name.partition('>')[2]}"))
        found = [p for p in parts if p is not None and len(p.points) >= 4]
        if len(found) < len(parts):  # not expected: Graphviz left a route out
            path = _straight(boxes[edge.source], boxes[edge.target])
        else:
            path = join(found, self.style.rankdir in ("TB", "BT"))
        return EdgePath(name, edge.source, edge.target, path.points, path.arrow)


def placeholder_id(module: str) -> str:
    """The top-level node id of a block's box."""
    return BLOCK_PREFIX + hashlib.sha1(module.encode("utf-8")).hexdigest()[:10]


@dataclass
class _Placed:
    """One block instance's layout, moved into its box and renamed to its own ids."""

    nodes: dict[str, NodeBox]
    clusters: list[ClusterBox]
    routes: dict[str, EdgePath]

    @classmethod
    def of(
        cls, block: Block, layout: GraphLayout, slot: NodeBox, shift: Point = (0.0, 0.0)
    ) -> _Placed:
        dx, dy = slot.x - slot.width / 2 + shift[0], slot.y - slot.height / 2 + shift[1]
        rename = {_local(i): member for i, member in enumerate(block.members)}
        placed = cls({}, [], {})
        for box in layout.nodes:
            new_id = rename.get(box.id)
            if new_id is not None:
                placed.nodes[new_id] = NodeBox(
                    new_id, box.x + dx, box.y + dy, box.width, box.height
                )
        for cluster in layout.clusters:
            module = block.module + cluster.module  # the kind's are relative
            left, top, width, height = cluster.rect
            rect = (left + dx, top + dy, width, height)
            placed.clusters.append(
                ClusterBox(cluster_id(module), module, cluster_label(module), rect)
            )
        for path in layout.edges:
            key = _instance_route(path.id, rename, block.module)
            points = tuple([(x + dx, y + dy) for x, y in path.points])
            arrow = (path.arrow[0] + dx, path.arrow[1] + dy) if path.arrow is not None else None
            placed.routes[key] = EdgePath(key, path.source, path.target, points, arrow)
        return placed


def _local(index: int) -> str:
    """A kind's own name for its ``index``-th member (any instance's, once renamed)."""
    return f"@{index}"


def _generic(layout: GraphLayout, block: Block) -> GraphLayout:
    """``block``'s layout with its node ids and module paths made the kind's own: member
    ``i`` is ``@i``, modules are relative to the block. So it serves every instance of
    the kind in any graph, the next model's too (node ids differ between graphs)."""
    local = {member: _local(i) for i, member in enumerate(block.members)}
    nodes = tuple(NodeBox(local.get(n.id, n.id), n.x, n.y, n.width, n.height) for n in layout.nodes)
    edges = tuple(
        EdgePath(_renamed(e.id, local), e.source, e.target, e.points, e.arrow)
        for e in layout.edges
        if e.id != RANKING
    )
    cut = len(block.module)
    clusters = tuple(replace(c, module=c.module[cut:]) for c in layout.clusters)
    return GraphLayout(layout.width, layout.height, nodes, edges, clusters)


def _renamed(route: str, rename: Mapping[str, str]) -> str:
    """A route id (``source>target#i``, ``in_k>target#i`` or ``out_i``) with its nodes
    renamed by ``rename`` (entry and exit points keep their names)."""
    if route.startswith(EXIT):
        return route
    head, _, index = route.rpartition("#")
    source, _, target = head.partition(">")
    return f"{rename.get(source, source)}>{rename[target]}#{index}"


def _instance_route(route: str, rename: Mapping[str, str], module: str) -> str:
    """A kind's route id -> the same route of one instance: ``source>target#i``
    inside; ``module/in_k>target#i`` and ``module/out_i`` across its border."""
    named = _renamed(route, rename)
    return f"{module}/{named}" if route.startswith((ENTRY, EXIT)) else named


def _straight(source: NodeBox, target: NodeBox) -> EdgePath:
    start, end = (source.x, source.y + source.height / 2), (target.x, target.y - target.height / 2)
    return EdgePath("", source.id, target.id, straight(start, end), end)
