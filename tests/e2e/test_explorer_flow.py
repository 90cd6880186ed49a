"""One real window driven end to end, as a person would use it.

Open the built-in example, wait for the graph, click a node and read the inspector,
follow a link to a neighbour, collapse a module by double-clicking its box, switch the
layout to left-to-right, export SVG and check the file against the screen.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import Qt

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def click_node(qtbot, window: MainWindow, node_id: str) -> None:
    item = window.scene.nodes[node_id]
    window.view.centerOn(item)
    point = window.view.mapFromScene(item.sceneBoundingRect().center())
    with qtbot.waitSignal(window.scene.node_selected):
        qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_explore_collapse_relayout_and_export(
    qtbot, window: MainWindow, tmp_path: Path, double_click_module
) -> None:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("residual_cnn"))
    graph = window.result.visible
    conv = next(n for n in graph.nodes if n.module == "block.conv1" and n.op == "conv2d")
    click_node(qtbot, window, conv.id)
    assert "ConvolutionBackward0" in window.inspector.toPlainText()
    assert "block.conv1" in window.inspector.toPlainText()
    assert "What is this node?" in window.inspector.toPlainText()
    assert window.histograms.values.isVisible()  # its output's value histogram

    weight = next(e.source for e in graph.in_edges(conv.id))
    window.inspector.node_link_clicked.emit(weight)
    assert window.scene.selected_node_id() == weight

    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        double_click_module(window, "stem")
    assert any(i.node.title.startswith("stem (") for i in window.scene.nodes.values())

    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.views.rankdir_action.trigger()
    assert window.result.style.rankdir == "LR"
    assert window.result.layout.width > window.result.layout.height

    target = tmp_path / "cnn.svg"
    with qtbot.waitSignal(window.controller.exported, timeout=WAIT_MS):
        window.files.export_to(target)
    root = ET.parse(target).getroot()
    svg_nodes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"]
    assert len(svg_nodes) == len(window.scene.nodes)
    assert "rankdir=LR" in window.result.dot
