"""The explorer window's panels and actions: disabled reasons, collapse depth, colour-by,
themes, presentation mode, find results, overview map, inspector sections, status bar,
the error channel, and settings that survive a new window."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from graphviz_app.core.graph.collapse import modules_at_depth
from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.layout.style import GradRamp, grad_fills
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.common.theme import DARK, LIGHT, PRESENTATION_FONT
from graphviz_app.ui.graph.colour_by import ColourMode
from graphviz_app.ui.window.application import install_excepthooks
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def open_and_wait(qtbot, window: MainWindow, name: str = "two_layer_net") -> None:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model(name))


def backward_and_wait(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.backward_ready, timeout=WAIT_MS):
        window.run.backward_action.trigger()


def menu_actions(window: MainWindow) -> list[QAction]:
    found = []
    for menu in window.menuBar().findChildren(QMenu):
        found += [a for a in menu.actions() if not a.isSeparator() and a.menu() is None]
    return found


def test_every_action_explains_itself_and_why_it_is_disabled(window: MainWindow) -> None:
    for action in menu_actions(window):
        assert action.toolTip() and action.statusTip(), action.text()
    assert not window.files.export_action.isEnabled()
    assert "Unavailable now: open a model first" in window.files.export_action.toolTip()
    assert "open a model first" in window.run.backward_action.toolTip()
    assert "open a model first" in window.views.fit_action.statusTip()
    assert "run backward (F6) first" in window.stepper.actions[0].toolTip()
    assert "no job is running" in window.cancel_action.toolTip()
    gradient = window.appearance.colour_actions[ColourMode.GRADIENT]
    assert not gradient.isEnabled() and "run backward (F6) first" in gradient.toolTip()


def test_a_shown_graph_enables_the_actions_and_drops_the_reasons(qtbot, window) -> None:
    open_and_wait(qtbot, window)
    assert window.files.export_action.isEnabled()
    assert "Unavailable" not in window.files.export_action.toolTip()
    assert window.views.fit_action.isEnabled() and window.views.depth_box.isEnabled()
    assert window.status.device_label.text() == "cpu float32"


def test_collapse_depth_control(qtbot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, "transformer_block")
    box = window.views.depth_box
    assert box.itemText(0) == "all levels" and box.count() >= 3
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        box.activated.emit(1)  # the user picks "0: whole model"
    modules = [n for n in window.result.visible.nodes if n.kind is NodeKind.MODULE]
    assert [n.module for n in modules] == [""] and box.currentText() == "0: whole model"
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        box.activated.emit(2)  # the user picks "1"
    graph = window.result.graph
    assert window.result.style.collapsed == modules_at_depth(graph, 1)
    assert all(n.module is None or "." not in n.module for n in window.result.visible.nodes)
    assert box.currentText() == "1"
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.views.expand_action.trigger()
    assert window.result.style.collapsed == frozenset() and box.currentText() == "all levels"


def test_colour_by_dtype_module_and_value(qtbot, window: MainWindow) -> None:
    open_and_wait(qtbot, window)
    appearance, nodes = window.appearance, window.scene.nodes
    appearance.set_mode(ColourMode.DTYPE)
    with_tensor = [i for i in nodes.values() if i.node.tensor is not None]
    assert {i.fill_color() for i in with_tensor} == {LIGHT.categorical[0]}
    assert ("#e69f00", "float32") in appearance.legend.shown.entries
    assert appearance.legend.isVisible()
    appearance.set_mode(ColourMode.MODULE)
    fc1 = {i.fill_color() for i in nodes.values() if (i.node.module or "").startswith("fc1")}
    fc2 = {i.fill_color() for i in nodes.values() if (i.node.module or "").startswith("fc2")}
    assert len(fc1) == len(fc2) == 1 and fc1 != fc2
    appearance.set_mode(ColourMode.VALUE)
    norms = {
        key: i.node.tensor.stats.norm
        for key, i in nodes.items()
        if i.node.tensor is not None and i.node.tensor.stats is not None
    }
    expected = grad_fills(norms)
    assert {key: nodes[key].fill_color() for key in norms} == expected
    assert appearance.legend.shown.ramp == GradRamp.over(norms)
    appearance.set_mode(ColourMode.KIND)
    assert all(i.fill_color() == LIGHT.kind_fill[i.node.kind] for i in nodes.values())


def test_backward_colours_by_gradient_and_the_box_follows_the_menu(qtbot, window) -> None:
    open_and_wait(qtbot, window)
    backward_and_wait(qtbot, window)
    window.stepper.go_to(window.stepper.step_count - 1)  # End: every node has its gradient
    appearance = window.appearance
    assert appearance.mode is ColourMode.GRADIENT
    assert appearance.colour_actions[ColourMode.GRADIENT].isEnabled()
    fills = grad_fills(window.stepper.result.grad_norms())
    assert all(
        window.scene.nodes[k].fill_color() == v for k, v in fills.items() if k in window.scene.nodes
    )
    appearance.colour_actions[ColourMode.DTYPE].trigger()
    assert not window.stepper_panel.colour_box.isChecked()
    window.stepper_panel.colour_box.setChecked(True)
    assert appearance.mode is ColourMode.GRADIENT


def test_dark_theme_reaches_scene_view_inspector_and_legends(qtbot, window) -> None:
    open_and_wait(qtbot, window)
    leaf = next(i for i in window.scene.nodes.values() if i.node.kind is NodeKind.PARAMETER)
    window.scene.select_node(leaf.node_id)
    window.appearance.theme_actions["dark"].trigger()
    assert window.appearance.theme == DARK
    assert leaf.fill_color() == DARK.kind_fill[NodeKind.PARAMETER]
    corner = window.view.grab().toImage().pixelColor(3, window.view.height() // 2)
    assert corner.name() == DARK.background
    assert DARK.text in window.inspector.document().defaultStyleSheet()
    assert window.palette().window().color().name() == "#2b2d31"
    assert window.stepper.legend.theme == DARK and window.minimap.theme == DARK


def test_presentation_mode_lays_out_larger_with_thick_lines(qtbot, window) -> None:
    open_and_wait(qtbot, window)
    width = window.result.layout.width
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.appearance.presentation_action.trigger()
    assert window.result.style.font_size == PRESENTATION_FONT
    assert window.result.layout.width > width
    edge = next(iter(window.scene.edges.values()))
    assert edge.theme.presentation and edge.theme.edge_width > LIGHT.edge_width


def test_find_results_list_next_previous_and_click(qtbot, window: MainWindow) -> None:
    open_and_wait(qtbot, window)
    window.views.find_action.trigger()
    assert window.find_dock.isVisible()
    window.find_bar.edit.setText("module:fc1")
    graph = window.result.visible
    expected = [n.id for n in graph.nodes if n.module == "fc1"]
    assert window.find_bar.hits == expected and window.find_results.count() == len(expected)
    window.find_bar.next_button.click()
    window.find_bar.next_button.click()
    window.find_bar.prev_button.click()
    assert window.scene.selected_node_id() == expected[0]
    assert window.find_results.currentRow() == 0
    last = window.find_results.item(len(expected) - 1)
    window.find_results.itemClicked.emit(last)
    assert window.scene.selected_node_id() == expected[-1]
    assert window.find_bar.count.text() == f"{len(expected)} of {len(expected)}"


def test_overview_map_moves_the_view_and_hides(qtbot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, "residual_cnn")
    minimap = window.minimap
    assert minimap.isVisible()  # it opens zoomed in on the output, labels readable
    window.views.fit_action.trigger()
    assert not minimap.isVisible()  # the whole graph is on screen: no overview needed
    window.view.zoom_by(4)
    assert minimap.isVisible()
    middle = window.scene.sceneRect().center()
    nearest = min(
        window.scene.nodes.values(),
        key=lambda i: (i.node_rect().center() - middle).manhattanLength(),
    )
    target = nearest.node_rect().center()
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=minimap.to_map_point(target))
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    scale, _ = minimap.scale_and_offset()
    near = max(5.0, 1.0 / scale)  # a click lands on a whole pixel of the map
    assert abs(centre.x() - target.x()) < near and abs(centre.y() - target.y()) < near
    assert minimap.to_map(minimap.visible_rect()).contains(minimap.to_map_point(target))
    window.views.minimap_action.trigger()
    assert not minimap.isVisible()


def test_inspector_saved_tensors_help_extras_and_histograms(qtbot, window) -> None:
    window.inspector.add_extra(lambda graph, node_id: f"<p>extra for {node_id}</p>")
    window.inspector.add_extra(lambda graph, node_id: 1 / 0)  # a broken section is skipped
    open_and_wait(qtbot, window)
    graph = window.result.visible
    addmm = next(n for n in graph.nodes if n.name == "AddmmBackward0")
    window.scene.select_node(addmm.id)
    text = window.inspector.toPlainText()
    assert "Saved for backward" in text and "mat1" in text and "first values" in text
    assert "What is this node?" in text and "chain rule" in text
    assert f"extra for {addmm.id}" in text
    weight = next(n for n in graph.nodes if n.leaf_name == "fc1.weight")
    window.scene.select_node(weight.id)
    assert "AccumulateGrad" in window.inspector.toPlainText()
    values = window.histograms.values
    assert values.isVisible() and values.histogram.total == 128
    assert (values.histogram.low, values.histogram.high) == (
        weight.tensor.stats.min,
        weight.tensor.stats.max,
    )
    assert not window.histograms.grads.isVisible()
    backward_and_wait(qtbot, window)
    assert not window.histograms.grads.isVisible()  # step 1: backward has not reached it
    window.stepper.go_to(window.stepper.step_count - 1)  # End
    grads = window.histograms.grads
    step = window.stepper.step_for(weight.id)
    assert grads.isVisible() and grads.histogram == step.leaf_grad_after.histogram


def test_uncaught_errors_reach_the_error_box_and_the_window_goes_on(qtbot, window) -> None:
    open_and_wait(qtbot, window)
    shown = window.result
    restore = install_excepthooks(window)
    try:
        with qtbot.waitSignal(window.error_shown) as blocker:
            try:
                raise ValueError("boom in a slot")
            except ValueError:
                sys.excepthook(*sys.exc_info())
        assert blocker.args == ["Unexpected error: ValueError: boom in a slot"]
        box = window.errors._box
        assert box is not None and "bug in graphviz_app" in box.informativeText()
        assert "boom in a slot" in box.detailedText()
        with qtbot.waitSignal(window.error_shown) as blocker:
            thread = threading.Thread(target=lambda: 1 / 0)
            thread.start()
            thread.join()
        assert "ZeroDivisionError" in blocker.args[0]
    finally:
        restore()
        window.errors.close()
    assert window.result is shown and len(window.scene.nodes) > 0


def test_busy_bar_only_for_jobs_longer_than_200_ms(qtbot, window: MainWindow) -> None:
    status = window.status
    status.set_busy(True, "quick")
    status.set_busy(False, "")
    assert not status.progress.isVisible()
    status.set_busy(True, "slow")
    assert window.cancel_action.isEnabled()
    qtbot.waitUntil(status.progress.isVisible, timeout=2000)
    assert status.cancel_button.isVisible()
    status.set_busy(False, "")
    assert not status.progress.isVisible()


def test_panels_menu_hides_and_restores_docks(qtbot, window: MainWindow) -> None:
    titles = [a.text() for a in window.panels_menu.actions()]
    assert {"Models", "Inspector", "Lesson", "Find results", "Backward pass"} <= set(titles)
    toggle = next(a for a in window.panels_menu.actions() if a.text() == "Lesson")
    toggle.trigger()
    assert not window.lesson_dock.isVisible()
    toggle.trigger()
    assert window.lesson_dock.isVisible()


def test_settings_survive_a_new_window(qtbot, settings: QSettings) -> None:
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.show()
    open_and_wait(qtbot, first)
    first.appearance.themes.choose("colour-blind")
    first.appearance.set_mode(ColourMode.DTYPE)
    first.lesson_dock.close()
    first.close()
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    second.show()
    try:
        assert second.appearance.themes.choice == "colour-blind"
        assert second.appearance.theme_actions["colour-blind"].isChecked()
        assert second.appearance.mode is ColourMode.DTYPE
        assert not second.lesson_dock.isVisible() and second.inspector_dock.isVisible()
        # The offscreen screen is 800x800, which clamps any restored size: check that
        # the geometry was saved and is accepted, not the pixels.
        assert second.restoreGeometry(settings.value("geometry"))
        assert settings.value("last_model") == str(resolve_model("two_layer_net"))
    finally:
        second.close()


@pytest.mark.parametrize("name", ["light", "dark", "colour-blind"])
def test_each_theme_draws_selected_nodes_in_its_colour(qtbot, window, name: str) -> None:
    open_and_wait(qtbot, window)
    window.appearance.themes.choose(name)
    item = next(iter(window.scene.nodes.values()))
    window.scene.select_node(item.node_id)
    theme = window.appearance.theme
    assert item.selection_pen().color().name() == theme.link == theme.selected


def test_a_finished_jobs_message_leaves_the_status_bar(qtbot, window: MainWindow) -> None:
    status = window.status
    status.showMessage("Large graph: opened folded")
    status.set_busy(True, "Preparing training")
    status._show_busy(True)  # as if it had run past the busy delay
    assert status.currentMessage() == "Preparing training..."
    status.set_busy(False, "")
    assert status.currentMessage() == "Large graph: opened folded"  # what it replaced
    status.showMessage("Exported g.svg")
    status.set_busy(True, "Laying out")
    status.set_busy(False, "")  # quick: never shown, so the last message stays
    assert status.currentMessage() == "Exported g.svg"
