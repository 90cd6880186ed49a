"""Optimizer steps: the update applied is torch's own, and the loss goes down."""

from __future__ import annotations

import copy

import pytest
import torch

from graphviz_app.core.style import GraphStyle
from graphviz_app.core.training import Trainer, TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file
from graphviz_app.session import ModelSession


def test_an_sgd_step_applies_minus_lr_times_grad() -> None:
    session = ModelSession()
    session.load(resolve_model("two_layer_net"))
    assert session.loaded is not None
    before = copy.deepcopy(session.loaded.model)
    _, backward, record = session.train_step(TrainSettings("SGD", lr=0.5), GraphStyle())
    # The oracle: the same step by hand on a copy, with torch's own backward.
    x, _ = session.loaded.make_batch(0)  # type: ignore[misc]
    session.loaded.loss_fn(before(x), x).backward()  # type: ignore[misc]
    for (name, param), (_, old) in zip(
        session.loaded.model.named_parameters(), before.named_parameters(), strict=True
    ):
        assert old.grad is not None
        expected = old.detach() - 0.5 * old.grad
        assert torch.allclose(param.detach(), expected, atol=1e-6), name
        update = next(u for u in record.params if u.name == name)
        assert update.grad_norm == pytest.approx(float(old.grad.norm()), rel=1e-5)
        assert update.update_norm == pytest.approx(0.5 * float(old.grad.norm()), rel=1e-4)
    assert len(backward.trace.steps) == len(session.run.walk.fns)  # type: ignore[union-attr]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_the_loss_goes_down_over_steps_on_a_fixed_batch(optimizer: str) -> None:
    loaded = load_model_file(resolve_model("residual_cnn"))  # no make_batch: one fixed batch
    session = ModelSession()
    session.loaded = loaded
    settings = TrainSettings(optimizer, lr=0.05 if optimizer == "SGD" else 0.01)
    losses = [session.train_step(settings, GraphStyle())[2].loss for _ in range(6)]
    assert losses[-1] < losses[0]


def test_without_zero_grad_gradients_accumulate() -> None:
    model = torch.nn.Linear(2, 1)
    trainer = Trainer(model, TrainSettings("SGD", lr=0.0, zero_grad=False))
    x = torch.ones(1, 2)
    for _ in range(2):
        trainer.before_forward()
        loss = model(x).sum()
        loss.backward()
        record = trainer.apply(loss)
    weight = next(u for u in record.params if u.name == "weight")
    assert weight.grad_norm == pytest.approx(2 * float(torch.ones(1, 2).norm()))


def test_an_unknown_optimizer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="choose one of SGD"):
        Trainer(torch.nn.Linear(1, 1), TrainSettings("Magic"))
