"""The main window opening models through its worker thread."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def open_and_wait(qtbot, window: MainWindow, path: Path | str) -> None:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(path)


def test_opening_the_builtin_example_shows_its_captured_graph(qtbot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, resolve_model("two_layer_net"))
    result = window.result
    assert result is not None
    assert len(window.scene.nodes) == len(result.graph.nodes) > 5
    names = {item.node.title for item in window.scene.nodes.values()}
    assert {"fc1.weight", "fc2.bias", "NllLossBackward0"} <= names
    assert (
        "graphviz-pure" in window.status.engine_label.text() or "dot" in window.engine_label.text()
    )
    assert f"{len(result.graph.nodes)} nodes" in window.status.count_label.text()
    assert window.files.export_action.isEnabled()


def test_selecting_a_node_fills_the_inspector(qtbot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, resolve_model("two_layer_net"))
    graph = window.result.graph
    leaf = next(n for n in graph.nodes if n.leaf_name == "fc1.weight")
    window.scene.select_node(leaf.id)
    text = window.inspector.toPlainText()
    assert "fc1.weight" in text and "(16, 8) float32" in text


def test_a_syntax_error_is_a_message_not_a_crash(qtbot, window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("def build_model(:\n    pass\n")
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as blocker:
        window.trust.trust(bad)  # the user said yes to running it (see test_trust.py)
        window.open_model(bad)
    assert "syntax error at line 1" in blocker.args[0]
    open_and_wait(qtbot, window, resolve_model("two_layer_net"))  # still usable


def test_a_forward_that_raises_is_reported(qtbot, window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "shapes.py"
    bad.write_text(
        "import torch\n"
        "def build_model():\n    return torch.nn.Linear(3, 2)\n"
        "def example_inputs():\n    return torch.randn(4, 5)\n"
    )
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as blocker:
        window.trust.trust(bad)  # the user said yes to running it (see test_trust.py)
        window.open_model(bad)
    assert "forward raised RuntimeError" in blocker.args[0]
    assert window.result is None


def test_export_svg_writes_every_node_label(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_and_wait(qtbot, window, resolve_model("two_layer_net"))
    target = tmp_path / "graph.svg"
    with qtbot.waitSignal(window.controller.exported, timeout=WAIT_MS):
        window.files.export_to(target)
    root = ET.parse(target).getroot()
    svg_nodes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"]
    assert len(svg_nodes) == len(window.scene.nodes)
    text = target.read_text()
    for item in window.scene.nodes.values():
        assert item.node.title in text


def test_double_clicking_a_module_collapses_and_expands_it(
    qtbot, window: MainWindow, double_click_module
) -> None:
    open_and_wait(qtbot, window, resolve_model("residual_cnn"))
    full_count = len(window.scene.nodes)
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        double_click_module(window, "block")
    collapsed = [i for i in window.scene.nodes.values() if i.node.module == "block"]
    assert len(collapsed) == 1 and collapsed[0].node.leaf_name == "block (ResidualBlock)"
    assert len(window.scene.nodes) < full_count
    assert "block" not in {c.module for c in window.scene.clusters.values()}
    window.view.centerOn(collapsed[0])
    center = window.view.mapFromScene(collapsed[0].sceneBoundingRect().center())
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    assert len(window.scene.nodes) == full_count


def test_a_big_graph_opens_collapsed_and_says_so(qtbot, window: MainWindow) -> None:
    drawer = window.controller._worker._session_or_new().drawer
    drawer.fold_above = drawer.auto_collapse_above = 10
    open_and_wait(qtbot, window, resolve_model("residual_cnn"))
    assert window.style_options.collapsed == {"stem", "block", "pool", "head"}
    assert "modules collapsed" in window.status.currentMessage()
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.scene.toggle_module("block")  # the user's choice is kept from now on
    assert window.style_options.collapsed == {"stem", "pool", "head"}


def test_the_lesson_panel_shows_the_lesson_and_its_links_select_nodes(
    qtbot, window: MainWindow
) -> None:
    open_and_wait(qtbot, window, resolve_model("two_layer_net"))
    assert "What to look at." in window.lesson.toPlainText()
    window.lesson.anchorClicked.emit(QUrl("node:fc1.weight"))
    selected = window.scene.selected_node_id()
    assert window.result.visible.node(selected).leaf_name == "fc1.weight"
    window.lesson.anchorClicked.emit(QUrl("node:NoSuchNode"))
    assert "No node called NoSuchNode" in window.status.currentMessage()


def test_the_source_link_opens_the_users_file(qtbot, window: MainWindow, monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    open_and_wait(qtbot, window, resolve_model("two_layer_net"))
    graph = window.result.visible
    relu = next(n for n in graph.nodes if n.name == "ReluBackward0")
    window.scene.select_node(relu.id)
    assert "Open two_layer_net.py in the editor" in window.inspector.toPlainText()
    window.inspector.anchorClicked.emit(QUrl.fromLocalFile(relu.source.file))
    assert opened == [relu.source.file]


def test_opening_another_model_clears_the_inspector(qtbot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, resolve_model("two_layer_net"))
    window.scene.select_node(next(iter(window.scene.nodes)))
    assert "Click a node" not in window.inspector.toPlainText()
    open_and_wait(qtbot, window, resolve_model("residual_cnn"))
    assert "Click a node" in window.inspector.toPlainText()
    assert window.histograms.values.histogram is None and window.histograms.grads.histogram is None


def test_the_selection_follows_its_node_into_a_graph_of_another_structure(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("dynamic_net"))
    first = window.result.visible
    weight = next(n.id for n in first.nodes if n.leaf_name == "middle.weight")
    window.scene.select_node(weight)
    for _ in range(20):  # the depth comes from a seeded random.Random: repeatable
        with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
            window.run.forward_action.trigger()
        if len(window.result.visible.nodes) != len(first.nodes):
            break
    graph = window.result.visible
    assert len(graph.nodes) != len(first.nodes)
    selected = window.scene.selected_node_id()
    assert graph.node(selected).leaf_name == "middle.weight" and selected != weight
    assert "middle.weight" in window.inspector.toPlainText()


def test_actions_are_enabled_only_when_they_can_work(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    run = window.run
    for action in (run.train_action, run.walkthrough_action, window.files.export_action):
        assert not action.isEnabled(), action.text()
    assert "open a model first" in run.train_action.toolTip()
    with qtbot.waitSignal(window.picture_shown, timeout=60_000):
        window.open_model(resolve_model("two_layer_net"))
    assert run.train_action.isEnabled() and "Unavailable" not in run.train_action.toolTip()
    assert not run.walkthrough_action.isEnabled()  # nothing recorded to walk through yet
    with qtbot.waitSignal(window.controller.backward_ready, timeout=60_000):
        run.backward_action.trigger()
    assert run.walkthrough_action.isEnabled()
    with qtbot.waitSignal(window.picture_shown, timeout=60_000):
        window.open_model(resolve_model("custom_relu"))
    assert not run.walkthrough_action.isEnabled()  # that pass was another model's
