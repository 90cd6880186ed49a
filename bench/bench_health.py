"""Gradient health benchmark: what the check costs, and what noting cut points and
create_graph calls adds to the forward recorder.

Run from the repository root::

    python -m bench.bench_health                     # mlp, resnet18, resnet50, gpt2
    python -m bench.bench_health --quick --models mlp,resnet50
    python -m bench.bench_health --baseline ../main/graphviz_app/core/autograd/recorder.py

``--baseline`` loads another checkout's ``recorder.py`` (before this feature) in the
same process, so the per-op figures compare like with like, interleaved.
Prints Markdown tables (paste them into BENCHMARKS.md) and nothing else.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType

import torch

from bench.args import parse_model_args
from bench.bench_capture import TORCH_THREADS, emit, interleaved_medians, load_average, ms
from bench.models import BUILDERS, BenchModel
from graphviz_app.core.autograd import recorder
from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.health.check import diagnose

DEFAULT_MODELS = ("mlp", "resnet18", "resnet50", "gpt2")
TINY_OPS = 20_000


def tiny_ops(recorder_module: ModuleType, grad: bool) -> Callable[[], object]:
    """``TINY_OPS`` one-element adds under a recorder (no values): the recorder's fixed
    cost per op dominates. With ``grad`` False they run under ``torch.no_grad()`` on a
    tensor that requires grad: each is a cut the recorder notes (the first only)."""
    leaf = torch.zeros(1, requires_grad=True)

    def run() -> object:
        with torch.enable_grad(), recorder_module.ForwardRecorder(with_values=False):
            x = leaf * 1.0
            with torch.set_grad_enabled(grad):
                for _ in range(TINY_OPS):
                    x = x + leaf
        return x

    return run


def load_baseline(path: str) -> ModuleType:
    """Another checkout's recorder.py, imported under a private name."""
    spec = importlib.util.spec_from_file_location("baseline_recorder", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def per_op_table(baseline: ModuleType | None, repeats: int) -> None:
    """µs per op under the recorder, grad on and under no_grad (this one vs baseline)."""
    emit("## Recorder cost per op (20,000 one-element adds, no values)\n")
    emit("| recorder | grad on µs/op | under no_grad µs/op |")
    emit("|---|---|---|")
    variants = {"this checkout": recorder} | ({"baseline": baseline} if baseline else {})
    fns = {}
    for name, module in variants.items():
        fns[(name, True)] = tiny_ops(module, True)
        fns[(name, False)] = tiny_ops(module, False)
    keyed = {f"{n}|{g}": fn for (n, g), fn in fns.items()}
    times = interleaved_medians(keyed, repeats)
    for name in variants:
        on, off = times[f"{name}|True"], times[f"{name}|False"]
        emit(f"| {name} | {on / TINY_OPS * 1e6:.2f} | {off / TINY_OPS * 1e6:.2f} |")
    emit("")


def loss_of(output: object, *inputs: torch.Tensor) -> torch.Tensor:
    """A scalar for models without a loss: the mean of the output."""
    assert isinstance(output, torch.Tensor)
    return output.float().mean()


def check_row(bench: BenchModel, repeats: int) -> str:
    """Forward + capture, a recorded backward, and the whole check (its own backward)."""
    capture, backward, check = [], [], []
    for attempt in range(repeats + 1):  # the first run warms up and is not counted
        start = time.perf_counter()
        run = forward_and_capture(bench.model, bench.inputs, loss_of)
        middle = time.perf_counter()
        record_backward(run.walk)
        end = time.perf_counter()
        run = forward_and_capture(bench.model, bench.inputs, loss_of)
        checked = time.perf_counter()
        report = diagnose(run, bench.model, bench.name).report
        done = time.perf_counter()
        if attempt:
            capture.append(middle - start)
            backward.append(end - middle)
            check.append(done - checked)
    c, b, k = (statistics.median(v) for v in (capture, backward, check))
    return (
        f"| {bench.name} | {len(run.graph.nodes):,} | {ms(c)} | {ms(b)} | {ms(k)} "
        f"| {k / b:.2f}x | {len(report.problems())} |"
    )


def check_table(names: Sequence[str], repeats: int) -> None:
    """The check against a recorded backward alone, per model."""
    emit("## Gradient health check\n")
    emit(
        "| model | nodes | forward + capture ms | recorded backward ms | check ms "
        "(its backward included) | check / backward | problems |"
    )
    emit("|---|---|---|---|---|---|---|")
    for name in names:
        emit(check_row(BUILDERS[name](), repeats))
    emit("")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the per-op table and the check table."""
    args = _parse(argv)
    torch.set_num_threads(TORCH_THREADS)
    emit(f"Load average at the start (1, 5, 15 min): {load_average()}\n")
    baseline = load_baseline(args.baseline) if args.baseline else None
    per_op_table(baseline, 3 if args.quick else 9)
    check_table(args.names, 2 if args.quick else 5)
    emit(f"Load average at the end: {load_average()}")
    return 0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--baseline", default="", help="another checkout's recorder.py")
    known, rest = extra.parse_known_args(argv)
    args = parse_model_args(
        rest, __doc__ or "", DEFAULT_MODELS, "fewer repeats", skip_when_quick=()
    )
    args.baseline = known.baseline
    return args


if __name__ == "__main__":
    sys.exit(main())
