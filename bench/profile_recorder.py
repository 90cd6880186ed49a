"""Where the forward recorder's time goes: cProfile of one recorded forward pass.

Run from the repository root::

    python -m bench.profile_recorder                 # ResNet-50, values on
    python -m bench.profile_recorder --model gpt2 --no-values --top 30

Prints the forward time with and without the recorder, then the functions with the
most own time and the recorder's functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from collections.abc import Sequence

import torch

from bench.bench_capture import TORCH_THREADS, forward, median_time, recorded_forward
from bench.models import BUILDERS, BenchModel


def profile(bench: BenchModel, with_values: bool) -> pstats.Stats:
    """cProfile statistics of one recorded forward (after a warm-up run)."""
    recorded_forward(bench, with_values)
    profiler = cProfile.Profile()
    profiler.enable()
    recorded_forward(bench, with_values)
    profiler.disable()
    return pstats.Stats(profiler, stream=io.StringIO())


def report(stats: pstats.Stats, sort: str, top: int, pattern: str = "") -> str:
    """The top ``top`` lines of ``stats`` sorted by ``sort``, as text."""
    stream = io.StringIO()
    stats.stream = stream  # type: ignore[attr-defined]
    restrictions: tuple[str | int, ...] = (pattern, top) if pattern else (top,)
    stats.sort_stats(sort).print_stats(*restrictions)
    return stream.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Profile one model's recorded forward and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50", choices=sorted(BUILDERS))
    parser.add_argument("--no-values", action="store_true", help="recorder without values")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    torch.set_num_threads(TORCH_THREADS)
    bench = BUILDERS[args.model]()
    values = not args.no_values
    plain = median_time(lambda: forward(bench), 5)
    recorded = median_time(lambda: recorded_forward(bench, values), 5)
    print(
        f"# {args.model}: forward {plain * 1e3:.1f} ms, with recorder (values={values}) "
        f"{recorded * 1e3:.1f} ms, ratio {recorded / plain:.2f}x\n"
    )
    stats = profile(bench, values)
    print(report(stats, "tottime", args.top))
    print(report(stats, "cumulative", args.top, r"graphviz_app"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
