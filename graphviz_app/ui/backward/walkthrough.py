"""Export a backward walk-through: one SVG per step and an HTML page that replays them.

Every frame is drawn from the same scene as the window (same layout, colours, badges
and gradient labels), so the frames line up and the replay does not jump.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from graphviz_app.io.export import ExportError, write_atomic
from graphviz_app.pdf import ensure_gui_application
from graphviz_app.session import BackwardResult, PictureResult
from graphviz_app.ui.backward.stepper import BackwardStepper
from graphviz_app.ui.graph.scene import GraphScene

PAGE = "index.html"


def export_walkthrough(
    scene: GraphScene, stepper: BackwardStepper, folder: Path, title: str
) -> list[Path]:
    """Write ``step_0001.svg``... and ``index.html`` into ``folder``; return the files.

    The stepper is left on the step it showed before.
    """
    if stepper.step_count == 0:
        raise ExportError("There is no recorded backward pass to export: run backward first.")
    folder.mkdir(parents=True, exist_ok=True)
    original = stepper.index
    frames: list[tuple[str, str]] = []
    try:
        for index in range(stepper.step_count):
            stepper.go_to(index)
            name = f"step_{index + 1:04d}.svg"
            write_atomic(folder / name, scene_svg(scene, f"{title}: step {index + 1}"))
            frames.append((name, stepper.panel.label.text()))
    finally:
        stepper.go_to(original)
    write_atomic(folder / PAGE, replay_page(title, frames).encode("utf-8"))
    return [folder / name for name, _ in frames] + [folder / PAGE]


def scene_svg(scene: GraphScene, title: str) -> bytes:
    """The whole scene as an SVG document, at one SVG unit per scene pixel."""
    rect = scene.sceneRect()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    painter.end()
    buffer.close()
    data: QByteArray = buffer.data()
    return bytes(data.data())


def replay_page(title: str, frames: list[tuple[str, str]]) -> str:
    """A self-contained HTML page that steps through ``frames`` (file, caption)."""
    data = json.dumps([{"file": f, "text": t} for f, t in frames])
    return _PAGE_TEMPLATE.replace("__TITLE__", escape(title)).replace("__FRAMES__", data)


_PAGE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__: backward walk-through</title>
<style>
body { font-family: sans-serif; margin: 1em; }
#bar { display: flex; gap: .5em; align-items: center; margin-bottom: .5em; }
#caption { font-family: monospace; }
img { max-width: 100%; border: 1px solid #ccc; }
</style></head>
<body>
<h2>__TITLE__: backward, step by step</h2>
<div id="bar">
  <button id="first">|&lt;</button><button id="prev">&lt;</button>
  <button id="play">Play</button><button id="next">&gt;</button><button id="last">&gt;|</button>
  <input id="scrub" type="range" min="0" value="0">
  <span id="caption"></span>
</div>
<img id="frame" alt="backward step">
<script>
const frames = __FRAMES__;
let index = 0, timer = null;
const $ = (id) => document.getElementById(id);
function show(i) {
  index = Math.max(0, Math.min(frames.length - 1, i));
  $("frame").src = frames[index].file;
  $("caption").textContent = frames[index].text;
  $("scrub").value = index;
}
function play() {
  if (timer) { clearInterval(timer); timer = null; $("play").textContent = "Play"; return; }
  if (index >= frames.length - 1) show(0);
  $("play").textContent = "Pause";
  timer = setInterval(() => index >= frames.length - 1 ? play() : show(index + 1), 700);
}
$("scrub").max = frames.length - 1;
$("scrub").oninput = (e) => show(Number(e.target.value));
$("first").onclick = () => show(0);
$("prev").onclick = () => show(index - 1);
$("next").onclick = () => show(index + 1);
$("last").onclick = () => show(frames.length - 1);
$("play").onclick = play;
document.onkeydown = (e) => {
  if (e.key === "ArrowRight") show(index + 1);
  if (e.key === "ArrowLeft") show(index - 1);
};
show(0);
</script>
</body></html>
"""


def export_walkthrough_headless(
    picture: PictureResult, backward: BackwardResult, folder: Path
) -> list[Path]:
    """The walk-through without a window (the command line): an offscreen Qt scene."""
    ensure_gui_application()
    from graphviz_app.ui.backward.stepper import StepperPanel
    from graphviz_app.ui.graph.grad_legend import GradLegend

    scene = GraphScene()
    scene.show_graph(picture.visible, picture.layout, picture.style)
    panel = StepperPanel()
    legend = GradLegend(panel)
    stepper = BackwardStepper(scene, panel, legend)
    stepper.show_result(backward)
    try:
        return export_walkthrough(scene, stepper, folder, picture.model_name)
    finally:
        stepper.deleteLater()
        panel.deleteLater()
