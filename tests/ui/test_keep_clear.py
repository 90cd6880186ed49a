"""Centring on a node keeps it out from under the corner overlays (the overview map,
the legends), and the overlays stay in their corners while the view scrolls."""

from __future__ import annotations

from PySide6.QtCore import QRect

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.graph.view import OVERLAY_GAP, clear_shift
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def _covered(window: MainWindow, node_id: str) -> list[str]:
    """The shown overlays that cover part of ``node_id`` on screen."""
    view = window.view
    rect = view.mapFromScene(window.scene.nodes[node_id].node_rect()).boundingRect()
    overlays = (window.minimap, window.legend, window.appearance.legend)
    return [type(w).__name__ for w in overlays if w.isVisible() and w.geometry().intersects(rect)]


def _in_corner(window: MainWindow) -> bool:
    """The overview map sits OVERLAY_GAP from the viewport's bottom-right corner."""
    area, map_ = window.view.viewport().rect(), window.minimap.geometry()
    gaps = (area.right() - map_.right(), area.bottom() - map_.bottom())
    return gaps == (OVERLAY_GAP, OVERLAY_GAP)


def test_jump_to_first_inf_leaves_its_node_clear_of_the_overview_map(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.resize(1280, 800)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("nan_in_backward"))
    part = window.parts["HealthControls"]
    part.check_action.trigger()
    qtbot.waitUntil(lambda: part.report is not None and not window.controller.busy, timeout=WAIT_MS)
    for action in (part.jump_inf_action, part.jump_nan_action):
        action.trigger()
        qtbot.wait(1)  # let a scroll bar that came with the scroll lay the viewport out
        node = window.scene.selected_node_id()
        assert window.minimap.isVisible()  # zoomed in: the map is there to be avoided
        assert _in_corner(window)
        assert not _covered(window, node), (action.text(), _covered(window, node))


def test_stepping_and_links_keep_each_node_clear(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.resize(1280, 800)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("residual_cnn"))
    with qtbot.waitSignal(window.controller.backward_ready, timeout=WAIT_MS):
        window.run.backward_action.trigger()
    for step in window.stepper.result.trace.steps:
        window.stepper.go_to(step.index, follow=True)
        qtbot.wait(1)
        assert _in_corner(window) or not window.minimap.isVisible()
        drawn = window.stepper.view.owner.get(step.node_id, step.node_id)
        assert not _covered(window, drawn), (step.index, _covered(window, drawn))
    for node_id in window.scene.nodes:  # an inspector or lesson link, a find hit
        window.navigator.go_to(node_id)
        qtbot.wait(1)
        assert not _covered(window, node_id), (node_id, _covered(window, node_id))


def test_clear_shift_takes_the_shortest_way_out() -> None:
    area = QRect(0, 0, 700, 450)
    minimap = QRect(472, 282, 220, 160)
    assert clear_shift(QRect(100, 100, 90, 50), [minimap], area) == (0, 0)
    # Half under the map's top-left corner: up is shorter than left.
    dx, dy = clear_shift(QRect(420, 260, 90, 40), [minimap], area)
    assert (dx, dy) == (0, 282 - OVERLAY_GAP - 299 - 1)
    moved = QRect(420, 260, 90, 40).translated(dx, dy)
    assert not moved.intersects(minimap) and area.contains(moved)
    assert clear_shift(QRect(0, 0, 700, 450), [minimap], area) is None  # bigger than the room
