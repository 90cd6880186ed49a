"""A graph's SVG, read once and marked step by step.

:func:`read_graph_svg` parses the SVG of a graph: the app's own (``core/layout/svg.py``,
the window's layout) or the one Graphviz wrote for :func:`to_dot`'s text (same structure),
gives every node's group the node's id (``id="n3"``: findable, as its label text is),
and notes where each node's box and each edge's middle are. :func:`marked_svg` then
draws one step's :class:`Look` on a copy: fill, the orange border of the node being
executed, the tick or pending-gradient badge, the gradients on edges. Everything stays
SVG text and shapes. The HTML walk-through's script applies the same looks in a browser.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from graphviz_app.core.layout.style import (
    STEP_CURRENT_COLOR,
    STEP_DONE_COLOR,
    STEP_WAITING_COLOR,
    text_color_on,
)

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)
OVERLAY_CLASS = "gv-overlay"
CURRENT_WIDTH = "4"  # the executing node's border, as in the window
BADGE_RADIUS = 8.0
LABEL_SIZE = 9.0
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
_SHAPES = ("path", "polygon", "ellipse")
_COMMAND = re.compile(r"([MmLlHhVvCcSsQqTtAaZz])([^MmLlHhVvCcSsQqTtAaZz]*)")
_ARGUMENTS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "A": 7, "Z": 0}


def _tag(name: str) -> str:
    return f"{{{SVG_NS}}}{name}"


@dataclass(frozen=True)
class Box:
    """A node's box in the SVG's user units (Graphviz's points; y grows downwards)."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Look:
    """How one node looks at one step: ``fill`` by gradient ("" keeps its kind's
    colour), whether backward is executing it, and its badge (a tick, a count, "")."""

    fill: str = ""
    current: bool = False
    badge: str = ""

    def as_json(self) -> list[object]:
        """The compact form the page's script reads: ``[fill, text colour, current,
        badge]`` (the text colour that reads on the fill, "" for the kind's)."""
        ink = text_color_on(self.fill) if self.fill else ""
        return [self.fill, ink, int(self.current), self.badge]


@dataclass
class GraphSvg:
    """A parsed graph SVG with node ids, boxes and edge midpoints."""

    root: ET.Element
    boxes: dict[str, Box] = field(default_factory=dict)
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)

    def text(self) -> str:
        """The SVG document as text (no XML prolog: it also goes inline into HTML)."""
        return ET.tostring(self.root, encoding="unicode")


def read_graph_svg(svg: str | bytes) -> GraphSvg:
    """Parse a graph's SVG (Graphviz's structure); name node groups by node id; add an
    empty overlay group."""
    root = ET.fromstring(svg.encode("utf-8") if isinstance(svg, str) else svg)
    graph = root.find(_tag("g"))
    if graph is None:
        raise ValueError("This SVG has no graph group: it was not written by Graphviz.")
    parsed = GraphSvg(root)
    for group in root.iter(_tag("g")):
        kind = group.get("class")
        title = group.findtext(_tag("title"), default="")
        if kind == "node" and title:
            group.set("id", title)
            shape = _shape(group)
            if shape is not None:
                parsed.boxes[title] = _box(shape)
        elif kind == "edge" and group.get("id"):
            path = group.find(_tag("path"))
            if path is not None:
                parsed.anchors[str(group.get("id"))] = _middle(_numbers(path.get("d", "")))
    ET.SubElement(graph, _tag("g"), {"class": OVERLAY_CLASS})
    _pad(root, BADGE_RADIUS + 2)
    return parsed


def _pad(root: ET.Element, margin: float) -> None:
    """Room around the drawing for badges that stick out of the boxes at its edges."""
    box = _numbers(root.get("viewBox", ""))
    if len(box) != 4:
        return
    x, y, width, height = box
    root.set(
        "viewBox",
        " ".join(_n(v) for v in (x - margin, y - margin, width + 2 * margin, height + 2 * margin)),
    )
    for name, size in (("width", width), ("height", height)):
        value = root.get(name, "")
        unit = value.lstrip("0123456789.")
        if value.endswith("pt") or unit == "":
            root.set(name, f"{_n(size + 2 * margin)}{unit}")


def marked_svg(
    base: GraphSvg,
    looks: Mapping[str, Look],
    labels: tuple[tuple[str, str], ...] = (),
    title: str = "",
) -> str:
    """A copy of ``base`` with ``looks`` drawn on its nodes and ``labels`` (edge id,
    text) on its edges; ``title`` becomes the document's title (a viewer's tooltip)."""
    root = copy.deepcopy(base.root)
    overlay = _overlay(root)
    groups = {g.get("id"): g for g in root.iter(_tag("g")) if g.get("class") == "node"}
    for node_id, look in looks.items():
        group = groups.get(node_id)
        if group is not None:
            _apply(group, look)
        if look.badge and node_id in base.boxes:
            _badge(overlay, base.boxes[node_id], look.badge)
    for edge, text in labels:
        if edge in base.anchors:
            _label(overlay, base.anchors[edge], text)
    heading = root.find(f"{_tag('g')}/{_tag('title')}")
    if title and heading is not None:
        heading.text = title
    return ET.tostring(root, encoding="unicode")


def _overlay(root: ET.Element) -> ET.Element:
    for group in root.iter(_tag("g")):
        if group.get("class") == OVERLAY_CLASS:
            return group
    raise ValueError("The SVG has no overlay group: read it with read_graph_svg().")


def _apply(group: ET.Element, look: Look) -> None:
    shape = _shape(group)
    if shape is None:
        return
    if look.fill:
        shape.set("fill", look.fill)
        for text in group.iter(_tag("text")):
            text.set("fill", text_color_on(look.fill))
    if look.current:
        shape.set("stroke", STEP_CURRENT_COLOR)
        shape.set("stroke-width", CURRENT_WIDTH)


def _badge(overlay: ET.Element, box: Box, badge: str) -> None:
    color = STEP_DONE_COLOR if badge == "\u2713" else STEP_WAITING_COLOR
    x, y = box.right - 1, box.top + 1
    group = ET.SubElement(overlay, _tag("g"), {"class": "gv-badge"})
    ET.SubElement(
        group,
        _tag("circle"),
        {"cx": _n(x), "cy": _n(y), "r": _n(BADGE_RADIUS), "fill": color, "stroke": "white"},
    )
    text = ET.SubElement(
        group,
        _tag("text"),
        {
            "x": _n(x),
            "y": _n(y + 3.5),
            "text-anchor": "middle",
            "font-family": "sans-serif",
            "font-size": "10",
            "font-weight": "bold",
            "fill": "white",
        },
    )
    text.text = badge


def _label(overlay: ET.Element, anchor: tuple[float, float], text: str) -> None:
    element = ET.SubElement(
        overlay,
        _tag("text"),
        {
            "class": "gv-label",
            "x": _n(anchor[0] + 4),
            "y": _n(anchor[1] + 3),
            "font-family": "monospace",
            "font-size": _n(LABEL_SIZE),
            "fill": "#8a5a00",
            "stroke": "white",
            "stroke-width": "3",
            "paint-order": "stroke",
        },
    )
    element.text = text


def _shape(group: ET.Element) -> ET.Element | None:
    """The node's filled outline: the first path, polygon or ellipse with a fill."""
    for element in group.iter():
        if element.tag in {_tag(s) for s in _SHAPES} and element.get("fill", "none") != "none":
            return element
    return None


def _box(shape: ET.Element) -> Box:
    if shape.tag == _tag("ellipse"):
        cx, cy = float(shape.get("cx", 0)), float(shape.get("cy", 0))
        rx, ry = float(shape.get("rx", 0)), float(shape.get("ry", 0))
        return Box(cx - rx, cy - ry, cx + rx, cy + ry)
    d = shape.get("d")
    points = _path_points(d) if d is not None else list(_pairs(_numbers(shape.get("points", ""))))
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    return Box(min(xs), min(ys), max(xs), max(ys))


def _path_points(d: str) -> list[tuple[float, float]]:
    """Every point of a path, absolute: Graphviz writes ``M`` and ``C`` with absolute
    pairs, the app's own SVG rounded boxes with relative ``h``, ``v`` and ``a``."""
    x = y = 0.0
    start = (0.0, 0.0)
    points: list[tuple[float, float]] = []
    for command, text in _COMMAND.findall(d):
        upper, values = command.upper(), _numbers(text)
        base = (x, y) if command.islower() else (0.0, 0.0)
        size = _ARGUMENTS[upper]
        chunks = (
            [values[i : i + size] for i in range(0, len(values) - size + 1, size)] if size else []
        )
        for chunk in chunks:
            x, y = _segment_end(upper, chunk, base, (x, y))
            points.append((x, y))
            base = (x, y) if command.islower() else base
            start = (x, y) if upper == "M" and len(points) == 1 else start
        if upper == "Z":
            x, y = start
    return points


def _segment_end(
    upper: str, chunk: list[float], base: tuple[float, float], at: tuple[float, float]
) -> tuple[float, float]:
    """Where one segment ends (control points lie inside a box's corners)."""
    if upper == "H":
        return chunk[0] + base[0], at[1]
    if upper == "V":
        return at[0], chunk[0] + base[1]
    return chunk[-2] + base[0], chunk[-1] + base[1]


def _numbers(text: str) -> list[float]:
    return [float(v) for v in _NUMBER.findall(text)]


def _pairs(values: list[float]) -> Iterator[tuple[float, float]]:
    return zip(values[0::2], values[1::2], strict=False)


def _middle(values: list[float]) -> tuple[float, float]:
    """Where a label sits on a Graphviz edge: the middle of its cubic Bezier chain."""
    points = list(_pairs(values))
    if not points:
        return (0.0, 0.0)
    segments = (len(points) - 1) // 3
    if segments < 1:
        return points[len(points) // 2]
    first = 3 * (segments // 2)
    p0, p1, p2, p3 = points[first : first + 4]
    t = 0.5 if segments % 2 else 0.0  # an even count: the joint in the middle
    return _bezier(p0, p1, p2, p3, t)


def _bezier(
    p0: tuple[float, float],
    p1: tuple[float, float],
    p2: tuple[float, float],
    p3: tuple[float, float],
    t: float,
) -> tuple[float, float]:
    u = 1 - t
    weights = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
    x = sum(w * p[0] for w, p in zip(weights, (p0, p1, p2, p3), strict=True))
    y = sum(w * p[1] for w, p in zip(weights, (p0, p1, p2, p3), strict=True))
    return (round(x, 2), round(y, 2))


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
