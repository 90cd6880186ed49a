"""Graph + style -> DOT text -> Graphviz JSON -> positions and splines in scene pixels.

:func:`to_dot` is pure formatting (quoting by the ``graphviz`` package, never by
hand). :func:`compute_layout` runs the engine once and converts Graphviz units
(points with y up; node sizes in inches) to scene pixels with y down: this is the
only place those units are converted.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import graphviz

from graphviz_app.core.graph.records import AutogradGraph, Edge, Node, NodeKind, module_prefixes
from graphviz_app.core.layout.engine import DEFAULT_TIMEOUT_S, EngineError, GraphvizEngine
from graphviz_app.core.layout.style import (
    CLUSTER_BORDER,
    CLUSTER_FILL,
    EDGE_COLOR,
    HIGHLIGHT_COLOR,
    KIND_BORDER,
    KIND_FILL,
    NON_FINITE_COLOR,
    SELECTED_COLOR,
    GraphStyle,
    has_non_finite,
    node_label_lines,
    node_size_pt,
    text_color_on,
)
from graphviz_app.core.runtime.cancel import CancelToken

#: Scene pixels per Graphviz point (96 dpi screen / 72 points per inch).
PX_PER_PT = 96.0 / 72.0
PT_PER_INCH = 72.0
FONT_NAME = "monospace"
CLUSTER_PREFIX = "cluster_"

Point = tuple[float, float]


@dataclass(frozen=True)
class NodeBox:
    """A node's box in scene pixels: centre and size."""

    id: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class EdgePath:
    """An edge's spline in scene pixels: ``points`` are cubic Bezier control points
    (start, then three per segment); ``arrow`` is the arrowhead tip."""

    id: str
    source: str
    target: str
    points: tuple[Point, ...]
    arrow: Point | None


@dataclass(frozen=True)
class ClusterBox:
    """A module's box in scene pixels (left, top, width, height)."""

    id: str
    module: str
    label: str
    rect: tuple[float, float, float, float]


@dataclass(frozen=True)
class GraphLayout:
    """Where everything goes, in scene pixels; ``width`` x ``height`` bounds it all."""

    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    edges: tuple[EdgePath, ...]
    clusters: tuple[ClusterBox, ...]


def edge_id(edge: Edge) -> str:
    """A stable id for an edge (an op can take the same input twice)."""
    return f"{edge.source}>{edge.target}#{edge.input_index}"


def cluster_id(module: str) -> str:
    """The DOT subgraph name of a module's box: ``cluster_`` + the path in hex, so any
    module name is safe in DOT and comes back exactly from the layout."""
    return CLUSTER_PREFIX + module.encode("utf-8").hex()


def cluster_module(name: str) -> str:
    """The module path of a box named by :func:`cluster_id`."""
    suffix = name[len(CLUSTER_PREFIX) :]
    try:
        return bytes.fromhex(suffix).decode("utf-8")
    except ValueError:  # a box this app did not name (hand-written DOT)
        return suffix


def cluster_label(module: str) -> str:
    """The text drawn on a module's box: its last path component."""
    return module.rpartition(".")[2] or "model"


def dot_text(text: str) -> str:
    """User text made literal for DOT: no HTML-like ``<...>``, backslashes kept."""
    literal = graphviz.nohtml("\n".join(graphviz.escape(line) for line in text.split("\n")))
    return cast(str, literal)  # a str subclass the graphviz package must see unchanged


def to_dot(
    graph: AutogradGraph,
    style: GraphStyle | None = None,
    highlighted: frozenset[str] = frozenset(),
    fills: Mapping[str, str] | None = None,
    extra_lines: Mapping[str, str] | None = None,
) -> str:
    """DOT text for ``graph`` in ``style``: one box per node, one box per module.

    ``highlighted`` node ids (an export of the selection) get a thick dashed blue
    border, and their edges a thick blue line, as the window draws them. ``fills``
    overrides node fill colours (colouring by gradient magnitude). Neither changes
    the layout. ``extra_lines`` adds a last label line to some nodes (their gradient,
    for exports of a backward pass), which does.
    """
    style = style or GraphStyle()
    dot = graphviz.Digraph(name="autograd")
    dot.attr(rankdir=style.rankdir, nodesep="0.25", ranksep="0.35", fontname=FONT_NAME)
    dot.attr(
        "node",
        shape="box",
        style="rounded,filled",
        fontname=FONT_NAME,
        fontsize=f"{style.font_size:g}",
        fixedsize="true",
        penwidth="1.2",
    )
    dot.attr("edge", color=EDGE_COLOR, arrowsize="0.7")
    _add_nodes(dot, graph, style, _Marks(highlighted, fills or {}, extra_lines or {}))
    for edge in graph.edges:
        marked = edge.source in highlighted or edge.target in highlighted
        extra = {"color": HIGHLIGHT_COLOR, "penwidth": "2.5"} if marked else {}
        dot.edge(edge.source, edge.target, id=edge_id(edge), **extra)
    return str(dot.source)


@dataclass(frozen=True)
class _Marks:
    """Per-node decoration: colours, and extra label lines."""

    highlighted: frozenset[str]
    fills: Mapping[str, str]
    extra_lines: Mapping[str, str]


def _add_nodes(
    dot: graphviz.Digraph, graph: AutogradGraph, style: GraphStyle, marks: _Marks
) -> None:
    tree: dict[str, Any] = {"nodes": [], "children": OrderedDict()}
    for node in graph.nodes:
        branch = tree
        module = box_module(node)
        if style.clusters and module is not None:
            for depth_path in module_prefixes(module):
                branch = branch["children"].setdefault(
                    depth_path, {"nodes": [], "children": OrderedDict()}
                )
        branch["nodes"].append(node)
    _emit_branch(dot, tree, style, marks)


def box_module(node: Node) -> str | None:
    """The module whose box holds ``node``: a collapsed module sits in its parent's box."""
    if node.kind is NodeKind.OUTPUT or node.module is None:
        return None
    if node.kind is NodeKind.MODULE:
        parent = node.module.rpartition(".")[0]
        return parent or None
    return node.module




def _emit_branch(
    dot: graphviz.Digraph, branch: dict[str, Any], style: GraphStyle, marks: _Marks
) -> None:
    for node in branch["nodes"]:
        dot.node(node.id, **_node_attrs(node, style, marks))
    for module, child in branch["children"].items():
        with dot.subgraph(name=cluster_id(module)) as sub:
            sub.attr(
                label=dot_text(cluster_label(module)),
                style="rounded,filled",
                color=CLUSTER_BORDER,
                fillcolor=CLUSTER_FILL,
                fontsize="9",
                labeljust="l",
                tooltip=dot_text(module or "model"),
            )
            _emit_branch(sub, child, style, marks)


def _node_attrs(node: Node, style: GraphStyle, marks: _Marks) -> dict[str, str]:
    lines = node_label_lines(node, style)
    if node.id in marks.extra_lines:
        lines.append(marks.extra_lines[node.id])
    width, height = node_size_pt(lines, style.font_size)
    attrs = {
        "label": dot_text("\n".join(lines)),
        "fillcolor": KIND_FILL[node.kind],
        "color": KIND_BORDER[node.kind],
        "width": f"{width / PT_PER_INCH:.3f}",
        "height": f"{height / PT_PER_INCH:.3f}",
        "tooltip": dot_text(node.name),
    }
    if node.grad_order > 1:  # made by a create_graph backward: a double border
        attrs["peripheries"] = "2"
    if has_non_finite(node):
        attrs.update(color=NON_FINITE_COLOR, penwidth="3", style="rounded,filled,dashed")
    fill = marks.fills.get(node.id)
    if fill is not None:
        attrs.update(fillcolor=fill, fontcolor=text_color_on(fill))
    if node.id in marks.highlighted:  # dashed, as the window's selection ring
        attrs.update(color=SELECTED_COLOR, penwidth="3", style="rounded,filled,dashed")
    return attrs


def compute_layout(
    dot_text: str,
    engine: GraphvizEngine,
    timeout: float = DEFAULT_TIMEOUT_S,
    cancel: CancelToken | None = None,
) -> GraphLayout:
    """Run ``engine`` once with ``-Tjson`` and convert the result to scene pixels."""
    raw = engine.run(dot_text, "json", timeout=timeout, cancel=cancel)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EngineError(f"Graphviz returned output that is not JSON: {exc}") from exc
    return parse_layout_json(data)


def parse_layout_json(data: dict[str, Any]) -> GraphLayout:
    """Convert Graphviz ``-Tjson`` output (points, y up) to a :class:`GraphLayout`."""
    _, _, right, top = (float(v) for v in data["bb"].split(","))
    to_px = _Converter(top)
    names: dict[int, str] = {}
    nodes, clusters = [], []
    for obj in data.get("objects", []):
        if "pos" in obj:
            names[obj["_gvid"]] = obj["name"]
            nodes.append(to_px.node(obj))
        elif str(obj.get("name", "")).startswith(CLUSTER_PREFIX) and "bb" in obj:
            clusters.append(to_px.cluster(obj))
    edges = [to_px.edge(e, names) for e in data.get("edges", []) if "pos" in e]
    return GraphLayout(
        right * PX_PER_PT, top * PX_PER_PT, tuple(nodes), tuple(edges), tuple(clusters)
    )


class _Converter:
    """Points with y up -> pixels with y down, for a drawing ``top`` points tall."""

    def __init__(self, top: float) -> None:
        self.top = top

    def point(self, x: float, y: float) -> Point:
        return (x * PX_PER_PT, (self.top - y) * PX_PER_PT)

    def node(self, obj: dict[str, Any]) -> NodeBox:
        x, y = self.point(*(float(v) for v in obj["pos"].split(",")))
        width = float(obj["width"]) * PT_PER_INCH * PX_PER_PT
        height = float(obj["height"]) * PT_PER_INCH * PX_PER_PT
        return NodeBox(obj["name"], x, y, width, height)

    def cluster(self, obj: dict[str, Any]) -> ClusterBox:
        x0, y0, x1, y1 = (float(v) for v in obj["bb"].split(","))
        left, top = self.point(x0, y1)
        module = cluster_module(obj["name"])
        rect = (left, top, (x1 - x0) * PX_PER_PT, (y1 - y0) * PX_PER_PT)
        return ClusterBox(obj["name"], module, cluster_label(module), rect)

    def edge(self, obj: dict[str, Any], names: dict[int, str]) -> EdgePath:
        points: list[Point] = []
        arrow: Point | None = None
        for token in obj["pos"].split():
            parts = token.split(",")
            if parts[0] == "e":
                arrow = self.point(float(parts[1]), float(parts[2]))
            elif parts[0] != "s":
                points.append(self.point(float(parts[0]), float(parts[1])))
        source, target = names[obj["tail"]], names[obj["head"]]
        return EdgePath(obj.get("id", f"{source}>{target}"), source, target, tuple(points), arrow)
