"""The SVG drawn from a layout: every node, edge and module box, Graphviz's structure."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import Marks, compute_layout, to_dot
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.style import SELECTED_COLOR, GraphStyle
from graphviz_app.core.layout.svg import to_svg

SVG = "{http://www.w3.org/2000/svg}"


def hostile_graph() -> AutogradGraph:
    model = nn.Sequential()
    model.add_module('we"ird{<name>} & é\\', nn.Linear(3, 2))
    model.add_module("tail;->", nn.Tanh())
    return forward_and_capture(model, (torch.randn(1, 3),)).graph


def groups(root: ET.Element, kind: str) -> dict[str, ET.Element]:
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == kind:
            title = group.find(f"{SVG}title")
            assert title is not None and title.text
            found[title.text] = group
    return found


def test_every_node_edge_and_module_is_drawn_with_its_label(engine: GraphvizEngine) -> None:
    graph, style = hostile_graph(), GraphStyle()
    layout = compute_layout(to_dot(graph, style), engine)
    root = ET.fromstring(to_svg(graph, layout, style))
    nodes = groups(root, "node")
    assert set(nodes) == {n.id for n in graph.nodes}
    assert len(groups(root, "edge")) == len(graph.edges)
    assert len(groups(root, "cluster")) == len(layout.clusters) == 2
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert 'we"ird{<name>} & é\\.weight' in texts  # escaped for XML, shown as typed
    assert "tail;->" in texts
    assert root.get("width", "").endswith("pt")


def test_marks_colour_and_highlight_without_a_new_layout(engine: GraphvizEngine) -> None:
    graph, style = hostile_graph(), GraphStyle()
    layout = compute_layout(to_dot(graph, style), engine)
    chosen = graph.nodes[2].id
    marks = Marks(frozenset({chosen}), {graph.nodes[1].id: "#21918c"})
    root = ET.fromstring(to_svg(graph, layout, style, marks))
    shapes = {k: g.find(f".//{SVG}path") for k, g in groups(root, "node").items()}
    assert shapes[chosen].get("stroke") == SELECTED_COLOR  # type: ignore[union-attr]
    assert shapes[chosen].get("stroke-dasharray")  # type: ignore[union-attr]
    assert shapes[graph.nodes[1].id].get("fill") == "#21918c"  # type: ignore[union-attr]
    strokes = [s.get("stroke") for s in shapes.values()]  # type: ignore[union-attr]
    assert strokes.count(SELECTED_COLOR) == 1


def test_boxes_and_splines_sit_where_the_layout_says(engine: GraphvizEngine) -> None:
    graph, style = hostile_graph(), GraphStyle(rankdir="LR")
    layout = compute_layout(to_dot(graph, style), engine)
    root = ET.fromstring(to_svg(graph, layout, style))
    first = layout.nodes[0]
    group = groups(root, "node")[first.id]
    text = group.find(f".//{SVG}text")
    assert text is not None
    assert float(text.get("x", "0")) * 96 / 72 == pytest.approx(first.x, abs=0.02)
    edge = groups(root, "edge")
    assert all(g.find(f"{SVG}path") is not None for g in edge.values())
    assert all(g.find(f"{SVG}polygon") is not None for g in edge.values())
