"""Large graphs: capture, first picture (collapsed / folded), expand one module, memory.

Side by side in one run: the app's lazy path, one Graphviz run on the full graph
(graphviz-pure), and torchviz's ``make_dot`` laid out by Debian's ``dot`` when it is
installed (else by graphviz-pure), each skipped with a note past a size or on error.
Every model runs in its own subprocess, so its peak memory (``ru_maxrss``) is its own.

    python -m bench.bench_large                 # all models, full layouts up to 4,000 nodes
    python -m bench.bench_large --quick         # full layouts up to 1,000 nodes (~3 min)
    python -m bench.bench_large --models gpt2,meta800m
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from bench.models import GPT2, BenchModel, deep_resnet, gpt2, gpt48, resnet50
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import ForwardRun, forward_and_capture
from graphviz_app.core.autograd.meta import capture_structure
from graphviz_app.core.graph.collapse import (
    Fold,
    fitting_collapse,
    module_types,
    visible_graph,
)
from graphviz_app.core.graph.repeats import detect_repeats, outermost_runs
from graphviz_app.core.layout.dot import compute_layout, to_dot
from graphviz_app.core.layout.drawing import (
    AUTO_COLLAPSE_ABOVE,
    FOLDED_LIMIT,
    Drawer,
    Drawing,
    toggle_module,
)
from graphviz_app.core.layout.engine import EngineError, GraphvizEngine, find_engine
from graphviz_app.core.layout.lazy import LazyLayouter, Placed
from graphviz_app.core.layout.style import GraphStyle

FULL_LIMIT, QUICK_FULL_LIMIT = 4000, 1000  # full-graph layouts above this are skipped
FULL_TIMEOUT_S = 240.0
MODELS = ("gpt2", "gpt48", "resnet50", "deep_resnet", "meta800m")
STYLE = GraphStyle()


def meta800m() -> ForwardRun:
    """A GPT-2-like transformer of ~820M parameters (24 layers, d_model 1600), on meta."""
    return capture_structure(
        lambda: GPT2(d_model=1600, layers=24, heads=25),
        lambda: torch.randint(0, 50257, (1, 64)),
    )


REAL: dict[str, Callable[[], BenchModel]] = {
    "gpt2": gpt2,
    "gpt48": gpt48,
    "resnet50": resnet50,
    "deep_resnet": deep_resnet,
}


def capture(name: str) -> tuple[ForwardRun, torch.nn.Module | None, float]:
    """Forward + capture without values (what a large model opens with), timed."""
    start = time.perf_counter()
    if name == "meta800m":
        run = meta800m()
        return run, None, time.perf_counter() - start
    bench = REAL[name]()
    start = time.perf_counter()
    options = CaptureOptions(with_values=False)
    run = forward_and_capture(bench.model, bench.inputs, None, options)
    return run, bench.model, time.perf_counter() - start


@dataclass(frozen=True)
class Opened:
    """A first picture: what is collapsed and folded, and its layout."""

    collapsed: frozenset[str]
    folds: tuple[Fold, ...]
    placed: Placed
    seconds: float


def first_picture(
    run: ForwardRun, layouter: LazyLayouter, types: dict[str, str], fold: bool
) -> Opened:
    """Choose what to draw (collapse to fit, optionally fold repeats) and lay it out."""
    start = time.perf_counter()
    graph = run.graph
    runs = outermost_runs(detect_repeats(graph, types)) if fold else ()
    folds = tuple(r.fold() for r in runs)
    # Folded, the first picture can afford more levels open in fewer nodes.
    limit = FOLDED_LIMIT if folds else AUTO_COLLAPSE_ABOVE
    collapsed = fitting_collapse(graph, limit, folds) or frozenset()
    view = visible_graph(graph, collapsed, folds, types)
    layout = layouter.layout(view, STYLE)
    return Opened(collapsed, folds, Placed(view, layout), time.perf_counter() - start)


def expand_one(
    run: ForwardRun, opened: Opened, layouter: LazyLayouter, types: dict[str, str]
) -> str:
    """Expand the drawn module with the most nodes inside (at most 400), or unfold
    the first fold when nothing is collapsed: lazily, timed."""
    groups = opened.placed.view.groups.values()
    single = [g for g in groups if len(g.modules) == 1 and len(g.members) <= 400]
    collapsed, folds = opened.collapsed, opened.folds
    if single:
        module = max(single, key=lambda g: len(g.members)).module
        collapsed, what = collapsed - {module}, module
    elif folds:  # unfolding shows the folded modules, each collapsed
        collapsed, what = collapsed | set(folds[0].modules), f"unfold {folds[0].title}"
        folds = folds[1:]
    else:
        return "nothing collapsed"
    start = time.perf_counter()
    expanded = visible_graph(run.graph, collapsed, folds, types)
    layouter.layout(expanded, STYLE, opened.placed)
    seconds = time.perf_counter() - start
    return f"{what} -> {len(expanded.graph.nodes):,} nodes: {seconds:.3f} s ({layouter.last_kind})"


def full_layout(run: ForwardRun, engine: GraphvizEngine, limit: int) -> str:
    """One Graphviz run on the whole graph, or why not."""
    nodes = len(run.graph.nodes)
    if nodes > limit:
        return f"skipped ({nodes:,} nodes > {limit:,})"
    start = time.perf_counter()
    try:
        compute_layout(to_dot(run.graph, STYLE), engine, timeout=FULL_TIMEOUT_S)
    except EngineError as exc:
        return f"failed: {str(exc)[:60]}"
    return f"{time.perf_counter() - start:.2f}"


def torchviz_layout(run: ForwardRun, model: torch.nn.Module | None, limit: int) -> str:
    """torchviz's make_dot on the roots, laid out by dot (or graphviz-pure), timed."""
    nodes = len(run.graph.nodes)
    if nodes > limit:
        return f"skipped ({nodes:,} nodes > {limit:,})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import torchviz
    params = dict(model.named_parameters()) if model is not None else None
    start = time.perf_counter()
    try:
        source = torchviz.make_dot(run.roots[0], params=params).source
    except RecursionError:
        return "RecursionError"
    tool = shutil.which("dot") or find_engine().path
    done = subprocess.run(
        [tool, "-Tjson"],
        input=source.encode(),
        capture_output=True,
        timeout=FULL_TIMEOUT_S,
        check=False,
    )
    label = "dot" if tool.endswith("/dot") else "pure"
    return f"{time.perf_counter() - start:.2f} ({label})" if done.returncode == 0 else "failed"


def app_picture(run: ForwardRun, model: torch.nn.Module | None) -> tuple[Drawer, Drawing, float]:
    """The window's own path: the Drawer chooses what to fold and collapse, then lays out."""
    start = time.perf_counter()
    drawer = Drawer(find_engine(), model)
    drawing = drawer.draw(run.graph, drawer.opening_style(run.graph, STYLE))
    return drawer, drawing, time.perf_counter() - start


def app_expand(run: ForwardRun, drawer: Drawer, drawing: Drawing) -> str:
    """Double-click the biggest collapsed module (at most 400 nodes inside), else the
    first fold, as the window would: timed."""
    groups = [g for g in drawing.view.groups.values() if g.id not in {f.id for f in drawing.folds}]
    single = [g for g in groups if len(g.modules) == 1 and len(g.members) <= 400]
    if single:
        what = max(single, key=lambda g: len(g.members)).module
    elif drawing.folds:
        what = drawing.folds[0].modules[0]
    else:
        return "nothing collapsed"
    start = time.perf_counter()
    opened = drawer.draw(run.graph, toggle_module(drawing.style, drawing.folds, what))
    seconds = time.perf_counter() - start
    nodes = len(opened.view.graph.nodes)
    return f"{what} -> {nodes:,} nodes: {seconds:.3f} s ({opened.layout_kind})"


def measure(name: str, quick: bool) -> dict[str, Any]:
    """All figures for one model (run in a fresh process)."""
    torch.set_num_threads(1)
    engine = find_engine()
    limit = QUICK_FULL_LIMIT if quick else FULL_LIMIT
    run, model, capture_s = capture(name)
    types = module_types(model.named_modules()) if model is not None else {}
    figures: dict[str, Any] = {"model": name, "nodes": len(run.graph.nodes), "capture_s": capture_s}
    for fold in (False, True):
        layouter = LazyLayouter(engine)
        opened = first_picture(run, layouter, types, fold)
        tag = "folded" if fold else "collapsed"
        figures[f"{tag}_nodes"] = len(opened.placed.view.graph.nodes)
        figures[f"{tag}_s"] = opened.seconds
        figures[f"{tag}_expand"] = expand_one(run, opened, layouter, types)
    drawer, drawing, seconds = app_picture(run, model)
    figures["app_nodes"], figures["app_s"] = len(drawing.view.graph.nodes), seconds
    figures["app_expand"] = app_expand(run, drawer, drawing)
    figures["full_pure_s"] = full_layout(run, engine, limit)
    figures["torchviz_s"] = torchviz_layout(run, model, limit)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The figures as a Markdown table."""
    head = (
        "| model | nodes | capture s | first picture: collapsed (nodes, s) "
        "| expand one (collapsed) | first picture: folded (nodes, s) | expand one (folded) "
        "| the window's first picture (nodes, s) | the window's double-click "
        "| full graph, graphviz-pure s "
        "| torchviz + layout s | peak RSS MB |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['nodes']:,} | {r['capture_s']:.2f} "
            f"| {r['collapsed_nodes']:,}, {r['collapsed_s']:.2f} | {r['collapsed_expand']} "
            f"| {r['folded_nodes']:,}, {r['folded_s']:.2f} | {r['folded_expand']} "
            f"| {r['app_nodes']:,}, {r['app_s']:.2f} | {r['app_expand']} "
            f"| {r['full_pure_s']} | {r['torchviz_s']} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="full layouts up to 1,000 nodes")
    parser.add_argument("--models", default=",".join(MODELS), help=", ".join(MODELS))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child process: one model
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.quick)))
        return
    rows = []
    for name in [n.strip() for n in args.models.split(",") if n.strip()]:
        command = [sys.executable, "-m", "bench.bench_large", "--one", name]
        done = subprocess.run(
            command + (["--quick"] if args.quick else []),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{name} done", file=sys.stderr)
    print(table(rows))


if __name__ == "__main__":
    main()
