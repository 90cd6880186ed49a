"""Optimizer steps on a captured model: what each step did to every parameter.

Each step is a real PyTorch step: forward (a new graph), a recorded backward, then
``optimizer.step()``. The record keeps, per parameter, the gradient's norm, the
value before and after and the update actually applied (after minus before), as
plain immutable data: values for small tensors, a summary for big ones.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from graphviz_app.core.graph.records import TensorInfo
from graphviz_app.core.graph.tensor_info import describe_tensor
from graphviz_app.core.training.settings import OPTIMIZER_NAMES
from graphviz_app.core.training.settings import WITH_MOMENTUM as WITH_MOMENTUM  # handed on
from graphviz_app.core.training.settings import ParamUpdate as ParamUpdate
from graphviz_app.core.training.settings import TrainingError as TrainingError
from graphviz_app.core.training.settings import TrainRecord as TrainRecord
from graphviz_app.core.training.settings import TrainSettings as TrainSettings
from graphviz_app.core.training.settings import settings_change as settings_change

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = dict(
    zip(
        OPTIMIZER_NAMES,
        (
            torch.optim.SGD,
            torch.optim.Adam,
            torch.optim.AdamW,
            torch.optim.RMSprop,
            torch.optim.Adagrad,
        ),
        strict=True,
    )
)
UPDATE_PREVIEW = 16  # values kept per tensor in a step's record


def make_optimizer(
    params: Iterator[torch.nn.Parameter] | Sequence[torch.Tensor], settings: TrainSettings
) -> torch.optim.Optimizer:
    """The optimizer ``settings`` names, over ``params``."""
    settings.check()
    return OPTIMIZERS[settings.optimizer](params, **settings.optimizer_kwargs())


@dataclass(frozen=True)
class Batch:
    """The inputs of one step and, when the model provides one, its target."""

    inputs: tuple[torch.Tensor, ...]
    target: torch.Tensor | None = None


class Trainer:
    """Holds a model's optimizer and counts its steps (worker thread only)."""

    def __init__(self, model: torch.nn.Module, settings: TrainSettings) -> None:
        self.model = model
        self.settings = settings
        self.optimizer = make_optimizer(model.parameters(), settings)
        self.steps = 0  # steps made; step n (counted from 1) is the n-th optimizer.step()
        self.batch = ""  # the next record's batch, set by whoever makes the batch
        self.history: list[TrainRecord] = []

    def configure(self, settings: TrainSettings) -> str:
        """Use ``settings`` from the next step on; returns what happened to the state.

        Another optimizer starts from a fresh state; new hyperparameters for the same
        optimizer keep its state (momentum buffers, Adam's moments), as changing a
        ``param_group`` in PyTorch does.
        """
        if settings == self.settings:
            return ""
        settings.check()
        old, self.settings = self.settings, settings
        if settings.optimizer != old.optimizer:
            self.optimizer = make_optimizer(self.model.parameters(), settings)
            return f"New {settings.optimizer} optimizer: its state starts empty."
        for group in self.optimizer.param_groups:
            group.update(settings.optimizer_kwargs())
        return ""

    def before_forward(self) -> None:
        """Clear gradients (unless accumulating on purpose) and set train/eval mode."""
        if self.settings.zero_grad:
            self.optimizer.zero_grad(set_to_none=True)
        self.model.train(self.settings.train_mode)

    def apply(self, loss: torch.Tensor) -> TrainRecord:
        """``optimizer.step()`` after backward ran; returns what changed."""
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        before = {n: p.detach().clone() for n, p in named}
        self.optimizer.step()
        self.steps += 1
        record = TrainRecord(
            self.steps,
            float(loss.detach().sum()),
            tuple(_update(name, param, before[name]) for name, param in named),
            self.settings,
            self.batch,
        )
        self.history.append(record)
        return record

    def reset(self) -> None:
        """Forget the steps and the optimizer's state (weights are the caller's)."""
        self.optimizer = make_optimizer(self.model.parameters(), self.settings)
        self.steps = 0
        self.history.clear()

    def replace_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Use ``optimizer`` (the same one rebuilt after a device or dtype move)."""
        self.optimizer = optimizer


def _update(name: str, param: torch.Tensor, before: torch.Tensor) -> ParamUpdate:
    grad, after = param.grad, param.detach()
    update = after - before
    return ParamUpdate(
        name=name,
        grad_norm=float(grad.norm()) if grad is not None else 0.0,
        update_norm=float(update.norm()),
        weight_norm=float(before.norm()),
        before=_summary(before),
        after=_summary(after),
        update=_summary(update),
        grad=_summary(grad) if grad is not None else None,
    )


def _summary(tensor: torch.Tensor) -> TensorInfo:
    # The inspector shows a record's first values and norm, never its histogram.
    return describe_tensor(tensor, UPDATE_PREVIEW, histogram=False)


def snapshot_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A deep copy of the model's parameters and buffers, to reset to later."""
    return copy.deepcopy(model.state_dict())


def restore_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Put the snapshot's values back (cast to the model's current device and dtype)
    and clear every ``.grad``."""
    model.load_state_dict(state)
    for param in model.parameters():
        param.grad = None


def batch_at(
    make_batch: Callable[[int], Any] | None,
    step: int,
    fallback: Sequence[torch.Tensor],
    fallback_target: torch.Tensor | None = None,
) -> Batch:
    """The batch of step ``step``: the model file's ``make_batch`` (a tensor, or
    ``(inputs, target)``), else the example inputs and example target."""
    if make_batch is None:
        return Batch(tuple(fallback), fallback_target)
    made = make_batch(step)
    if isinstance(made, torch.Tensor):
        return Batch((made,))
    first = made[0]
    inputs = (first,) if isinstance(first, torch.Tensor) else tuple(first)
    target = made[1] if len(made) > 1 and isinstance(made[1], torch.Tensor) else None
    return Batch(inputs, target)
