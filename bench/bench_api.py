"""The Python API: ``draw(...).save("g.svg")`` beside torchviz, and ``watch()``'s cost.

Run from the repository root::

    python -m bench.bench_api              # resnet50, gpt2 drawn; mlp, resnet18 watched
    python -m bench.bench_api --quick      # fewer repeats and steps

1. Drawing: from a finished forward to an SVG file on disk. Ours is
   ``graphviz_app.draw(loss, model=model).save(path)`` (capture, DOT, one Graphviz run);
   torchviz's is ``make_dot(loss, params=dict(model.named_parameters()))`` with its DOT
   laid out by the same engine (graphviz-pure ``-Tsvg``) and written. Medians of the
   repeats after one warm-up, interleaved.
2. watch(): one SGD step (zero_grad, forward, loss, backward, step) of a plain model
   and of its twin inside ``watch(model, every=N)``, their steps alternated so both
   see the same load. ``every`` larger than the run captures only the first step, so
   the others show the cost when not capturing (records: loss, gradient norms, update
   ratios); ``every=1`` captures every step (recorded forward, captured graph,
   recorded backward). Medians per step over the steps after the first.

torch runs on one thread, as in the other benchmarks. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from bench.bench_capture import emit, load_average, ms
from bench.models import BUILDERS, BenchModel
from graphviz_app import draw, watch
from graphviz_app.core.layout.engine import find_engine

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # torchviz imports distutils
    from torchviz import make_dot


def _loss(bench: BenchModel) -> torch.Tensor:
    output = bench.model(*bench.inputs)
    return output.float().pow(2).mean()


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def drawing_row(name: str, repeats: int, folder: Path) -> str:
    """One table row: nodes, our time, torchviz's time, the ratio and the file sizes."""
    bench = BUILDERS[name]()
    loss = _loss(bench)
    params = dict(bench.model.named_parameters())
    engine = find_engine()
    ours_path, theirs_path = folder / f"{name}.svg", folder / f"{name}-torchviz.svg"

    def ours() -> None:
        draw(loss, model=bench.model).save(ours_path)

    def theirs() -> None:
        dot = make_dot(loss, params=params)
        theirs_path.write_bytes(engine.run(dot.source, "svg"))

    ours(), theirs()  # warm-up: wrappers of the graph's nodes, the engine found once
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(repeats):
        times["ours"].append(_timed(ours))
        times["theirs"].append(_timed(theirs))
    mine, other = (statistics.median(times[k]) for k in ("ours", "theirs"))
    nodes = len(draw(loss, model=bench.model).graph.nodes)
    size = ours_path.stat().st_size // 1024, theirs_path.stat().st_size // 1024
    return (
        f"| {name} | {nodes:,} | {ms(mine)} | {ms(other)} | {mine / other:.2f}x "
        f"| {size[0]:,} | {size[1]:,} |"
    )


def _step(bench: BenchModel, optimizer: torch.optim.Optimizer) -> None:
    optimizer.zero_grad()
    _loss(bench).backward()
    optimizer.step()


def _paired(name: str, every: int, steps: int) -> tuple[float, float]:
    """Median step times of a plain twin and a watched twin, their steps alternated so
    that both see the same load (the plain twin's backward passes the interception
    untouched: it does not reach the watched model's parameters)."""
    plain, watched = BUILDERS[name](), BUILDERS[name]()
    optimizers = [torch.optim.SGD(b.model.parameters(), lr=1e-4) for b in (plain, watched)]
    times: tuple[list[float], list[float]] = ([], [])
    with watch(watched.model, every=every):
        _step(watched, optimizers[1])  # the first step: captured in both settings
        for _ in range(steps):
            times[0].append(_timed(lambda: _step(plain, optimizers[0])))
            times[1].append(_timed(lambda: _step(watched, optimizers[1])))
    return statistics.median(times[0]), statistics.median(times[1])


def watch_row(name: str, steps: int) -> str:
    """Per-step medians: plain vs watched without capturing, plain vs capturing each step."""
    plain, quiet = _paired(name, 10**9, steps)
    plain_too, full = _paired(name, 1, steps)
    return (
        f"| {name} | {ms(plain)} | {ms(quiet)} | {ms(quiet - plain)} "
        f"| {100 * (quiet / plain - 1):+.1f}% | {ms(full)} | {full / plain_too:.2f}x |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    repeats, steps = (2, 8) if args.quick else (5, 40)
    emit(f"load average at start: {load_average()}\n")
    emit(
        "| model | nodes | draw().save(svg) ms | torchviz make_dot + same Graphviz ms | ratio "
        "| our SVG KB | torchviz SVG KB |"
    )
    emit("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in ("resnet50", "gpt2"):
            emit(drawing_row(name, repeats, Path(folder)))
    emit(
        "\n| model | plain step ms | watched, not capturing ms | overhead ms | overhead "
        "| watched, capturing every step ms | ratio |"
    )
    emit("|---|---|---|---|---|---|---|")
    for name in ("mlp", "resnet18"):
        emit(watch_row(name, steps))
    emit(f"\nload average at end: {load_average()}")


if __name__ == "__main__":
    main()
