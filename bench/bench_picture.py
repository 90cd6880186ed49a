"""Picture benchmark: first picture, unchanged-structure re-render, torchviz and dot.

Run from the repository root::

    python -m bench.bench_picture                  # mlp, resnet18, resnet50, gpt2
    python -m bench.bench_picture --quick          # 3 repeats instead of 5
    python -m bench.bench_picture --models resnet50,gpt2

1. First picture: from a finished ``forward_and_capture`` to a painted view (offscreen
   Qt): DOT text, the app's layout (``layout_graph``: whole under 200 nodes, repeated
   modules once per kind above, none laid out before), scene items, first paint.
2. Re-render: a training step whose structure did not change. A new forward with new
   input values under the recorder (not counted), a capture (reported apart), then
   DOT text, a layout-cache hit, ``GraphScene.show_graph`` on the cached layout (its
   fast path: the items stay and take the new records) and one paint. Both cache keys
   are timed: ``LayoutCache.key`` (hash of the DOT text, so the text must be made) and
   ``LayoutCache.picture_key`` (what ``ModelSession`` uses: no DOT text on a hit).
3. torchviz beside us: ``make_dot``, its DOT through ``graphviz-pure -Tsvg`` and
   Debian's ``dot -Tsvg``, and our DOT through both engines' ``-Tjson``. Columns that
   need ``dot`` read "n/a" when it is not installed.

Medians over the repeats, after one untimed warm-up. Prints Markdown tables only.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before PySide6 is imported

import torch
from PySide6.QtWidgets import QApplication
from torchviz import make_dot

from bench.args import parse_model_args
from bench.bench_capture import emit, load_average, ms
from bench.models import BUILDERS, BenchModel
from graphviz_app.core.autograd.capture import CaptureOptions, capture_walk
from graphviz_app.core.autograd.forward import forward_and_capture, input_names
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import walk_autograd
from graphviz_app.core.layout.block_layout import forget_block_kinds, layout_graph
from graphviz_app.core.layout.cache import LayoutCache
from graphviz_app.core.layout.dot import GraphLayout, to_dot
from graphviz_app.core.layout.engine import GraphvizEngine, find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView

#: One intra-op thread, as the app: on 2 cores the GUI thread and the Graphviz
#: process need the other core (torch's default of 2 threads made a deep conv net's
#: forward 100x slower against a busy core; see bench_capture.TORCH_THREADS).
TORCH_THREADS = 1
DEFAULT_MODELS = ("mlp", "resnet18", "resnet50", "gpt2")
VIEW_SIZE = (1200, 800)
LAYOUT_TIMEOUT_S = 600.0

Parts = dict[str, float]
Cells = dict[str, float | None]  # one model's figures for the tables, by key


# ----------------------------------------------------------------------------- timing


def lap(start: float) -> float:
    """Seconds since ``start``."""
    return time.perf_counter() - start


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs, after one untimed run."""
    fn()
    times = []
    for _ in range(repeats):
        gc.collect()  # freeing the previous run's objects is not part of the run
        start = time.perf_counter()
        fn()
        times.append(lap(start))
    return statistics.median(times)


def median_parts(fn: Callable[[], Parts], repeats: int) -> Parts:
    """Per-part medians of ``fn()`` over ``repeats`` runs, after one untimed run."""
    fn()
    runs = []
    for _ in range(repeats):
        gc.collect()
        runs.append(fn())
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def paint(view: GraphView, fit: bool) -> None:
    """Force one full paint of the viewport (``grab`` renders it, shown or not)."""
    if fit:
        view.resize(*VIEW_SIZE)
        view.fit_all()
    view.viewport().grab()


# ---------------------------------------------------------------------- first picture


def first_picture(graph: AutogradGraph, engine: GraphvizEngine) -> Parts:
    """Seconds for each part of forward-done -> painted view, and their total."""
    style, view, parts = GraphStyle(), GraphView(), {}
    start = time.perf_counter()
    to_dot(graph, style)  # the whole graph's DOT: the .dot export and the cache key
    parts["dot text"] = lap(start)
    forget_block_kinds()  # a first picture: no kind of block laid out yet
    start = time.perf_counter()
    layout = layout_graph(graph, style, engine, timeout=LAYOUT_TIMEOUT_S)  # the app's
    parts["layout"] = lap(start)
    start = time.perf_counter()
    scene = GraphScene()
    scene.show_graph(graph, layout, style)
    view.setScene(scene)
    parts["scene"] = lap(start)
    start = time.perf_counter()
    paint(view, fit=True)
    parts["first paint"] = lap(start)
    parts["total"] = sum(parts.values())
    view.close()
    return parts


# --------------------------------------------------------------------------- re-render


@dataclass
class Shown:
    """A picture on screen, and the cache that holds its layout under both keys."""

    style: GraphStyle
    layout: GraphLayout
    scene: GraphScene
    view: GraphView
    cache: LayoutCache[GraphLayout]


def new_inputs(inputs: tuple[torch.Tensor, ...], seed: int) -> tuple[torch.Tensor, ...]:
    """Inputs of the same shapes and dtypes with other values (a new training batch)."""
    gen = torch.Generator().manual_seed(seed)
    return tuple(_like(t, gen) for t in inputs)


def _like(tensor: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    if tensor.is_floating_point():
        return torch.randn(tensor.shape, generator=gen, dtype=tensor.dtype)
    high = int(tensor.max()) + 1  # token ids stay inside the vocabulary
    return torch.randint(0, high, tensor.shape, generator=gen, dtype=tensor.dtype)


def recorded_forward(model: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The forward half of ``forward_and_capture``: the model under the recorder."""
    options = CaptureOptions()
    with torch.enable_grad(), ForwardRecorder(model, options.with_values, options.preview_limit):
        out: torch.Tensor = model(*inputs)
    return out


def capture(
    bench: BenchModel, out: torch.Tensor, inputs: tuple[torch.Tensor, ...]
) -> AutogradGraph:
    """The capture half of ``forward_and_capture``: walk and records, default options."""
    params = dict(bench.model.named_parameters())
    return capture_walk(walk_autograd([out]), params, input_names(inputs), CaptureOptions())


def show_first(graph: AutogradGraph, engine: GraphvizEngine) -> Shown:
    """Lay out and paint ``graph`` once, caching its layout as the app would."""
    style, cache = GraphStyle(), LayoutCache[GraphLayout]()
    dot = to_dot(graph, style)
    layout = layout_graph(graph, style, engine, timeout=LAYOUT_TIMEOUT_S)
    cache.put(LayoutCache.key(dot, engine), layout)
    cache.put(LayoutCache.picture_key(graph, style, engine), layout)
    scene, view = GraphScene(), GraphView()
    scene.show_graph(graph, layout, style)
    view.setScene(scene)
    paint(view, fit=True)
    return Shown(style, layout, scene, view, cache)


def rerender_step(bench: BenchModel, shown: Shown, engine: GraphvizEngine, seed: int) -> Parts:
    """One unchanged-structure step; seconds per part (forward and capture included)."""
    inputs, parts = new_inputs(bench.inputs, seed), {}
    start = time.perf_counter()
    out = recorded_forward(bench.model, inputs)
    parts["forward"] = lap(start)
    start = time.perf_counter()
    graph = capture(bench, out, inputs)
    parts["capture"] = lap(start)
    parts.update(_lookups(graph, shown, engine))
    items = shown.scene.nodes
    start = time.perf_counter()
    shown.scene.show_graph(graph, shown.layout, shown.style)
    parts["show_graph"] = lap(start)
    assert shown.scene.nodes is items, "show_graph rebuilt the items: no fast path"
    start = time.perf_counter()
    paint(shown.view, fit=False)
    parts["paint"] = lap(start)
    draw = parts["show_graph"] + parts["paint"]
    parts["re-render (key)"] = parts["step dot text"] + parts["key lookup"] + draw
    parts["re-render (picture_key)"] = parts["picture_key lookup"] + draw
    return parts


def _lookups(graph: AutogradGraph, shown: Shown, engine: GraphvizEngine) -> Parts:
    """Time both cache paths; each must hit the very layout on screen."""
    parts = {}
    start = time.perf_counter()
    dot = to_dot(graph, shown.style)
    parts["step dot text"] = lap(start)
    start = time.perf_counter()
    by_text = shown.cache.get(LayoutCache.key(dot, engine))
    parts["key lookup"] = lap(start)
    start = time.perf_counter()
    by_picture = shown.cache.get(LayoutCache.picture_key(graph, shown.style, engine))
    parts["picture_key lookup"] = lap(start)
    assert by_text is shown.layout, "same structure, yet LayoutCache.key missed"
    assert by_picture is shown.layout, "same structure, yet LayoutCache.picture_key missed"
    return parts


def rerender(
    bench: BenchModel, graph: AutogradGraph, engine: GraphvizEngine, repeats: int
) -> Parts:
    """Median parts of ``repeats`` steps, each with new input values."""
    shown = show_first(graph, engine)
    seeds = iter(range(100, 100 + repeats + 1))
    parts = median_parts(lambda: rerender_step(bench, shown, engine, next(seeds)), repeats)
    shown.view.close()
    return parts


# ---------------------------------------------------------------------- side by side


def engine_seconds(path: str | None, fmt: str, text: str, repeats: int) -> float | None:
    """Median seconds of ``path -T<fmt>`` on ``text``, or None when it is not installed."""
    if path is None:
        return None
    args, data = [path, f"-T{fmt}"], text.encode()
    return median_seconds(
        lambda: subprocess.run(args, input=data, capture_output=True, check=True), repeats
    )


def side_by_side(bench: BenchModel, graph: AutogradGraph, repeats: int) -> Cells:
    """torchviz's picture (make_dot + SVG) and our DOT's layout, with both engines."""
    pure, dot = shutil.which("graphviz-pure"), shutil.which("dot")
    with torch.enable_grad():
        out = bench.model(*bench.inputs)  # a plain forward, as torchviz users run it
    params = dict(bench.model.named_parameters())
    source, ours = make_dot(out, params=params).source, to_dot(graph, GraphStyle())
    made = median_seconds(lambda: make_dot(out, params=params), repeats)
    pure_svg = engine_seconds(pure, "svg", source, repeats)
    dot_svg = engine_seconds(dot, "svg", source, repeats)
    return {
        "make_dot": made,
        "viz pure": None if pure_svg is None else made + pure_svg,
        "viz dot": None if dot_svg is None else made + dot_svg,
        "ours pure": engine_seconds(pure, "json", ours, repeats),
        "ours dot": engine_seconds(dot, "json", ours, repeats),
    }


# ----------------------------------------------------------------------------- output

#: Per table: title, then (key in the model's figures, column header) per column.
TABLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Time to first picture (forward done -> painted)",
        (
            ("nodes", "nodes"),
            ("edges", "edges"),
            ("dot text", "dot text ms"),
            ("layout", "layout ms"),
            ("scene", "scene build ms"),
            ("first paint", "first paint ms"),
            ("total", "first picture ms"),
        ),
    ),
    (
        "Re-render, unchanged structure (capture done -> painted)",
        (
            ("forward", "forward ms (not counted)"),
            ("capture", "capture ms (not counted)"),
            ("step dot text", "dot text ms"),
            ("key lookup", "key(dot) lookup ms"),
            ("picture_key lookup", "picture_key lookup ms"),
            ("show_graph", "show_graph ms (fast path)"),
            ("paint", "paint ms"),
            ("re-render (key)", "re-render ms via key(dot)"),
            ("re-render (picture_key)", "re-render ms via picture_key"),
        ),
    ),
    (
        "Beside torchviz and Debian dot",
        (
            ("make_dot", "torchviz make_dot ms"),
            ("viz pure", "make_dot + graphviz-pure -Tsvg ms"),
            ("viz dot", "make_dot + dot -Tsvg ms"),
            ("ours pure", "our DOT: graphviz-pure -Tjson ms"),
            ("ours dot", "our DOT: dot -Tjson ms"),
            ("total", "our first picture ms"),
        ),
    ),
)
COUNTS = ("nodes", "edges")


def cell(key: str, value: float | None) -> str:
    """A count, milliseconds, or n/a for a column whose tool is missing."""
    if value is None:
        return "n/a"
    return f"{int(value):,}" if key in COUNTS else ms(value)


def print_tables(figures: Sequence[tuple[str, Cells]]) -> None:
    """Each table: a heading, a header row, a rule and one row per model."""
    for title, columns in TABLES:
        emit(f"\n## {title}\n")
        emit("| model | " + " | ".join(header for _, header in columns) + " |")
        emit("|---|" + "---|" * len(columns))
        for name, values in figures:
            cells = [name, *(cell(key, values[key]) for key, _ in columns)]
            emit("| " + " | ".join(cells) + " |")


# ------------------------------------------------------------------------------ main


def measure(name: str, engine: GraphvizEngine, repeats: int) -> Cells:
    """All three measurements for one model, after one forward + capture."""
    bench = BUILDERS[name]()
    graph = forward_and_capture(bench.model, bench.inputs, loss_fn=None).graph
    cells: Cells = {"nodes": len(graph.nodes), "edges": len(graph.edges)}
    cells.update(median_parts(lambda: first_picture(graph, engine), repeats))
    cells.update(rerender(bench, graph, engine, repeats))
    cells.update(side_by_side(bench, graph, repeats))
    return cells


def print_heading(engine: GraphvizEngine, repeats: int) -> None:
    """What ran where."""
    dot = shutil.which("dot")
    dot_version = engine_version(dot) if dot else "not installed (its columns read n/a)"
    emit("# Picture benchmark\n")
    emit(f"- {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} thread")
    emit(f"- Layout engine of the app: {engine.describe()}; Debian dot: {dot_version}")
    emit(f"- View {VIEW_SIZE[0]}x{VIEW_SIZE[1]}, Qt offscreen; medians of {repeats} runs")
    emit(f"- Load average at the start (1, 5, 15 min): {load_average()}")


def engine_version(path: str) -> str:
    """First line of ``path -V``."""
    done = subprocess.run([path, "-V"], capture_output=True, check=False)
    return (done.stderr or done.stdout).decode().strip().splitlines()[0]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """``--quick`` and ``--models a,b``."""
    return parse_model_args(argv, __doc__.splitlines()[0], DEFAULT_MODELS, "3 repeats instead of 5")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    args = parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)
    app = QApplication.instance() or QApplication([])
    engine = find_engine()
    repeats = 3 if args.quick else 5
    print_heading(engine, repeats)
    print_tables([(name, measure(name, engine, repeats)) for name in args.names])
    emit(f"\nLoad average at the end (1, 5, 15 min): {load_average()}")
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
