"""Pan and zoom frame times of the real scene and view, offscreen.

Each model's whole graph is laid out once (as the app lays it out), drawn by
``GraphScene`` in a 1280x800 ``GraphView``, and one frame is a full repaint of the
viewport (``viewport().grab()``) after the view moved: at fit-to-window (every item in
view), while zooming in step by step (the mouse wheel's 1.15x), and while panning at
1:1. Between moves the event loop runs, as in the app. Medians and 95th percentiles in
milliseconds.

    python -m bench.bench_frames                    # gpt2, resnet50, gpt48
    python -m bench.bench_frames --models gpt2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence

import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before PySide6 is imported
from PySide6.QtWidgets import QApplication

from bench.models import BenchModel, gpt2, gpt48, resnet50
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.layout.block_layout import layout_graph
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView

MODELS: dict[str, Callable[[], BenchModel]] = {"gpt2": gpt2, "resnet50": resnet50, "gpt48": gpt48}
VIEW_SIZE = (1280, 800)
FRAMES = 30


def shown(bench: BenchModel) -> tuple[GraphView, int]:
    """The model's whole graph in a scene and a view (fit to window)."""
    run = forward_and_capture(bench.model, bench.inputs, None, CaptureOptions(with_values=False))
    style = GraphStyle()
    layout = layout_graph(run.graph, style, find_engine(), timeout=300)
    scene, view = GraphScene(), GraphView()
    scene.show_graph(run.graph, layout, style)
    view.setScene(scene)
    view.resize(*VIEW_SIZE)
    view.fit_all()
    return view, len(run.graph.nodes)


def frame_ms(view: GraphView, move: Callable[[int], None]) -> list[float]:
    """Milliseconds of each of FRAMES repaints, each after ``move(i)``."""
    times = []
    for i in range(FRAMES):
        move(i)
        start = time.perf_counter()
        view.viewport().grab()
        times.append((time.perf_counter() - start) * 1000)
        QApplication.processEvents()  # between frames, as the app's event loop
    return times


def figures(view: GraphView) -> dict[str, list[float]]:
    """Frames at fit, zooming in from fit, and panning at 1:1."""
    view.fit_all()
    fit = frame_ms(view, lambda i: None)
    zoom = frame_ms(view, lambda i: view.scale(1.15, 1.15) if i else view.fit_all())
    view.resetTransform()
    bar = view.verticalScrollBar()
    step = max(1, (bar.maximum() - bar.minimum()) // FRAMES)
    pan = frame_ms(view, lambda i: bar.setValue(bar.minimum() + i * step))
    return {"fit": fit, "zoom": zoom, "pan": pan}


def cell(times: list[float]) -> str:
    """Median / 95th percentile."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.1f} / {p95:.1f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help=", ".join(MODELS))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    print("| model | nodes | fit: all in view (ms, median / p95) | zooming in | panning at 1:1 |")
    print("|---|---|---|---|---|")
    for name in [n.strip() for n in args.models.split(",") if n.strip()]:
        view, nodes = shown(MODELS[name]())
        frames = figures(view)
        print(
            f"| {name} | {nodes:,} | {cell(frames['fit'])} | {cell(frames['zoom'])} "
            f"| {cell(frames['pan'])} |"
        )
        view.close()
    app.processEvents()


if __name__ == "__main__":
    main()
