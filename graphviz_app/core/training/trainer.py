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
from graphviz_app.core.training.losses import LOSS_NAMES, MODEL_LOSS, TrainingError

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "SGD": torch.optim.SGD,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop,
    "Adagrad": torch.optim.Adagrad,
}
#: The optimizers that take a ``momentum`` argument (Nesterov: SGD only).
WITH_MOMENTUM = ("SGD", "RMSprop")
UPDATE_PREVIEW = 16  # values kept per tensor in a step's record


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training step."""

    optimizer: str = "SGD"
    lr: float = 0.1
    zero_grad: bool = True  # off: gradients accumulate across steps, as in PyTorch
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    loss: str = MODEL_LOSS  # the model file's loss_fn, or a standard loss by name
    train_mode: bool = True  # model.train() or model.eval() before each forward

    def check(self) -> None:
        """Raise :class:`TrainingError` for settings torch would refuse."""
        if self.optimizer not in OPTIMIZERS:
            raise TrainingError(
                f"Unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        if self.loss not in LOSS_NAMES:
            raise TrainingError(f"Unknown loss {self.loss!r}; choose one of {LOSS_NAMES}.")
        if not self.lr > 0 or self.weight_decay < 0 or self.momentum < 0:
            raise TrainingError("The learning rate must be > 0; momentum and decay >= 0.")
        if self.nesterov and (self.optimizer != "SGD" or self.momentum <= 0):
            raise TrainingError("Nesterov momentum needs SGD with a momentum above 0.")

    def optimizer_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of this optimizer's constructor."""
        kwargs: dict[str, Any] = {"lr": self.lr, "weight_decay": self.weight_decay}
        if self.optimizer in WITH_MOMENTUM:
            kwargs["momentum"] = self.momentum
        if self.optimizer == "SGD":
            kwargs["nesterov"] = self.nesterov
        return kwargs

    def describe(self) -> str:
        """A short line such as ``SGD, lr 0.1, momentum 0.9 (Nesterov)``."""
        text = f"{self.optimizer}, lr {self.lr:g}"
        if self.optimizer in WITH_MOMENTUM and self.momentum:
            text += f", momentum {self.momentum:g}" + (" (Nesterov)" if self.nesterov else "")
        if self.weight_decay:
            text += f", weight decay {self.weight_decay:g}"
        return text


def settings_change(before: TrainSettings, after: TrainSettings) -> str:
    """What changed between two steps' settings, shortest first: ``"lr 0.1 -> 1"``,
    ``"Adam"``, ``"zero_grad off"``, ``"eval()"``, joined by ``"; "`` ("" when none)."""
    changes = []
    if after.optimizer != before.optimizer:
        changes.append(after.optimizer)
    if after.lr != before.lr:
        changes.append(f"lr {before.lr:g} -> {after.lr:g}")
    for name in ("momentum", "weight_decay"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(f"{name.replace('_', ' ')} {old:g} -> {new:g}")
    if after.nesterov != before.nesterov:
        changes.append("Nesterov " + ("on" if after.nesterov else "off"))
    if after.zero_grad != before.zero_grad:
        changes.append("zero_grad " + ("on" if after.zero_grad else "off"))
    if after.train_mode != before.train_mode:
        changes.append("train()" if after.train_mode else "eval()")
    if after.loss != before.loss:
        changes.append(f"loss {after.loss}")
    return "; ".join(changes)


def make_optimizer(
    params: Iterator[torch.nn.Parameter] | Sequence[torch.Tensor], settings: TrainSettings
) -> torch.optim.Optimizer:
    """The optimizer ``settings`` names, over ``params``."""
    settings.check()
    return OPTIMIZERS[settings.optimizer](params, **settings.optimizer_kwargs())


@dataclass(frozen=True)
class ParamUpdate:
    """One parameter in one step: its gradient, value before/after and the update."""

    name: str
    grad_norm: float
    update_norm: float
    weight_norm: float
    before: TensorInfo | None = None
    after: TensorInfo | None = None
    update: TensorInfo | None = None  # after - before: what the optimizer really applied
    grad: TensorInfo | None = None

    @property
    def update_ratio(self) -> float:
        """|update| / |weight|: how big a step was, relative to the weight."""
        return self.update_norm / self.weight_norm if self.weight_norm else float("inf")


@dataclass(frozen=True)
class TrainRecord:
    """One optimizer step."""

    step: int
    loss: float
    params: tuple[ParamUpdate, ...]
    settings: TrainSettings = TrainSettings()
    batch: str = ""  # what the step trained on: "make_batch(0)" for step 1, or the example

    def param(self, name: str) -> ParamUpdate | None:
        """The update of parameter ``name`` (None if it has none)."""
        return next((p for p in self.params if p.name == name), None)


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
