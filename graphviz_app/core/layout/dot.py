"""Graph + style -> DOT text -> Graphviz JSON -> positions and splines in scene pixels.

:func:`to_dot` is pure formatting, written line by line (DOT's quoting rules as the
``graphviz`` package applies them; a test holds the two to the same output: the
package's ``Digraph`` cost 60% of the DOT text's time, and 70 ms to import).
:func:`compute_layout` runs the engine once and converts Graphviz units (points with
y up; node sizes in inches) to scene pixels with y down: this is the only place those
units are converted.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

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


#: DOT's rules for an unquoted ID (https://www.graphviz.org/doc/info/lang.html), as the
#: ``graphviz`` package applies them (``graphviz.quoting``; a test checks we agree).
_PLAIN_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))$")
_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})
_QUOTE = re.compile(r"(?P<pairs>(?:\\{2})*)\\?(?P<quote>\")")


def quote(value: str) -> str:
    """``value`` as a DOT ID: bare when DOT allows it, else double-quoted with every
    unescaped ``"`` escaped (never an HTML-like ``<...>`` label: we emit none)."""
    if _PLAIN_ID.match(value) and value.lower() not in _KEYWORDS:
        return value
    return '"' + _QUOTE.sub(r"\g<pairs>\\\g<quote>", value) + '"'


_quote_cached = lru_cache(maxsize=4096)(quote)  # colours, sizes and ids repeat a lot


def dot_text(text: str) -> str:
    """User text made literal for DOT: backslashes kept (doubled), lines joined by
    newlines (DOT accepts them inside a quoted string)."""
    return text.replace("\\", "\\\\")


def attr_list(attrs: Mapping[str, str], label: str | None = None) -> str:
    """``label=... a=... b=...``: ``label`` first, then ``attrs`` sorted by name (the
    ``graphviz`` package's order, so the text is stable)."""
    parts = [f"label={quote(label)}"] if label is not None else []
    parts += [f"{key}={_quote_cached(attrs[key])}" for key in sorted(attrs)]
    return " ".join(parts)


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
    marks = Marks(highlighted, fills or {}, extra_lines or {})
    lines = dot_header(style)
    tree = module_tree(graph.nodes, style)
    emit_branch(lines, tree, lambda node: node_line(node, style, marks), 1)
    for edge in graph.edges:
        marked = edge.source in highlighted or edge.target in highlighted
        extra = {"color": HIGHLIGHT_COLOR, "penwidth": "2.5"} if marked else {}
        attrs = attr_list({"id": edge_id(edge), **extra})
        lines.append(f"\t{quote(edge.source)} -> {quote(edge.target)} [{attrs}]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_header(style: GraphStyle) -> list[str]:
    """The opening lines every DOT text of ours shares: graph, node and edge defaults."""
    graph = {"rankdir": style.rankdir, "nodesep": "0.25", "ranksep": "0.35", "fontname": FONT_NAME}
    node = {
        "shape": "box",
        "style": "rounded,filled",
        "fontname": FONT_NAME,
        "fontsize": f"{style.font_size:g}",
        "fixedsize": "true",
        "penwidth": "1.2",
    }
    edge = {"color": EDGE_COLOR, "arrowsize": "0.7"}
    return [
        "digraph autograd {",
        f"\t{attr_list(graph)}",
        f"\tnode [{attr_list(node)}]",
        f"\tedge [{attr_list(edge)}]",
    ]


@dataclass(frozen=True)
class Marks:
    """Per-node decoration: colours, and extra label lines."""

    highlighted: frozenset[str] = frozenset()
    fills: Mapping[str, str] = field(default_factory=dict)
    extra_lines: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Branch:
    """One module's box in the DOT text: its own nodes, then its child modules' boxes."""

    nodes: list[Node] = field(default_factory=list)
    children: dict[str, Branch] = field(default_factory=dict)


def module_tree(nodes: Iterable[Node], style: GraphStyle, skip: int = 0) -> Branch:
    """``nodes`` sorted into their modules' boxes (none without clusters), less the
    ``skip`` outermost. The model's box (its own ops) holds every module's box: a box
    of those ops alone would pin the stem's relu beside the head's flatten."""
    nodes = list(nodes)
    wrap = style.clusters and any(box_module(n) == "" for n in nodes)
    tree = Branch()
    for node in nodes:
        branch = tree
        for path in box_path(node, wrap)[skip:] if style.clusters else ():
            branch = branch.children.setdefault(path, Branch())
        branch.nodes.append(node)
    return tree


def box_path(node: Node, wrap: bool) -> list[str]:
    """The boxes around ``node``, outermost first (``wrap``: in the model's box)."""
    module = box_module(node)
    if module is None:  # a collapsed child of the model sits in the model's box
        return [""] if wrap and node.kind is NodeKind.MODULE and node.module else []
    return ["", *module_prefixes(module)] if wrap and module else module_prefixes(module)


def box_module(node: Node) -> str | None:
    """The module whose box holds ``node``: a collapsed module sits in its parent's box."""
    if node.kind is NodeKind.OUTPUT or node.module is None:
        return None
    if node.kind is NodeKind.MODULE:
        parent = node.module.rpartition(".")[0]
        return parent or None
    return node.module


def emit_branch(
    lines: list[str], branch: Branch, node_line: Callable[[Node], str], depth: int
) -> None:
    """Append ``branch``'s nodes (one line each, from ``node_line``) and its modules'
    boxes as ``cluster_`` subgraphs, indented by ``depth`` tabs."""
    indent = "\t" * depth
    lines.extend(indent + node_line(node) for node in branch.nodes)
    for module, child in branch.children.items():
        lines.append(f"{indent}subgraph {cluster_id(module)} {{")
        lines.append(indent + "\t" + cluster_attrs(module))
        emit_branch(lines, child, node_line, depth + 1)
        lines.append(indent + "}")


def cluster_attrs(module: str) -> str:
    """The attribute line of a module's box."""
    return attr_list(
        {
            "label": dot_text(cluster_label(module)),
            "style": "rounded,filled",
            "color": CLUSTER_BORDER,
            "fillcolor": CLUSTER_FILL,
            "fontsize": "9",
            "labeljust": "l",
            "tooltip": dot_text(module or "model"),
        }
    )


def node_line(node: Node, style: GraphStyle, marks: Marks) -> str:
    """``id [label=... ...]``: one node's DOT statement."""
    attrs = node_attrs(node, style, marks)
    label = attrs.pop("label")
    return f"{quote(node.id)} [{attr_list(attrs, label)}]"


def node_attrs(node: Node, style: GraphStyle, marks: Marks) -> dict[str, str]:
    """A node's DOT attributes: label, colours, fixed size in inches, tooltip."""
    extra = marks.extra_lines.get(node.id)
    attrs = dict(_plain_attrs(node, style)) if extra is None else _attrs(node, style, extra)
    fill = marks.fills.get(node.id)
    if fill is not None:
        attrs.update(fillcolor=fill, fontcolor=text_color_on(fill))
    if node.id in marks.highlighted:  # dashed, as the window's selection ring
        attrs.update(color=SELECTED_COLOR, penwidth="3", style="rounded,filled,dashed")
    return attrs


#: id(node) -> (the node, weakly; the style; its attributes): one picture asks for a
#: node's attributes up to three times (its block's DOT, the top level's, the SVG).
_PLAIN: dict[int, tuple[weakref.ref[Node], GraphStyle, dict[str, str]]] = {}
_PLAIN_LIMIT = 20_000


def _plain_attrs(node: Node, style: GraphStyle) -> dict[str, str]:
    known = _PLAIN.get(id(node))
    if known is not None and known[0]() is node and (known[1] is style or known[1] == style):
        return known[2]
    if len(_PLAIN) >= _PLAIN_LIMIT:
        _PLAIN.clear()
    attrs = _attrs(node, style, None)
    _PLAIN[id(node)] = (weakref.ref(node), style, attrs)
    return attrs


def _attrs(node: Node, style: GraphStyle, extra: str | None) -> dict[str, str]:
    lines = node_label_lines(node, style)
    if extra is not None:
        lines.append(extra)
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
    return attrs


def compute_layout(
    dot_text: str,
    engine: GraphvizEngine,
    timeout: float = DEFAULT_TIMEOUT_S,
    cancel: CancelToken | None = None,
) -> GraphLayout:
    """Run ``engine`` once with ``-Tjson0`` (the layout without drawing instructions:
    a quarter of ``-Tjson``'s bytes and half its time) and convert it to scene pixels."""
    raw = engine.run(dot_text, "json0", timeout=timeout, cancel=cancel)
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
