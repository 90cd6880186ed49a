"""Time to first picture and re-render on an unchanged structure, beside torchviz.

Run from the repository root::

    python -m bench.bench_first_picture             # mlp, resnet18, resnet50, gpt2
    python -m bench.bench_first_picture --quick

"First picture" runs from a finished forward + capture to a painted scene: DOT text,
Graphviz layout, building the scene's items and the first paint of the view
(offscreen Qt). "Re-render" is a training step's path when the structure did not
change: capture a new forward, DOT text, layout cache hit, records swapped into the
existing items, paint. torchviz's column is ``make_dot`` plus a Graphviz SVG render
of its DOT, the way torchviz users get a picture. Prints Markdown tables only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch
from PySide6.QtWidgets import QApplication
from torchviz import make_dot

from bench.bench_capture import TORCH_THREADS, emit, load_average, ms
from bench.models import BUILDERS, BenchModel
from graphviz_app.core.engine import GraphvizEngine, find_engine
from graphviz_app.core.forward import ForwardRun, forward_and_capture
from graphviz_app.core.layout import GraphLayout, compute_layout, to_dot
from graphviz_app.core.layout_cache import LayoutCache
from graphviz_app.core.style import GraphStyle
from graphviz_app.ui.scene import GraphScene
from graphviz_app.ui.view import GraphView

DEFAULT_MODELS = ("mlp", "resnet18", "resnet50", "gpt2")


def capture(bench: BenchModel) -> ForwardRun:
    """A forward pass under the recorder and its captured graph (what the worker does)."""
    return forward_and_capture(bench.model, bench.inputs)


def first_picture(run: ForwardRun, engine: GraphvizEngine) -> dict[str, float]:
    """Seconds for each part of forward-done -> scene painted."""
    style, parts = GraphStyle(), {}
    start = time.perf_counter()
    dot = to_dot(run.graph, style)
    parts["dot text"] = _lap(start)
    start = time.perf_counter()
    layout = compute_layout(dot, engine, timeout=600)
    parts["layout"] = _lap(start)
    scene, view = GraphScene(), GraphView()
    start = time.perf_counter()
    scene.show_graph(run.graph, layout, style)
    view.setScene(scene)
    parts["scene"] = _lap(start)
    start = time.perf_counter()
    _paint(view)
    parts["first paint"] = _lap(start)
    view.close()
    return parts


def rerender(bench: BenchModel, engine: GraphvizEngine, repeats: int) -> tuple[float, float]:
    """(median capture s, median capture-done -> painted s) for unchanged structure."""
    style, cache = GraphStyle(), LayoutCache[GraphLayout]()
    run = capture(bench)
    layout = compute_layout(to_dot(run.graph, style), engine, timeout=600)
    cache.put(LayoutCache.picture_key(run.graph, style, engine), layout)
    scene, view = GraphScene(), GraphView()
    scene.show_graph(run.graph, layout, style)
    view.setScene(scene)
    _paint(view)
    captures, renders = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        new = capture(bench)
        captures.append(_lap(start))
        start = time.perf_counter()
        hit = cache.get(LayoutCache.picture_key(new.graph, style, engine))
        assert hit is layout, "the structure did not change: the layout must be reused"
        scene.show_graph(new.graph, hit, style)
        _paint(view)
        renders.append(_lap(start))
    view.close()
    return statistics.median(captures), statistics.median(renders)


def torchviz_picture(bench: BenchModel, engine: GraphvizEngine) -> tuple[float, float | None]:
    """(make_dot + SVG with graphviz-pure, make_dot + SVG with Debian's dot or None)."""
    out = bench.model(*bench.inputs)
    start = time.perf_counter()
    source = make_dot(out, params=dict(bench.model.named_parameters())).source
    made = _lap(start)
    start = time.perf_counter()
    engine.run(source, "svg", timeout=600)
    pure = made + _lap(start)
    dot = shutil.which("dot")
    if dot is None:
        return pure, None
    start = time.perf_counter()
    subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True, check=True)
    return pure, made + _lap(start)


def _paint(view: GraphView) -> None:
    view.resize(1400, 900)
    view.fit_all()
    view.viewport().grab()  # forces a full paint of what is in view


def _lap(start: float) -> float:
    return time.perf_counter() - start


def median_parts(fn: Callable[[], dict[str, float]], repeats: int) -> dict[str, float]:
    """Per-part medians of ``fn()`` over ``repeats`` runs (after one warm-up)."""
    fn()
    runs = [fn() for _ in range(repeats)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def run_model(name: str, engine: GraphvizEngine, repeats: int) -> str:
    bench = BUILDERS[name]()
    run = capture(bench)
    parts = median_parts(lambda: first_picture(run, engine), repeats)
    total = sum(parts.values())
    captured, rerendered = rerender(bench, engine, repeats)
    pure, debian = torchviz_picture(bench, engine)
    cells = [
        name,
        f"{len(run.graph.nodes):,}",
        *(ms(v) for v in parts.values()),
        ms(total),
        ms(captured),
        ms(rerendered),
        ms(pure),
        ms(debian) if debian else "n/a",
    ]
    return "| " + " | ".join(cells) + " |"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)  # as the app: see bench_capture.TORCH_THREADS
    app = QApplication.instance() or QApplication([])
    engine = find_engine()
    repeats = 2 if args.quick else 5
    emit(f"# First picture ({engine.describe()}, {os.cpu_count()} cores, load {load_average()})\n")
    emit(
        "| model | nodes | dot text ms | layout ms | scene ms | first paint ms | first picture"
        " ms | re-capture ms | re-render ms | torchviz + graphviz-pure SVG ms | torchviz + "
        "Debian dot SVG ms |"
    )
    emit("|" + "---|" * 11)
    for name in (n.strip() for n in args.models.split(",") if n.strip()):
        emit(run_model(name, engine, repeats))
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
