"""How long "Check gradients" takes, and how many elements its time budget allows.

The check times one forward, then sizes one per-parameter sample so that the float64,
float32 and float32 (h = 1e-3) runs together take about ``BUDGET_S``; this prints the
sample chosen, each run's time and the total, against the budget.

    python -m bench.bench_gradcheck [--quick] [--models two_layer_net,resnet18]
"""

from __future__ import annotations

import argparse
import time

import torch

from bench.models import BUILDERS
from graphviz_app.core.gradcheck.check import check_gradients
from graphviz_app.core.gradcheck.results import BUDGET_S
from graphviz_app.core.runtime.threads import configure_torch_threads
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file

BUILT_IN = ("two_layer_net", "residual_cnn", "cifar_cnn")
DEFAULTS = (*BUILT_IN, "resnet18")


def _model(name: str) -> tuple[torch.nn.Module, tuple[torch.Tensor, ...], object]:
    if name in BUILDERS:
        bench = BUILDERS[name]()
        return bench.model, bench.inputs, None
    loaded = load_model_file(resolve_model(name))
    return loaded.model, loaded.inputs, loaded.loss_fn


def measure(name: str, budget_s: float) -> None:
    """Run one whole-model check of ``name`` and print what it did."""
    model, inputs, loss = _model(name)
    params = sum(p.numel() for p in model.parameters())
    start = time.perf_counter()
    report = check_gradients(model, inputs, loss, budget_s=budget_s)  # type: ignore[arg-type]
    total = time.perf_counter() - start
    runs = ", ".join(f"{run.dtype} {run.seconds:.1f} s" for run in report.runs)
    print(
        f"{name:14s} {len(report.runs[0].params):3d} tensors {params:>10,} values | forward "
        f"{report.forward_s * 1e3:7.1f} ms | {report.per_param:3d} per tensor | {runs} | "
        f"total {total:5.1f} s (budget {budget_s:g} s)"
    )


def main(argv: list[str] | None = None) -> None:
    """Print the figures for each chosen model."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="built-in models only")
    parser.add_argument("--models", default=",".join(DEFAULTS))
    parser.add_argument("--budget", type=float, default=BUDGET_S)
    args = parser.parse_args(argv)
    configure_torch_threads()
    names = [n for n in args.models.split(",") if n]
    for name in names:
        if args.quick and name not in BUILT_IN:
            continue
        measure(name, args.budget)


if __name__ == "__main__":
    main()
