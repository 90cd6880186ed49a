"""Our pictures against the peers', model by model, each figure from fresh processes.

    python -m bench.bench_peers                       # mlp, resnet18, resnet50, gpt2, gpt48
    python -m bench.bench_peers --models resnet50,gpt2 --runs 5
    python -m bench.bench_peers --models vit,lstm_lm --works torchviz,api

Every figure is the median over ``--runs`` fresh Python processes (a user's first
picture: nothing warm, no layout cached), each building the model untimed, collecting
once (see :func:`child`) and then timing one piece of work:

- **static picture** (from a live forward output to an SVG file): torchviz's
  ``make_dot(out, params=...)`` and its DOT through ``graphviz-pure -Tsvg`` (the same
  Graphviz we use), against ours: ``capture_graph`` of the output of a forward run under
  our recorder (module boxes need it) and :func:`graphviz_app.core.layout.svg.graph_svg`
  (the path ``graphviz-app export`` takes), and the Python API's
  ``graphviz_app.draw(out, model=model).save("g.svg")`` on a plain forward's output. The
  forwards are timed too: the recorder's cost is shown beside, not hidden.
- **module graph** (from the model and its input to an SVG file): torchview's
  ``draw_graph`` (its own forward pass) and its DOT through ``graphviz-pure -Tsvg``,
  against ours: recorded forward, capture and SVG.
- **floor**: the model's own forward and backward, plain torch.

One torch thread everywhere (the app's setting on this 2-core machine). Prints
Markdown tables: medians with the range over the runs, and ours / peer ratios (below 1:
we are faster).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

DEFAULT_MODELS = ("mlp", "resnet18", "resnet50", "gpt2", "gpt48", "vit", "lstm_lm")
WORKS = ("floor", "torchviz", "ours", "api", "torchview", "ours_module")
CHILD_TIMEOUT_S = 600


# ------------------------------------------------------------------ one piece of work


def _svg_by_graphviz(source: str, path: Path) -> None:
    """A peer's DOT text through the Graphviz we use, to an SVG file (as ``render``)."""
    from graphviz_app.core.layout.engine import find_engine

    path.write_bytes(find_engine().run(source, "svg"))


def _work_floor(model: Any, inputs: tuple[Any, ...], out: Path) -> dict[str, float]:
    start = time.perf_counter()
    output = model(*inputs)
    output.float().sum().backward()
    return {"seconds": time.perf_counter() - start}


def _work_torchviz(model: Any, inputs: tuple[Any, ...], out: Path) -> dict[str, float]:
    from torchviz import make_dot

    start = time.perf_counter()
    output = model(*inputs)
    forward = time.perf_counter() - start
    start = time.perf_counter()
    dot = make_dot(output, params=dict(model.named_parameters()))
    _svg_by_graphviz(dot.source, out)
    return {"seconds": time.perf_counter() - start, "forward": forward}


def _work_ours(model: Any, inputs: tuple[Any, ...], out: Path) -> dict[str, float]:
    from graphviz_app.core.autograd.capture import CaptureOptions, capture_graph
    from graphviz_app.core.autograd.forward import input_names
    from graphviz_app.core.autograd.recorder import ForwardRecorder
    from graphviz_app.core.layout.svg import graph_svg  # imports untimed, as the peers'

    start = time.perf_counter()
    with ForwardRecorder(model, with_values=False, flag_non_finite=True):
        output = model(*inputs)
    forward = time.perf_counter() - start
    start = time.perf_counter()
    params = dict(model.named_parameters())
    graph = capture_graph(output, params, input_names(inputs), CaptureOptions.picture())
    out.write_text(graph_svg(graph), encoding="utf-8")
    return {"seconds": time.perf_counter() - start, "forward": forward, "nodes": len(graph.nodes)}


def _work_api(model: Any, inputs: tuple[Any, ...], out: Path) -> dict[str, float]:
    import graphviz_app

    graphviz_app.draw  # noqa: B018 (the API's modules imported untimed, as the peers')
    output = model(*inputs)  # a plain forward: the API draws any live tensor
    start = time.perf_counter()
    graphviz_app.draw(output, model=model).save(out)
    return {"seconds": time.perf_counter() - start}


def _work_torchview(model: Any, inputs: tuple[Any, ...], out: Path) -> dict[str, float]:
    from torchview import draw_graph

    start = time.perf_counter()
    drawn = draw_graph(model, input_data=list(inputs), device="cpu")
    _svg_by_graphviz(drawn.visual_graph.source, out)
    return {"seconds": time.perf_counter() - start}


def _work_ours_module(model: Any, inputs: tuple[Any, ...], out: Path) -> dict[str, float]:
    import graphviz_app.core.autograd.capture
    import graphviz_app.core.autograd.recorder
    import graphviz_app.core.layout.svg  # noqa: F401 (imports untimed, as torchview's)

    start = time.perf_counter()
    _work_ours(model, inputs, out)
    return {"seconds": time.perf_counter() - start}


WORK: dict[str, Callable[[Any, tuple[Any, ...], Path], dict[str, float]]] = {
    "floor": _work_floor,
    "torchviz": _work_torchviz,
    "ours": _work_ours,
    "api": _work_api,
    "torchview": _work_torchview,
    "ours_module": _work_ours_module,
}


def child(work: str, model_name: str) -> None:
    """In a fresh process: build the model (untimed), do ``work`` once, print JSON."""
    import torch

    from bench.models import BUILDERS

    torch.set_num_threads(1)
    built = BUILDERS[model_name]()
    # A process settled past its imports, as a notebook kernel or a script is by the time
    # it draws: the first full collection after importing torch (75-100 ms) falls on
    # whoever allocates next, which is luck, not the work measured.
    gc.collect()
    with tempfile.TemporaryDirectory() as folder:
        figures = WORK[work](built.model, built.inputs, Path(folder) / "g.svg")
    print(json.dumps(figures))


# ------------------------------------------------------------------------ the parent


def run_child(work: str, model_name: str) -> dict[str, float] | str:
    """One fresh process; its figures, or why it gave none."""
    command = [sys.executable, "-m", "bench.bench_peers", "--child", work, model_name]
    # As an installed package: compiled modules are cached (this machine's environment
    # sets PYTHONDONTWRITEBYTECODE, which makes every fresh process compile ours).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return f"over {CHILD_TIMEOUT_S} s"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return last[:80]
    figures: dict[str, float] = json.loads(lines[-1])
    return figures


def measure(
    model_name: str, runs: int, works: Sequence[str] = WORKS
) -> dict[str, list[dict[str, float]] | str]:
    """Every work on ``model_name`` (those in ``works``; the others' cells stay empty),
    ``runs`` fresh processes each (interleaved, so that a change of load hits every
    column alike)."""
    results: dict[str, list[dict[str, float]] | str] = {w: [] for w in WORKS}
    for _ in range(runs):
        for work in (w for w in WORKS if w in works):
            kept = results[work]
            if isinstance(kept, str):
                continue
            got = run_child(work, model_name)
            if isinstance(got, str):
                results[work] = got
            else:
                kept.append(got)
    return results


def ms(values: Sequence[float]) -> str:
    """Median in ms, with the range when there are several runs."""
    med = statistics.median(values) * 1000
    if len(values) < 2:
        return f"{med:.0f}"
    return f"{med:.0f} ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"


def column(results: dict[str, Any], work: str, key: str = "seconds") -> list[float] | str:
    got = results[work]
    return got if isinstance(got, str) else [r[key] for r in got if key in r]


def ratio(ours: list[float] | str, peer: list[float] | str) -> str:
    if isinstance(ours, str) or isinstance(peer, str) or not ours or not peer:
        return "-"
    return f"{statistics.median(ours) / statistics.median(peer):.2f}x"


def cell(values: list[float] | str) -> str:
    return values if isinstance(values, str) else ms(values) if values else "-"


def row(model_name: str, results: dict[str, Any]) -> list[str]:
    ours, tv, api = column(results, "ours"), column(results, "torchviz"), column(results, "api")
    mod, view = column(results, "ours_module"), column(results, "torchview")
    nodes = column(results, "ours", "nodes")
    return [
        model_name,
        f"{int(nodes[0]):,}" if isinstance(nodes, list) and nodes else "-",
        cell(column(results, "floor")),
        cell(column(results, "torchviz", "forward")),
        cell(column(results, "ours", "forward")),
        cell(tv),
        cell(ours),
        ratio(ours, tv),
        cell(api),
        ratio(api, tv),
        cell(view),
        cell(mod),
        ratio(mod, view),
    ]


HEADER = (
    "| model | nodes | floor: forward+backward ms | plain forward ms | forward under our "
    "recorder ms | torchviz make_dot + graphviz-pure SVG ms | ours: capture + layout + SVG "
    "ms | ours / torchviz | draw(out, model).save ms | draw / torchviz | torchview "
    "draw_graph + SVG ms | ours: recorded forward + capture + SVG ms | ours / torchview "
    "|\n|" + "---|" * 13
)


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load[0]:.2f} {load[1]:.2f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per figure")
    parser.add_argument(
        "--works", default=",".join(WORKS), help=f"what to time (default: all of {','.join(WORKS)})"
    )
    parser.add_argument("--child", nargs=2, metavar=("WORK", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    import torch

    print(f"{machine()}, torch {torch.__version__}, 1 torch thread")
    print(f"median of {args.runs} fresh processes per figure (range in brackets)\n")
    print(HEADER, flush=True)
    for name in (n.strip() for n in args.models.split(",") if n.strip()):
        works = [w.strip() for w in args.works.split(",") if w.strip()]
        print("| " + " | ".join(row(name, measure(name, args.runs, works))) + " |", flush=True)
    print(f"\nfinished {machine()}")


if __name__ == "__main__":
    main()
