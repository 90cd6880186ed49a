"""Optimizer steps on a captured model: what each step did to every parameter.

Each step is a real PyTorch step: forward (a new graph), a recorded backward, then
``optimizer.step()``. The record keeps, per parameter, the gradient's norm and the
update actually applied (value after minus value before), as plain numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "SGD": torch.optim.SGD,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop,
    "Adagrad": torch.optim.Adagrad,
}


@dataclass(frozen=True)
class TrainSettings:
    """The optimizer and its learning rate."""

    optimizer: str = "SGD"
    lr: float = 0.1
    zero_grad: bool = True  # off: gradients accumulate across steps, as in PyTorch


@dataclass(frozen=True)
class ParamUpdate:
    """One parameter in one step: gradient norm, applied update norm, and their ratio."""

    name: str
    grad_norm: float
    update_norm: float
    weight_norm: float

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


class Trainer:
    """Holds a model's optimizer and counts its steps (worker thread only)."""

    def __init__(self, model: torch.nn.Module, settings: TrainSettings) -> None:
        if settings.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer {settings.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        self.model = model
        self.settings = settings
        self.optimizer = OPTIMIZERS[settings.optimizer](model.parameters(), lr=settings.lr)
        self.steps = 0
        self.history: list[TrainRecord] = []

    def before_forward(self) -> None:
        """Clear gradients before the step's forward, unless accumulating on purpose."""
        if self.settings.zero_grad:
            self.optimizer.zero_grad(set_to_none=True)

    def apply(self, loss: torch.Tensor) -> TrainRecord:
        """``optimizer.step()`` after backward ran; returns what changed."""
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        before = {n: p.detach().clone() for n, p in named}
        self.optimizer.step()
        self.steps += 1
        record = TrainRecord(
            self.steps,
            float(loss.detach()),
            tuple(_update(name, param, before[name]) for name, param in named),
        )
        self.history.append(record)
        return record


def _update(name: str, param: torch.Tensor, before: torch.Tensor) -> ParamUpdate:
    grad = param.grad
    return ParamUpdate(
        name=name,
        grad_norm=float(grad.norm()) if grad is not None else 0.0,
        update_norm=float((param.detach() - before).norm()),
        weight_norm=float(before.norm()),
    )


def batch_inputs(
    make_batch: Callable[[int], Any] | None, step: int, fallback: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, ...]:
    """The inputs of step ``step``: the model file's ``make_batch`` (its first
    element when it returns inputs and targets), else the example inputs."""
    if make_batch is None:
        return tuple(fallback)
    batch = make_batch(step)
    if isinstance(batch, torch.Tensor):
        return (batch,)
    return (batch[0],) if isinstance(batch[0], torch.Tensor) else tuple(batch[0])
