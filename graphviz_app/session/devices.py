"""Moving an open model's training state to another device or dtype, without Qt.

A switch moves model, batch and optimizer state, runs forward and a recorded backward
on the new device, and compares the gradients of one batch before and after. It never
changes training: batch-norm statistics and the gradients earlier steps left in
``.grad`` are kept, and any failure, a cancel included, puts the model back where it
was (with its graph).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.devices import DeviceError, explain_device_error
from graphviz_app.core.training.compare import (
    GradSnapshot,
    compare_grads,
    gradients_of,
    repeat_warning,
)
from graphviz_app.core.training.state import TrainingState, training_values_kept
from graphviz_app.core.training.trainer import Batch
from graphviz_app.session.protocol import SessionSteps
from graphviz_app.session.results import DeviceChoice as DeviceChoice  # handed on
from graphviz_app.session.results import DeviceSwitchResult as DeviceSwitchResult

logger = logging.getLogger(__name__)


def switch_device(
    session: SessionSteps, device: str, dtype: str, style: GraphStyle
) -> DeviceSwitchResult:
    """Move ``session``'s training state to ``device``/``dtype`` (see the module doc).

    A failure returns a result that says why, with the model back on the previous
    device; a cancel (any ``BaseException``) moves it back too, then goes on.
    """
    state = session.training
    previous, previous_run = (state.device, state.dtype), session.run
    # The next step may add to .grad (zero_grad off): keep what earlier steps left. A
    # model never trained keeps the switch's own backward's, as its picture shows.
    trained = any(p.grad is not None for p in state.model.parameters())
    with training_values_kept(state.model, keep_grads=trained):
        try:
            return _switch(session, device, dtype, style)
        except DeviceError as exc:  # the move failed and was undone
            return _failed(session, previous, exc.summary, exc.details, style)
        except Exception as exc:  # OOM, a kernel missing for this dtype, no CUDA here
            logger.warning("switching to %s %s failed: %s", device, dtype, exc)
            state.fall_back(*previous)
            message = f"{explain_device_error(exc, device, dtype)} Back on {' in '.join(previous)}."
            return _failed(session, previous, message, f"{type(exc).__name__}: {exc}", style)
        except BaseException:  # cancelled: the model must not stay half-way
            state.fall_back(*previous)
            session.use_inputs(state.inputs)
            session.run = previous_run  # not a graph half-made on the other dtype
            raise


def _switch(
    session: SessionSteps, device: str, dtype: str, style: GraphStyle
) -> DeviceSwitchResult:
    state = session.training
    # Drawn once, for both sides: a random make_batch would give each side another batch.
    batch = state.next_batch()
    before = _gradients(state, batch)
    # Once more, same device and dtype: a random forward makes before/after meaningless.
    warning = repeat_warning(before, _gradients(state, batch))
    state.move(device, dtype)
    after = _gradients(state, state.placed(batch))
    session.use_inputs(state.inputs)
    for param in state.model.parameters():
        param.grad = None  # the picture's backward, not one added to the old device's
    session.forward()
    backward = session.backward()
    comparison = replace(compare_grads(before, after, state.trainer.batch), warning=warning)
    return DeviceSwitchResult(device, dtype, session.picture(style), backward, comparison)


def _gradients(state: TrainingState, batch: Batch) -> GradSnapshot:
    return gradients_of(state.model, batch.inputs, state.loss_for(batch), state.device)


def _failed(
    session: SessionSteps,
    previous: tuple[str, str],
    message: str,
    details: str,
    style: GraphStyle,
) -> DeviceSwitchResult:
    session.use_inputs(session.training.inputs)
    session.forward()  # the old graph's tensors may sit on the device that failed
    return DeviceSwitchResult(*previous, session.picture(style), error=message, details=details)
