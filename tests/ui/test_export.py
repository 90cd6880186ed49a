"""Exports from the window: every format, PNG resolution, the selection highlighted."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from graphviz_app.core.layout.style import SELECTED_COLOR
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def opened(qtbot, window: MainWindow) -> MainWindow:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    return window


def export(qtbot, window: MainWindow, path: Path, dpi: float | None = None) -> Path:
    with qtbot.waitSignal(window.controller.exported, timeout=WAIT_MS):
        window.files.export_to(path, dpi=dpi)
    return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_png_resolution_follows_the_dpi(qtbot, opened: MainWindow, tmp_path: Path) -> None:
    small = png_size(export(qtbot, opened, tmp_path / "a.png", dpi=72))
    large = png_size(export(qtbot, opened, tmp_path / "b.png", dpi=144))
    assert large[0] == pytest.approx(2 * small[0], abs=3)
    assert large[1] == pytest.approx(2 * small[1], abs=3)


def test_pdf_is_a_one_page_vector_pdf(qtbot, opened: MainWindow, tmp_path: Path) -> None:
    data = export(qtbot, opened, tmp_path / "g.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and b"/MediaBox" in data
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1


def test_dot_and_json_exports(qtbot, opened: MainWindow, tmp_path: Path) -> None:
    dot = export(qtbot, opened, tmp_path / "g.dot").read_text()
    assert dot == opened.result.dot
    json_text = export(qtbot, opened, tmp_path / "g.json").read_text()
    assert '"fc1.weight"' in json_text


def test_the_selected_node_is_highlighted_in_the_svg(
    qtbot, opened: MainWindow, tmp_path: Path
) -> None:
    graph = opened.result.visible
    leaf = next(n for n in graph.nodes if n.leaf_name == "fc2.weight")
    opened.scene.select_node(leaf.id)
    root = ET.parse(export(qtbot, opened, tmp_path / "sel.svg")).getroot()
    strokes = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title")
            # The shape may sit inside the <a> that carries the tooltip.
            shapes = [*group.iter(f"{SVG}path"), *group.iter(f"{SVG}polygon")]
            shape = shapes[0] if shapes else None
            if title is not None and shape is not None:
                strokes[title.text] = shape.get("stroke", "").lower()
    assert strokes[leaf.id] == SELECTED_COLOR
    assert list(strokes.values()).count(SELECTED_COLOR) == 1


def test_an_unwritable_path_is_reported_and_keeps_the_old_file(
    qtbot, opened: MainWindow, tmp_path: Path
) -> None:
    with qtbot.waitSignal(opened.error_shown, timeout=WAIT_MS) as blocker:
        opened.files.export_to(tmp_path / "no" / "such" / "dir" / "g.svg")
    assert "does not exist" in blocker.args[0]
