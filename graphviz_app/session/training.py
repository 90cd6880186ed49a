"""Optimizer steps on the open model: forward, recorded backward, ``optimizer.step()``."""

from __future__ import annotations

from collections.abc import Callable

from graphviz_app.core.graph.diff import structure_change
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.runtime.devices import (
    explain_device_error,
    free_device_memory,
    is_out_of_memory,
)
from graphviz_app.core.training.losses import TrainingError
from graphviz_app.core.training.trainer import TrainRecord, TrainSettings
from graphviz_app.session.protocol import SessionSteps
from graphviz_app.session.results import StepResult, TrainRunResult


def train_one(session: SessionSteps, settings: TrainSettings, style: GraphStyle) -> StepResult:
    """One optimizer step: forward (a new graph), recorded backward, optimizer.step().

    The picture and the backward pass shown are those of this step's forward, with
    the gradients the optimizer then used; ``change`` says how this graph's
    structure differs from the previous one's. Out of memory is a
    :class:`TrainingError` that says what to try.
    """
    state = session.training
    try:
        return _step(session, settings, style)
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        free_device_memory()
        raise TrainingError(explain_device_error(exc, state.device, state.dtype)) from exc


def _step(session: SessionSteps, settings: TrainSettings, style: GraphStyle) -> StepResult:
    state = session.training
    note = state.configure(settings)
    previous = session.run.graph if session.run is not None else None
    state.trainer.before_forward()
    batch = state.next_batch()
    run = session.capture_step(batch.inputs, state.loss_for(batch))
    backward = session.backward()
    record = session.timed("optimizer step", lambda: state.trainer.apply(run.roots[0]))
    picture = session.picture(style)
    change = structure_change(previous, run.graph)
    return StepResult(picture, backward, record, change, note)


def train(
    session: SessionSteps,
    settings: TrainSettings,
    style: GraphStyle,
    steps: int,
    cancel: CancelToken | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> TrainRunResult:
    """Up to ``steps`` optimizer steps, each reported to ``on_step``; stops early
    (without raising) once ``cancel`` is set."""
    records: list[TrainRecord] = []
    last: StepResult | None = None
    for _ in range(steps):
        if cancel is not None and cancel.cancelled:
            break
        last = train_one(session, settings, style)
        records.append(last.record)
        if on_step is not None:
            on_step(last)
    return TrainRunResult(tuple(records), last, steps, len(records) < steps)
