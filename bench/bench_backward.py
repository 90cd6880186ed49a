"""Backward benchmark: recorded backward vs plain backward, trace size, step render time.

Run from the repository root::

    python -m bench.bench_backward            # mlp, resnet18, resnet50, gpt2
    python -m bench.bench_backward --quick    # fewer repeats
    python -m bench.bench_backward --models resnet50

Prints Markdown tables (paste them into BENCHMARKS.md) and nothing else.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import torch

from bench.args import parse_model_args
from bench.bench_capture import TORCH_THREADS, emit, load_average, ms
from bench.models import BUILDERS, BenchModel
from graphviz_app.core.autograd.backward import BackwardTrace, record_backward
from graphviz_app.core.graph.walk import walk_autograd

DEFAULT_MODELS = ("mlp", "resnet18", "resnet50", "gpt2")
STEP_RENDER_NODES = 1000


def loss_of(bench: BenchModel) -> torch.Tensor:
    """A scalar to run backward from: the mean of the model's output."""
    with torch.enable_grad():
        out = bench.model(*bench.inputs)
    return out.float().mean()


def time_both(bench: BenchModel, repeats: int) -> tuple[float, float, BackwardTrace]:
    """Median seconds of ``loss.backward()`` alone and of the walk plus
    ``record_backward`` (forward not timed), run in turns so that a change of load
    hits both alike; and the last trace."""
    traces: list[BackwardTrace] = []

    def recorded(loss: torch.Tensor) -> None:
        traces.append(record_backward(walk_autograd([loss])))

    runs: dict[str, Callable[[torch.Tensor], object]] = {
        "plain": lambda loss: loss.backward(),
        "recorded": recorded,
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for attempt in range(repeats + 1):  # the first round warms up and is not counted
        for name, run in runs.items():
            bench.model.zero_grad(set_to_none=True)
            loss = loss_of(bench)
            start = time.perf_counter()
            run(loss)
            if attempt:
                times[name].append(time.perf_counter() - start)
    return statistics.median(times["plain"]), statistics.median(times["recorded"]), traces[-1]


def trace_bytes_per_step(trace: BackwardTrace) -> float:
    """Pickled size of the trace divided by its steps: what one step keeps in memory."""
    return len(pickle.dumps(trace)) / max(len(trace.steps), 1)


def backward_table(names: Sequence[str], repeats: int) -> None:
    """Recorded vs plain backward per model."""
    emit("## Recorded backward vs plain backward\n")
    emit(
        "| model | steps | plain backward ms | walk + recorded backward ms | ratio "
        "| trace bytes/step |"
    )
    emit("|---|---|---|---|---|---|")
    for name in names:
        bench = BUILDERS[name]()
        plain, recorded, trace = time_both(bench, repeats)
        emit(
            f"| {name} | {len(trace.steps):,} | {ms(plain)} | {ms(recorded)} | "
            f"{recorded / plain:.2f}x | {trace_bytes_per_step(trace):,.0f} |"
        )
    emit("")


def step_render_table(repeats: int) -> None:
    """Time to show one backward step on a graph of about 1,000 nodes (offscreen Qt)."""
    from bench.step_render import time_step_render

    nodes, per_step = time_step_render(STEP_RENDER_NODES, repeats)
    emit("## Stepping (offscreen Qt, one step = recolour + repaint, no re-layout)\n")
    emit("| graph nodes | median ms per step |")
    emit("|---|---|")
    emit(f"| {nodes:,} | {ms(per_step)} |")
    emit("")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """``--quick``, ``--models a,b`` and ``--no-render`` (skip the Qt step table)."""
    return parse_model_args(argv, __doc__.splitlines()[0], DEFAULT_MODELS, "fewer repeats")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)  # as the app: see bench_capture.TORCH_THREADS
    repeats = 2 if args.quick else 5
    emit(
        f"# Backward benchmark ({sys.platform}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}, {torch.get_num_threads()} thread, load {load_average()})\n"
    )
    backward_table(args.names, repeats)
    if not args.no_render:
        step_render_table(repeats * 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
