"""Capture benchmark: walk, capture, recorder overhead, torchviz and layout, per model.

Run from the repository root::

    python -m bench.bench_capture            # all models (a few minutes)
    python -m bench.bench_capture --quick    # fewer repeats, no 15k-node model
    python -m bench.bench_capture --models resnet50,gpt2

Prints Markdown tables (paste them into BENCHMARKS.md) and nothing else.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torchviz import make_dot

from bench.args import parse_model_args
from bench.models import BUILDERS, BenchModel
from graphviz_app.core.autograd.capture import CaptureOptions, capture_walk
from graphviz_app.core.autograd.forward import input_names
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import walk_autograd
from graphviz_app.core.layout.dot import compute_layout, to_dot
from graphviz_app.core.layout.engine import find_engine

#: The app runs forward in a worker while the GUI thread and the Graphviz process
#: need the other core of a 2-core machine; torch's default of one intra-op thread
#: per core contends with them badly (a deep conv net's forward went from 0.4 s to
#: 39 s), so the app pins torch to one thread and the benchmark measures the same.
TORCH_THREADS = 1
#: Layout is timed only below this many graph nodes: beyond it dot takes minutes.
LAYOUT_MAX_NODES = 3000
QUICK_SKIPS = ("deep_resnet",)


@dataclass
class Repeats:
    """How many timed runs each measurement takes (after one untimed warm-up)."""

    forward: int
    walk: int
    capture: int


@dataclass
class Row:
    """One model's figures (times in seconds)."""

    name: str
    nodes: int
    walk: float
    capture_values: float
    capture_plain: float
    forward: float
    forward_rec: float
    forward_rec_plain: float
    torchviz: float | str


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        gc.collect()  # so that freeing the previous run's graph is not timed
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        del result  # nor freeing this one's
    return statistics.median(times)


def interleaved_medians(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median time of each function, run round-robin after one warm-up each.

    Interleaving spreads load from other processes over all variants alike, so the
    recorder's overhead ratio stays meaningful on a shared 2-core machine.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def forward(bench: BenchModel) -> torch.Tensor:
    """One forward pass with grad on, building the autograd graph as the app does."""
    with torch.enable_grad():
        out: torch.Tensor = bench.model(*bench.inputs)
    return out


def recorded_forward(bench: BenchModel, with_values: bool) -> torch.Tensor:
    """One forward pass under the app's :class:`ForwardRecorder`."""
    with torch.enable_grad(), ForwardRecorder(bench.model, with_values=with_values):
        out: torch.Tensor = bench.model(*bench.inputs)
    return out


def time_walk(bench: BenchModel, repeats: int) -> float:
    """Median time of a walk of a fresh graph, right after the forward that built it
    (as the app walks: none of its nodes has met Python before)."""
    times = []
    for _ in range(repeats + 1):
        out = forward(bench)
        start = time.perf_counter()
        walk = walk_autograd([out])
        times.append(time.perf_counter() - start)
        del walk, out  # freeing them is not timed
    return statistics.median(times[1:])  # the first: torch's lazy set-up


def time_capture(bench: BenchModel, out: torch.Tensor, with_values: bool, repeats: int) -> float:
    """Median time of ``capture_walk`` (with saved tensors) over one walk of ``out``."""
    walk = walk_autograd([out])
    params = dict(bench.model.named_parameters())
    names = input_names(bench.inputs)
    options = CaptureOptions(with_values=with_values, with_saved=True)
    return median_time(lambda: capture_walk(walk, params, names, options), repeats)


def time_torchviz(bench: BenchModel, out: torch.Tensor) -> float | str:
    """Seconds for torchviz's ``make_dot`` (no rendering), or the error it raised."""
    params = dict(bench.model.named_parameters())
    start = time.perf_counter()
    try:
        make_dot(out, params=params)
    except RecursionError:
        return "RecursionError"
    return time.perf_counter() - start


def measure(bench: BenchModel, repeats: Repeats) -> Row:
    """All figures for one model except layout."""
    out = forward(bench)
    walk_s = time_walk(bench, repeats.walk)
    nodes = len(walk_autograd([out]).fns)
    fwd = interleaved_medians(
        {
            "plain": lambda: forward(bench),
            "no_values": lambda: recorded_forward(bench, False),
            "values": lambda: recorded_forward(bench, True),
        },
        repeats.forward,
    )
    annotated = recorded_forward(bench, True)
    return Row(
        name=bench.name,
        nodes=nodes,
        walk=walk_s,
        capture_values=time_capture(bench, annotated, True, repeats.capture),
        capture_plain=time_capture(bench, annotated, False, repeats.capture),
        forward=fwd["plain"],
        forward_rec=fwd["values"],
        forward_rec_plain=fwd["no_values"],
        torchviz=time_torchviz(bench, out),
    )


def captured_graph(bench: BenchModel) -> AutogradGraph:
    """The graph the app would show: recorded forward, then a full capture."""
    out = recorded_forward(bench, True)
    params = dict(bench.model.named_parameters())
    return capture_walk(walk_autograd([out]), params, input_names(bench.inputs))


def time_layout(graph: AutogradGraph) -> tuple[float, float]:
    """Seconds for ``to_dot`` and for ``compute_layout`` with the default engine."""
    engine = find_engine()
    start = time.perf_counter()
    dot = to_dot(graph)
    middle = time.perf_counter()
    compute_layout(dot, engine, timeout=600)
    return middle - start, time.perf_counter() - middle


# ---------------------------------------------------------------------------- output


def ms(seconds: float) -> str:
    """Milliseconds with a precision that suits the size."""
    value = seconds * 1e3
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:.0f}"


MAIN_HEADER = (
    "| model | grad_fn nodes | walk ms | walk µs/node | capture ms (values+saved) "
    "| capture ms (saved, no values) | forward ms | forward+rec ms (values) | ratio "
    "| forward+rec ms (no values) | ratio | torchviz make_dot ms |"
)


def format_row(row: Row) -> str:
    """One Markdown table row for ``row``."""
    viz = row.torchviz if isinstance(row.torchviz, str) else ms(row.torchviz)
    cells = [
        row.name,
        f"{row.nodes:,}",
        ms(row.walk),
        f"{row.walk / row.nodes * 1e6:.2f}",
        ms(row.capture_values),
        ms(row.capture_plain),
        ms(row.forward),
        ms(row.forward_rec),
        f"{row.forward_rec / row.forward:.2f}x",
        ms(row.forward_rec_plain),
        f"{row.forward_rec_plain / row.forward:.2f}x",
        viz,
    ]
    return "| " + " | ".join(cells) + " |"


def emit(text: str) -> None:
    """Print one line at once (the run is long; show rows as they come)."""
    print(text, flush=True)


def load_average() -> str:
    """The system load average: other processes on 2 cores move every figure."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def print_machine(repeats: Repeats) -> None:
    """The heading: what ran where, and how often."""
    emit("## Machine\n")
    emit(f"- CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    emit(
        f"- Python {platform.python_version()}, torch {torch.__version__}, "
        f"torch.get_num_threads() = {torch.get_num_threads()}"
    )
    emit(f"- Layout engine: {find_engine().describe()}")
    emit(f"- Load average at the start (1, 5, 15 min): {load_average()}")
    emit(
        f"- Repeats: forward {repeats.forward} (plain and recorded runs interleaved), "
        f"walk {repeats.walk}, capture {repeats.capture} (medians, after one warm-up "
        "run each)\n"
    )


def run_main_table(names: Sequence[str], repeats: Repeats) -> list[str]:
    """Build each model in turn, measure it and print its row; returns the names
    of the models small enough to lay out."""
    emit("## Capture and recorder\n")
    emit(MAIN_HEADER)
    emit("|" + "---|" * MAIN_HEADER.count(" | ") + "---|")
    small = []
    for name in names:
        row = measure(BUILDERS[name](), repeats)
        emit(format_row(row))
        if row.nodes < LAYOUT_MAX_NODES:
            small.append(name)
        gc.collect()
    return small


def run_layout_table(names: Sequence[str]) -> None:
    """to_dot + compute_layout for each model small enough to lay out in seconds."""
    emit(f"\n## Layout (to_dot + compute_layout, models under {LAYOUT_MAX_NODES:,} nodes)\n")
    emit("| model | graph nodes | edges | to_dot ms | compute_layout s | total s |")
    emit("|---|---|---|---|---|---|")
    for name in names:
        graph = captured_graph(BUILDERS[name]())
        dot_s, layout_s = time_layout(graph)
        emit(
            f"| {name} | {len(graph.nodes):,} | {len(graph.edges):,} | {ms(dot_s)} "
            f"| {layout_s:.2f} | {dot_s + layout_s:.2f} |"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """``--quick`` and ``--models a,b``."""
    return parse_model_args(
        argv,
        __doc__.splitlines()[0],
        list(BUILDERS),
        "fewer repeats; skip the 15k-node deep_resnet",
        QUICK_SKIPS,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    args = parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)
    repeats = Repeats(3, 5, 1) if args.quick else Repeats(5, 9, 3)
    print_machine(repeats)
    run_layout_table(run_main_table(args.names, repeats))
    emit(f"\nLoad average at the end (1, 5, 15 min): {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
