"""A model's training state across steps: optimizer, initial weights, device, dtype.

:class:`TrainingState` holds what a training run needs between steps (worker thread
only); the session composes it with capture, backward and layout.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from graphviz_app.core.graph.tensor_info import dtype_name
from graphviz_app.core.runtime.devices import (
    DeviceError,
    explain_device_error,
    free_device_memory,
    move_model,
    move_tensor,
    parse_dtype,
)
from graphviz_app.core.training.losses import LossFn, loss_function
from graphviz_app.core.training.trainer import (
    Batch,
    Trainer,
    TrainSettings,
    batch_at,
    restore_state,
    snapshot_state,
)

logger = logging.getLogger(__name__)


class TrainingState:
    """One model's trainer, its weights at load time and where it runs now."""

    def __init__(
        self,
        model: torch.nn.Module,
        inputs: Sequence[torch.Tensor],
        make_batch: Callable[[int], Any] | None,
        model_loss: LossFn | None,
        example_target: torch.Tensor | None = None,
    ) -> None:
        self.model = model
        self.inputs = tuple(inputs)
        self.make_batch = make_batch
        self.model_loss = model_loss
        self.example_target = example_target
        self.initial = snapshot_state(model)
        self.trainer = Trainer(model, TrainSettings())
        first = next(iter(model.parameters()), None)
        self.device = str(first.device) if first is not None else "cpu"
        self.dtype = dtype_name(first.dtype) if first is not None else "float32"

    @property
    def settings(self) -> TrainSettings:
        """The settings of the next step."""
        return self.trainer.settings

    def configure(self, settings: TrainSettings) -> str:
        """Use ``settings`` from the next step on (see :meth:`Trainer.configure`)."""
        return self.trainer.configure(settings)

    def next_batch(self) -> Batch:
        """The next step's batch, on the current device and in the current dtype."""
        index = self.trainer.steps  # step n (from 1) trains on make_batch(n - 1)
        batch = batch_at(self.make_batch, index, self.inputs, self.example_target)
        self.trainer.batch = batch_label(self.make_batch is not None, index)
        return self.placed(batch)

    def placed(self, batch: Batch) -> Batch:
        """``batch`` on the current device, its floating-point tensors in the current
        dtype (class indices keep theirs)."""
        dtype = parse_dtype(self.dtype)
        target = batch.target
        return Batch(
            tuple(move_tensor(x, self.device, dtype) for x in batch.inputs),
            move_tensor(target, self.device, dtype) if target is not None else None,
        )

    def loss_for(self, batch: Batch) -> LossFn | None:
        """The loss of this step, as the settings choose it."""
        return loss_function(self.settings.loss, self.model_loss, batch.target)

    def reset(self) -> None:
        """Weights and buffers back to their values at load time; no steps, no state."""
        restore_state(self.model, self.initial)
        self.trainer.reset()

    def move(self, device: str, dtype: str) -> None:
        """Move model, optimizer state and inputs to ``device`` in ``dtype``.

        On failure (CUDA out of memory, an unsupported dtype) everything is moved
        back and :class:`DeviceError` explains what happened.
        """
        previous = (self.device, self.dtype)
        try:
            self._move_to(device, dtype)
        except (RuntimeError, TypeError) as exc:
            logger.warning("moving to %s %s failed: %s", device, dtype, exc)
            message = explain_device_error(exc, device, dtype)
            self.fall_back(*previous)
            raise DeviceError(
                f"{message} Staying on {previous[0]} in {previous[1]}.", str(exc)
            ) from exc
        except BaseException:  # cancelled mid-move: never leave half the layers moved
            self.fall_back(*previous)
            raise

    def fall_back(self, device: str, dtype: str) -> None:
        """Move back to where the model was (after a failed move or run)."""
        self._move_to(device, dtype)
        free_device_memory()  # give back what the failed attempt allocated

    def _move_to(self, device: str, dtype: str) -> None:
        torch_dtype = parse_dtype(dtype)
        optimizer = move_model(self.model, self.trainer.optimizer, device, torch_dtype)
        if optimizer is not None:
            self.trainer.replace_optimizer(optimizer)
        self.inputs = tuple(move_tensor(x, device, torch_dtype) for x in self.inputs)
        self.device, self.dtype = device, dtype


@contextlib.contextmanager
def training_values_kept(model: torch.nn.Module, keep_grads: bool) -> Iterator[None]:
    """Leave every buffer (and with ``keep_grads`` every ``.grad``) as it was before
    the block, cast to wherever the model is at its end, whatever the block runs.

    A device switch's own forward and backward must not move batch-norm running
    statistics, nor add to gradients accumulated with ``zero_grad`` off. The copies
    stay on the CPU: no memory on a GPU that may be nearly full.
    """
    named = dict(model.named_parameters())
    grads = {n: _cpu_copy(p.grad) for n, p in named.items()} if keep_grads else {}
    buffers = {name: buffer.detach().to("cpu", copy=True) for name, buffer in model.named_buffers()}
    try:
        yield
    finally:
        for name, grad in grads.items():
            param = named[name]
            param.grad = grad.to(param.device, param.dtype) if grad is not None else None
        _restore_buffers(model, buffers)


def _restore_buffers(model: torch.nn.Module, kept: dict[str, torch.Tensor]) -> None:
    """Put back the buffers that changed. A graph the block captured (the stepper's)
    may have saved batch norm's running statistics for backward: a plain ``copy_``
    would move their version counter and make that backward raise. Its backward does
    not read them in train mode (the batch's own statistics) and eval mode does not
    change them, so they are written around autograd; any other buffer with ``copy_``,
    so a graph that did use its new value raises rather than computes with the old."""
    norms = {
        n for n, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._NormBase)
    }
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            old = kept.get(name)
            if old is None or torch.equal(buffer, old.to(buffer.device, buffer.dtype)):
                continue
            target = buffer.data if name.rpartition(".")[0] in norms else buffer
            target.copy_(old)


def _cpu_copy(tensor: torch.Tensor | None) -> torch.Tensor | None:
    return tensor.detach().to("cpu", copy=True) if tensor is not None else None


def batch_label(has_make_batch: bool, index: int) -> str:
    """How a step's record names its batch: ``make_batch(index)`` or the example."""
    return f"make_batch({index})" if has_make_batch else "the example input"
