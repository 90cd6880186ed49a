"""The window at 1280x800: the graph gets the room, every toolbar button shows, and a
small model opens with labels one can read."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QToolBar

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.backward.stepper import READABLE_TEXT_PX
from graphviz_app.ui.window.main_window import MainWindow
from graphviz_app.ui.window.status import ZOOMED

WAIT_MS = 60_000
CLASSES = Path(__file__).resolve().parents[1] / "data" / "classes"


def _open(qtbot, window: MainWindow, path: str | Path) -> None:  # type: ignore[no-untyped-def]
    window.resize(1280, 800)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)


def _label_px(window: MainWindow) -> float:
    """How tall the node labels are on screen now."""
    item = next(iter(window.scene.nodes.values()))
    return window.view.current_scale() * item.label_pixel_size()


def test_every_toolbar_button_shows_at_1280_px(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, resolve_model("two_layer_net"))
    toolbar = window.findChild(QToolBar, "main_toolbar")
    hidden = [
        a.iconText() or type(toolbar.widgetForAction(a)).__name__
        for a in toolbar.actions()
        if not a.isSeparator() and not toolbar.widgetForAction(a).isVisible()
    ]
    assert not hidden, f"in the toolbar's overflow menu: {hidden}"
    health = window.parts["HealthControls"].check_action
    assert toolbar.widgetForAction(health).isVisible()
    assert window.views.depth_box.isVisible()
    # The menus keep the whole names; the tooltips say what the short ones do.
    assert window.files.open_action.text() != window.files.open_action.iconText()
    assert "Zoom" in window.views.zoom_in_action.toolTip()


def test_the_graph_gets_most_of_the_window(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, resolve_model("two_layer_net"))
    size = window.view.viewport().size()
    assert size.width() >= 720 and size.height() >= 500, size  # was 736 x 446
    assert window.backward_dock.height() <= 220


@pytest.mark.parametrize("name", ["cifar_cnn", "double_backward", "residual_cnn"])
def test_a_small_model_opens_with_readable_labels_on_its_output(qtbot, window, name) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, resolve_model(name))
    assert _label_px(window) >= READABLE_TEXT_PX - 0.01
    output = next(n.id for n in window.result.visible.nodes if n.kind is NodeKind.OUTPUT)
    on_screen = window.view.mapFromScene(window.scene.nodes[output].node_rect()).boundingRect()
    assert window.view.viewport().rect().contains(on_screen)
    assert ZOOMED in window.status.currentMessage()
    assert window.minimap.isVisible()  # the rest is on the overview map


def test_a_graph_readable_when_fitted_opens_whole(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, resolve_model("two_layer_net"))
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert all(visible.contains(i.node_rect()) for i in window.scene.nodes.values())
    assert ZOOMED not in window.status.currentMessage()


def test_a_big_model_opens_on_its_overall_shape(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    path = CLASSES / "config_gpt.py"  # 95 nodes: about 20 screens at 9 px
    window.trust.trust(path)  # the question before running a file is tested elsewhere
    _open(qtbot, window, path)
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert all(visible.contains(i.node_rect()) for i in window.scene.nodes.values())
