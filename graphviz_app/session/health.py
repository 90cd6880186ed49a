"""The gradient health check of the open model: a new forward, a recorded backward
and the report (:mod:`graphviz_app.core.health`), and for the window the picture of
the graph that backward ran on."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from graphviz_app.core.autograd.forward import LossFn
from graphviz_app.core.health.check import diagnose
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.state import training_values_kept
from graphviz_app.session.protocol import SessionSteps
from graphviz_app.session.results import BackwardResult
from graphviz_app.session.results import HealthResult as HealthResult  # handed on


@dataclass(frozen=True)
class HealthSubject:
    """What to check: the model, the inputs and loss of its forward, its name."""

    model: torch.nn.Module
    inputs: tuple[torch.Tensor, ...]
    loss: LossFn | None
    name: str


def check_health(
    steps: SessionSteps,
    subject: HealthSubject,
    settings: HealthSettings,
    style: GraphStyle | None = None,
) -> HealthResult:
    """Forward on the subject's inputs (the new current run), then the check; with
    ``style``, the picture too. The model is left exactly as it was: ``.grad`` and
    buffers (batch norm's running statistics, which its forward in train mode moves)."""
    with training_values_kept(subject.model, keep_grads=False):  # diagnose keeps .grad
        run = steps.capture_step(subject.inputs, subject.loss)
        start = time.perf_counter()
        diagnosis = steps.timed(
            "gradient health", lambda: diagnose(run, subject.model, subject.name, settings)
        )
        seconds = time.perf_counter() - start
    trace = diagnosis.trace
    backward = BackwardResult(trace, run.graph, seconds) if trace is not None else None
    picture = steps.picture(style) if style is not None else None
    return HealthResult(diagnosis.report, backward, picture)
