"""Fitting the graph: no node under a legend, and readable labels in presentation mode."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.graph.view import OVERLAY_GAP, clear_fit
from graphviz_app.ui.window.appearance import READABLE_SCALE
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def _open(qtbot, window: MainWindow, name: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model(name))


def _on_screen(window: MainWindow, rect: QRectF) -> QRectF:
    return QRectF(window.view.mapFromScene(rect).boundingRect())


def test_no_node_is_drawn_under_the_legend_after_a_fit(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.resize(1200, 800)
    _open(qtbot, window, "residual_cnn")  # its output sits in the bottom-left corner
    legend = window.appearance.legend
    assert legend.isVisible()
    covered = QRectF(legend.geometry())
    for item in window.scene.nodes.values():
        assert not _on_screen(window, item.node_rect()).intersects(covered), item.node_id


def test_the_legend_is_as_wide_as_its_longest_label(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, "two_layer_net")
    assert window.appearance.legend.width() < 200  # four short kind names, not 250 px


def test_presentation_mode_opens_at_a_readable_zoom_on_the_output(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.resize(1200, 800)
    window.appearance.themes.set_presentation(True)
    _open(qtbot, window, "residual_cnn")
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)
    assert window.view.current_scale() == pytest.approx(READABLE_SCALE)
    output = next(n.id for n in window.result.visible.nodes if n.kind is NodeKind.OUTPUT)
    shown = QRectF(window.view.viewport().rect())
    assert shown.contains(_on_screen(window, window.scene.nodes[output].node_rect()))
    window.views.fit_action.trigger()  # F still shows everything
    assert window.view.current_scale() < READABLE_SCALE


def test_clear_fit_picks_the_strip_that_costs_least() -> None:
    wide = QRectF(0, 0, 1000, 100)  # a wide graph: a strip below the legend costs nothing
    scale, margins = clear_fit(wide, 1000, 400, [(200, 80, Qt.Corner.BottomLeftCorner)])
    assert scale == 1.0 and margins == (0, 0, 0, 80 + 2 * OVERLAY_GAP)
    tall = QRectF(0, 0, 100, 1000)  # a tall graph: a strip beside it costs nothing
    scale, margins = clear_fit(tall, 400, 1000, [(200, 80, Qt.Corner.BottomLeftCorner)])
    assert scale == 1.0 and margins == (200 + 2 * OVERLAY_GAP, 0, 0, 0)
    assert clear_fit(wide, 1000, 400, []) == (1.0, (0, 0, 0, 0))
