"""What a training step is asked to do and what it did, as plain data without torch.

The window builds its Training dock from these names and settings before torch is
imported (it loads in the background); :mod:`graphviz_app.core.training.trainer` and
:mod:`graphviz_app.core.training.losses` map the names to torch's optimizers and losses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphviz_app.core.graph.records import TensorInfo

#: The optimizers a step can use (``trainer.OPTIMIZERS`` maps them to torch.optim).
OPTIMIZER_NAMES = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
#: The optimizers that take a ``momentum`` argument (Nesterov: SGD only).
WITH_MOMENTUM = ("SGD", "RMSprop")
MODEL_LOSS = "model"
#: The standard losses by the name shown in the UI (``losses.STANDARD_LOSSES``).
STANDARD_LOSS_NAMES = ("CrossEntropy", "MSE", "NLL", "BCEWithLogits")
LOSS_NAMES: tuple[str, ...] = (MODEL_LOSS, *STANDARD_LOSS_NAMES)


class TrainingError(RuntimeError):
    """A training setting cannot work with this model; the message says why."""

    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary


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
        if self.optimizer not in OPTIMIZER_NAMES:
            raise TrainingError(
                f"Unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZER_NAMES)}."
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
