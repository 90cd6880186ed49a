"""Visible training steps per second, and their overhead over a plain training loop.

A visible step is what the Training dock does for each step: forward under the
recorder, capture, recorded backward, ``optimizer.step()`` with the per-parameter
record, the picture (layout from the cache), and in the window the new graph drawn,
recoloured by gradient and repainted (offscreen). The plain loop is
``zero_grad; loss = loss_fn(model(x)); loss.backward(); step()`` on the same model.

    python -m bench.bench_training [--quick] [--models mlp_small,resnet18] [--no-render]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from bench.models import BUILDERS, BenchModel
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.trainer import TrainSettings, make_optimizer
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.session import ModelSession, StepResult

SETTINGS = TrainSettings("SGD", lr=0.01, momentum=0.9)
STYLE = GraphStyle()


def mlp_small() -> BenchModel:
    """784-512-512-10 MLP, batch 32 (the issue's MLP)."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
    )
    return BenchModel("mlp_small", model, (torch.randn(32, 784),))


MODELS: dict[str, Callable[[], BenchModel]] = {"mlp_small": mlp_small, **BUILDERS}


def _loss(output: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    return output.square().mean()


def plain_steps_per_second(bench: BenchModel, steps: int) -> float:
    """Steps/s of the plain loop (one warm-up step first)."""
    optimizer = make_optimizer(bench.model.parameters(), SETTINGS)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        _loss(bench.model(*bench.inputs)).backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def _session(bench: BenchModel) -> ModelSession:
    session = ModelSession()
    session.loaded = LoadedModel(
        bench.name, Path(bench.name), bench.model, bench.inputs, _loss, None, ""
    )
    session.train_one(SETTINGS, STYLE)  # warm-up: first layout, optimizer import
    return session


def session_steps_per_second(bench: BenchModel, steps: int) -> float:
    """Steps/s of ``ModelSession.train_one`` alone (no drawing)."""
    session = _session(bench)
    start = time.perf_counter()
    for _ in range(steps):
        session.train_one(SETTINGS, STYLE)
    return steps / (time.perf_counter() - start)


def visible_steps_per_second(bench: BenchModel, steps: int) -> tuple[float, float]:
    """(steps/s, median ms of the drawing part) with the window's scene and stepper."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from graphviz_app.ui.backward.stepper import BackwardStepper, StepperPanel
    from graphviz_app.ui.graph.grad_legend import GradLegend
    from graphviz_app.ui.graph.scene import GraphScene
    from graphviz_app.ui.graph.view import GraphView

    app = QApplication.instance() or QApplication([])
    session = _session(bench)
    scene, view = GraphScene(), GraphView()
    view.setScene(scene)
    view.resize(1400, 900)
    view.show()
    stepper = BackwardStepper(scene, StepperPanel(), GradLegend(view.viewport()))

    def draw(step: StepResult) -> None:
        scene.show_graph(step.picture.visible, step.picture.layout, step.picture.style)
        stepper.show_result(step.backward)
        view.viewport().repaint()
        app.processEvents()

    draws = []
    start = time.perf_counter()
    for _ in range(steps):
        step = session.train_one(SETTINGS, STYLE)
        drawn = time.perf_counter()
        draw(step)
        draws.append(time.perf_counter() - drawn)
    rate = steps / (time.perf_counter() - start)
    view.close()
    return rate, statistics.median(draws) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--models", default="mlp_small,resnet18")
    parser.add_argument("--no-render", action="store_true", help="skip the Qt drawing")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("GRAPHVIZ_APP_TORCH_THREADS", "1")))
    print(f"torch threads: {torch.get_num_threads()}")
    print(
        f"{'model':<10} {'plain/s':>8} {'session/s':>9} {'visible/s':>9} {'draw ms':>8} "
        f"{'overhead':>9}"
    )
    for name in (n.strip() for n in args.models.split(",")):
        steps = 5 if args.quick or name.startswith("resnet") else 50
        plain = plain_steps_per_second(MODELS[name](), steps)
        core = session_steps_per_second(MODELS[name](), steps)
        visible, draw_ms = (
            (float("nan"), float("nan"))
            if args.no_render
            else visible_steps_per_second(MODELS[name](), steps)
        )
        shown = visible if not args.no_render else core
        print(
            f"{name:<10} {plain:8.1f} {core:9.1f} {visible:9.1f} {draw_ms:8.1f} "
            f"{plain / shown:8.1f}x"
        )


if __name__ == "__main__":
    main()
