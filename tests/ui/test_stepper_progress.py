"""Stepping through backward shows only what has happened, readably, with the kind kept."""

from __future__ import annotations

import colorsys

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from graphviz_app.core.layout.style import GradRamp, grad_fills
from graphviz_app.ui.backward.stepper import chain_rule_html, readable_scale
from graphviz_app.ui.graph.items import CURRENT_COLOR, STRIPE_PX
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def render(scene: QGraphicsScene, rect: QRectF, scale: float = 1.0) -> QImage:
    """``rect`` of ``scene`` drawn at ``scale``, on white, without antialiasing."""
    image = QImage(
        int(rect.width() * scale), int(rect.height() * scale), QImage.Format.Format_RGB32
    )
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), rect)
    painter.end()
    return image


def count_near(image: QImage, color: str, tolerance: int = 40) -> int:
    target = QColor(color)
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            distance = (
                abs(pixel.red() - target.red())
                + abs(pixel.green() - target.green())
                + abs(pixel.blue() - target.blue())
            )
            count += distance <= tolerance
    return count


def test_only_nodes_backward_has_reached_are_coloured(stepped: MainWindow) -> None:
    stepper = stepped.stepper
    steps = stepper.result.trace.steps
    final = grad_fills(stepper.result.grad_norms())
    middle = len(steps) // 2
    stepper.go_to(middle)
    reached = {s.node_id for s in steps[: middle + 1]}
    assert set(stepper.current_fills()) == reached & set(final)
    for step in steps:
        item = stepped.scene.nodes[step.node_id]
        if step.index <= middle:
            assert item.fill_color() == final[step.node_id]
        else:
            assert item.fill_color() == item.theme.kind_fill[item.node.kind]
    stepper.go_to(len(steps) - 1)  # at the end every node has its final colour
    assert stepper.current_fills() == final


def test_a_node_not_reached_yet_says_so(stepped: MainWindow) -> None:
    stepper = stepped.stepper
    graph = stepper.result.graph
    leaf = next(n for n in graph.nodes if n.leaf_name == "fc1.weight")
    step = stepper.step_for(leaf.id)
    stepper.go_to(step.index - 1)
    assert stepper.reached_step(leaf.id) is None
    section = stepper.inspector_section(graph, leaf.id)
    assert "Not reached yet" in section and f"step {step.index + 1}" in section
    stepper.go_to(step.index)
    assert stepper.reached_step(leaf.id) is step
    assert stepper.inspector_section(graph, leaf.id) == ""


def test_selection_and_current_step_are_drawn_differently_and_together(
    stepped: MainWindow,
) -> None:
    stepped.stepper_panel.colour_box.setChecked(False)  # kind fills: known colours
    step = stepped.stepper.result.trace.steps[3]
    item = stepped.scene.nodes[step.node_id]
    stepped.stepper.go_to(step.index)
    area = item.sceneBoundingRect()
    before = render(stepped.scene, area, 2.0)
    assert count_near(before, item.theme.link) == 0
    stepped.scene.select_node(step.node_id)
    both = render(stepped.scene, area, 2.0)
    assert count_near(both, item.theme.link) > 40  # the selection ring
    assert count_near(both, CURRENT_COLOR) > 40  # and the current step's border
    vermillion = "#d55e00"  # CopySlices' colour: no longer the selection's
    assert count_near(both, vermillion, 30) <= count_near(before, vermillion, 30)


def test_stepping_zoomed_out_zooms_in_to_the_current_node(stepped: MainWindow) -> None:
    view, stepper = stepped.view, stepped.stepper
    stepper.go_to(0)
    view.zoom_by(0.15 / view.current_scale())
    stepper.actions[3].trigger()  # Step forward (Right)
    item = stepped.scene.nodes[stepper.result.trace.steps[1].node_id]
    assert view.current_scale() >= readable_scale(item) * 0.999
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(item.node_rect())


def test_stepping_scrolls_to_a_node_off_screen(stepped: MainWindow) -> None:
    view, stepper = stepped.view, stepped.stepper
    view.zoom_by(2.0 / view.current_scale())
    last = stepper.result.trace.steps[-1]
    view.centerOn(stepped.scene.nodes[stepper.result.trace.steps[0].node_id])
    stepper.go_to(last.index - 1)
    stepper.actions[3].trigger()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(stepped.scene.nodes[last.node_id].node_rect())
    assert view.current_scale() == pytest.approx(2.0)  # readable already: no zoom change


def test_edge_gradient_labels_are_not_drawn_when_unreadable(stepped: MainWindow) -> None:
    stepper = stepped.stepper
    steps = stepper.result.trace.steps
    addmm = next(s for s in steps if stepped.result.graph.node(s.node_id).name == "AddmmBackward0")
    stepper.go_to(addmm.index)
    edge = next(e for e in stepped.scene.edges.values() if e.label)
    area = edge.sceneBoundingRect()
    text = edge.label
    small, large = render(stepped.scene, area, 0.3), render(stepped.scene, area, 1.0)
    edge.set_label("")
    assert render(stepped.scene, area, 1.0) != large  # readable: the label is drawn
    assert render(stepped.scene, area, 0.3) == small  # a 4 px smudge is not
    edge.set_label(text)


def test_a_node_coloured_by_gradient_keeps_its_kind_as_a_stripe(stepped: MainWindow) -> None:
    stepped.stepper.go_to(stepped.stepper.step_count - 1)  # End: fc1.weight has its gradient
    leaf = next(n for n in stepped.result.graph.nodes if n.leaf_name == "fc1.weight")
    item = stepped.scene.nodes[leaf.id]
    assert item.fill_color() != item.theme.kind_fill[leaf.kind]  # by gradient now
    rect = item.node_rect()
    image = render(stepped.scene, rect, 1.0)
    middle = image.height() // 2
    stripe = image.pixelColor(STRIPE_PX // 2, middle).name()
    inside = image.pixelColor(STRIPE_PX + 4, 4).name()
    assert stripe == item.theme.kind_fill[leaf.kind]
    assert inside == item.fill_color()


def test_the_gradient_ramp_never_turns_yellow_or_orange() -> None:
    ramp = GradRamp(1e-4, 1.0)
    for i in range(41):
        color = QColor(ramp.color(10 ** (-4 + i / 10)))
        hue, _, saturation = colorsys.rgb_to_hls(color.redF(), color.greenF(), color.blueF())
        # Yellow and orange are kind colours (view, input, CopySlices).
        assert not (15 / 360 <= hue <= 75 / 360 and saturation > 0.3), color.name()


def test_the_chain_rule_header_fits_the_node(stepped: MainWindow) -> None:
    graph = stepped.stepper.result.graph
    by_name = {graph.node(s.node_id).name: s for s in stepped.stepper.result.trace.steps}
    leaf_html = chain_rule_html(graph, by_name["AccumulateGrad"])
    assert ".grad +=" in leaf_html and "local derivative" not in leaf_html
    assert "local derivative" in chain_rule_html(graph, by_name["AddmmBackward0"])
