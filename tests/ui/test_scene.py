"""The graph scene and view, built from a real captured graph and layout."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from PySide6.QtCore import QPointF, Qt

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import GraphLayout, compute_layout, to_dot
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import MAX_SCALE, MIN_SCALE, GraphView


@pytest.fixture(scope="module")
def captured() -> tuple[AutogradGraph, GraphLayout]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    run = forward_and_capture(model, (torch.randn(2, 4),), lambda out, x: out.square().sum())
    return run.graph, compute_layout(to_dot(run.graph), find_engine())


@pytest.fixture
def view(qtbot, captured):
    graph, layout = captured
    scene = GraphScene()
    scene.show_graph(graph, layout, GraphStyle())
    widget = GraphView()
    widget.setScene(scene)
    widget.resize(500, 400)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_item_counts_equal_graph_counts(view: GraphView, captured) -> None:
    graph, layout = captured
    scene = view.scene()
    assert set(scene.nodes) == {n.id for n in graph.nodes}
    assert len(scene.edges) == len(graph.edges)
    assert len(scene.clusters) == len(layout.clusters) > 0


def test_selecting_a_node_emits_its_id(qtbot, view: GraphView) -> None:
    scene = view.scene()
    with qtbot.waitSignal(scene.node_selected) as blocker:
        scene.select_node("n2")
    assert blocker.args == ["n2"]
    assert scene.selected_node_id() == "n2"


def test_clicking_a_node_selects_it(qtbot, view: GraphView) -> None:
    scene = view.scene()
    view.fit_all()
    item = scene.nodes["n1"]
    point = view.mapFromScene(item.sceneBoundingRect().center())
    with qtbot.waitSignal(scene.node_selected) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == ["n1"]


def test_hover_highlights_exactly_the_nodes_edges(view: GraphView, captured) -> None:
    graph, _ = captured
    scene = view.scene()
    node = next(n for n in graph.nodes if n.name == "AddmmBackward0")
    scene.hover_node(node.id)
    expected = {
        f"{e.source}>{e.target}#{e.input_index}"
        for e in graph.edges
        if node.id in (e.source, e.target)
    }
    assert scene.highlighted_edge_ids() == expected
    assert scene.nodes[node.id].highlighted
    scene.hover_node("")
    assert scene.highlighted_edge_ids() == set()


def test_fit_shows_the_whole_bounding_box(view: GraphView, captured) -> None:
    _, layout = captured
    view.zoom_by(5)
    view.fit_all()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(QPointF(0, 0))
    assert visible.contains(QPointF(layout.width, layout.height))


def test_zoom_is_clamped(view: GraphView) -> None:
    for _ in range(100):
        view.zoom_in()
    assert view.current_scale() == pytest.approx(MAX_SCALE)
    for _ in range(200):
        view.zoom_out()
    assert view.current_scale() == pytest.approx(MIN_SCALE)


def test_same_layout_updates_records_without_rebuilding_items(view: GraphView, captured) -> None:
    graph, layout = captured
    scene = view.scene()
    scene.select_node("n2")
    items_before = dict(scene.nodes)
    changed = dataclasses.replace(graph.node("n2"), op="changed-op")
    new_graph = dataclasses.replace(
        graph, nodes=tuple(changed if n.id == "n2" else n for n in graph.nodes)
    )
    scene.show_graph(new_graph, layout, GraphStyle())
    assert scene.nodes == items_before  # the very same items
    assert scene.nodes["n2"].node.op == "changed-op"
    assert scene.selected_node_id() == "n2"


def test_reveal_zooms_in_only_when_labels_would_be_unreadable(view: GraphView) -> None:
    items = list(view.scene().nodes.values())
    view.zoom_by(0.1 / view.current_scale())
    view.reveal(items[0].node_rect(), 0.7)
    assert view.current_scale() == pytest.approx(0.7)
    view.reveal(items[-1].node_rect(), 0.3)  # readable already: scroll, keep the zoom
    assert view.current_scale() == pytest.approx(0.7)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(items[-1].node_rect())
