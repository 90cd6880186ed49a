"""Zoomed out past readable labels, one FarPicture draws the graph; the items stay
clickable, and zooming back in hands the drawing back to them."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.layout.dot import compute_layout, to_dot
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView

NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


@pytest.fixture
def view(qtbot) -> GraphView:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    graph = forward_and_capture(model, (torch.randn(2, 4),)).graph
    scene = GraphScene()
    scene.show_graph(graph, compute_layout(to_dot(graph), find_engine()), GraphStyle())
    widget = GraphView()
    widget.setScene(scene)
    widget.resize(500, 400)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def zoom_to(view: GraphView, scale: float) -> None:
    view.resetTransform()
    view.scale(scale, scale)
    view.viewport().grab()  # a paint: the scene picks its drawing for this scale


def test_far_away_one_picture_draws_and_the_items_only_listen(view: GraphView) -> None:
    scene = view.scene()
    zoom_to(view, 0.2)
    assert scene.far.isVisible()
    assert all(item.flags() & NO_CONTENTS for item in scene.nodes.values())
    zoom_to(view, 1.0)
    assert not scene.far.isVisible()
    assert not any(item.flags() & NO_CONTENTS for item in scene.nodes.values())


def test_the_far_picture_shows_fills_and_selection_of_the_items(qtbot, view: GraphView) -> None:
    scene = view.scene()
    item = scene.nodes["n2"]
    item.set_fill("#21918c")
    zoom_to(view, 0.3)
    view.centerOn(item)
    image = view.viewport().grab().toImage()
    centre = view.mapFromScene(item.node_rect().center())
    assert QColor(image.pixel(centre)).name() == "#21918c"
    with qtbot.waitSignal(scene.node_selected) as blocker:  # clicks reach the item
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert blocker.args == ["n2"] and scene.selected_node_id() == "n2"
