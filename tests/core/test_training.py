"""Optimizer steps: the update applied is torch's own, and the loss goes down."""

from __future__ import annotations

import copy

import pytest
import torch

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.losses import TrainingError
from graphviz_app.core.training.trainer import Trainer, TrainSettings, settings_change
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file
from graphviz_app.session import ModelSession

MLP_SETTINGS = [
    TrainSettings("SGD", lr=0.5),
    TrainSettings("SGD", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    TrainSettings("Adam", lr=0.01),
    TrainSettings("AdamW", lr=0.01, weight_decay=0.1),
    TrainSettings("RMSprop", lr=0.01, momentum=0.5),
    TrainSettings("Adagrad", lr=0.1),
]


def _open(name: str = "two_layer_net") -> ModelSession:
    session = ModelSession()
    session.load(resolve_model(name))
    return session


@pytest.mark.parametrize("settings", MLP_SETTINGS, ids=lambda s: s.describe())
def test_three_steps_equal_torchs_optimizer_on_a_deep_copy(settings: TrainSettings) -> None:
    session = _open()
    loaded = session.loaded
    assert loaded is not None and loaded.make_batch and loaded.loss_fn
    twin = copy.deepcopy(loaded.model)
    optimizer = getattr(torch.optim, settings.optimizer)(
        twin.parameters(), **settings.optimizer_kwargs()
    )
    for step in range(3):
        record = session.train_one(settings, GraphStyle()).record
        optimizer.zero_grad()
        x, _ = loaded.make_batch(step)
        loss = loaded.loss_fn(twin(x), x)
        loss.backward()
        optimizer.step()
        assert record.loss == float(loss.detach())
    for (name, param), (_, expected) in zip(
        loaded.model.named_parameters(), twin.named_parameters(), strict=True
    ):
        assert torch.equal(param, expected), name  # exact: the same torch step


def test_the_record_holds_the_applied_update_and_values_before_and_after() -> None:
    session = _open()
    assert session.loaded is not None
    before = {n: p.detach().clone() for n, p in session.loaded.model.named_parameters()}
    record = session.train_one(TrainSettings("SGD", lr=0.5), GraphStyle()).record
    bias = record.param("fc2.bias")
    assert bias is not None and bias.before and bias.after and bias.update and bias.grad
    param = dict(session.loaded.model.named_parameters())["fc2.bias"]
    assert bias.before.preview == pytest.approx(before["fc2.bias"].tolist())
    assert bias.after.preview == pytest.approx(param.detach().tolist())
    expected = (-0.5 * param.grad).tolist()  # type: ignore[operator]
    assert bias.update.preview == pytest.approx(expected, abs=1e-6)
    assert bias.update_norm == pytest.approx(0.5 * float(param.grad.norm()), rel=1e-5)  # type: ignore[union-attr]
    big = record.param("fc1.weight")
    assert big is not None and big.update is not None and big.update.preview_truncated


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_loss_falls_on_the_builtin_mlp_over_50_steps(optimizer: str) -> None:
    session = _open()  # a fresh batch per step (make_batch), scored against its target
    settings = TrainSettings(optimizer, lr=0.5 if optimizer == "SGD" else 0.02, loss="CrossEntropy")
    result = session.train(settings, GraphStyle(), 50)
    losses = [r.loss for r in result.records]
    assert len(losses) == 50 and not result.stopped
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_the_loss_goes_down_over_steps_on_a_fixed_batch(optimizer: str) -> None:
    loaded = load_model_file(resolve_model("residual_cnn"))  # no make_batch: one fixed batch
    session = ModelSession()
    session.loaded = loaded
    settings = TrainSettings(optimizer, lr=0.05 if optimizer == "SGD" else 0.01)
    losses = [session.train_one(settings, GraphStyle()).record.loss for _ in range(6)]
    assert losses[-1] < losses[0]


def test_two_steps_without_zero_grad_leave_the_sum_of_both_gradients() -> None:
    session = _open()
    loaded = session.loaded
    assert loaded is not None and loaded.make_batch and loaded.loss_fn
    twin = copy.deepcopy(loaded.model)
    settings = TrainSettings("SGD", lr=1e-9, zero_grad=False)  # tiny: both grads ~same w
    for _ in range(2):
        session.train_one(settings, GraphStyle())
    expected = {}
    for step in range(2):
        x, _ = loaded.make_batch(step)
        grads = torch.autograd.grad(loaded.loss_fn(twin(x), x), list(twin.parameters()))
        for (name, _), g in zip(twin.named_parameters(), grads, strict=True):
            expected[name] = expected.get(name, 0) + g
    for name, param in loaded.model.named_parameters():
        assert torch.allclose(param.grad, expected[name], atol=1e-6), name  # type: ignore[arg-type]


def test_without_zero_grad_gradients_accumulate_in_the_trainer() -> None:
    model = torch.nn.Linear(2, 1)
    trainer = Trainer(model, TrainSettings("SGD", lr=1e-3, zero_grad=False))
    x = torch.ones(1, 2)
    for _ in range(2):
        trainer.before_forward()
        loss = model(x).sum()
        loss.backward()
        record = trainer.apply(loss)
    weight = record.param("weight")
    assert weight is not None
    assert weight.grad_norm == pytest.approx(2 * float(torch.ones(1, 2).norm()))


def test_reset_puts_back_the_weights_of_load_time() -> None:
    session = _open()
    assert session.loaded is not None
    initial = {n: p.detach().clone() for n, p in session.loaded.model.named_parameters()}
    session.train(TrainSettings("Adam", lr=0.1), GraphStyle(), 3)
    session.reset_weights(GraphStyle())
    for name, param in session.loaded.model.named_parameters():
        assert torch.equal(param, initial[name]) and param.grad is None
    assert session.training.trainer.steps == 0 and not session.training.trainer.history


def test_new_hyperparameters_keep_the_optimizer_state_and_a_new_optimizer_says_so() -> None:
    session = _open()
    session.train_one(TrainSettings("SGD", lr=0.1, momentum=0.9), GraphStyle())
    buffers = dict(session.training.trainer.optimizer.state)
    same = session.train_one(TrainSettings("SGD", lr=0.05, momentum=0.9), GraphStyle())
    assert same.note == "" and session.training.trainer.optimizer.state.keys() == buffers.keys()
    assert session.training.trainer.optimizer.param_groups[0]["lr"] == 0.05
    other = session.train_one(TrainSettings("Adam", lr=0.01), GraphStyle())
    assert "New Adam optimizer" in other.note


def test_a_chosen_loss_uses_the_batch_target() -> None:
    session = _open()
    loaded = session.loaded
    assert loaded is not None and loaded.make_batch
    step = session.train_one(TrainSettings("SGD", lr=0.1, loss="MSE"), GraphStyle())
    x, target = loaded.make_batch(0)
    model = load_model_file(resolve_model("two_layer_net")).model
    one_hot = torch.nn.functional.one_hot(target, 4).float()
    expected = torch.nn.functional.mse_loss(model(x), one_hot).detach()
    assert step.record.loss == pytest.approx(float(expected))


def test_a_chosen_loss_without_a_target_is_a_clear_error() -> None:
    session = _open("custom_relu")  # neither make_batch nor example_target
    with pytest.raises(TrainingError, match="needs a target"):
        session.train_one(TrainSettings(loss="CrossEntropy"), GraphStyle())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (TrainSettings("Magic"), "choose one of SGD"),
        (TrainSettings("Adam", nesterov=True, momentum=0.9), "Nesterov"),
        (TrainSettings("SGD", lr=0.0), "learning rate"),
    ],
)
def test_impossible_settings_are_clear_errors(settings: TrainSettings, message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        Trainer(torch.nn.Linear(1, 1), settings)


def test_eval_mode_turns_dropout_off_in_the_step() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5))
    trainer = Trainer(model, TrainSettings(train_mode=False))
    trainer.before_forward()
    x = torch.ones(2, 4)
    assert not model.training and torch.equal(model(x), model(x))


def test_step_one_trains_on_make_batch_zero_and_its_record_says_so() -> None:
    session = _open()
    loaded = session.loaded
    assert loaded is not None and loaded.make_batch is not None
    style = GraphStyle()
    first = session.train_one(TrainSettings(), style).record
    second = session.train_one(TrainSettings(), style).record
    assert (first.step, first.batch) == (1, "make_batch(0)")
    assert (second.step, second.batch) == (2, "make_batch(1)")
    # The batch named is the one trained on: step 1's loss is make_batch(0)'s at load.
    fresh = load_model_file(resolve_model("two_layer_net"))
    x, _ = loaded.make_batch(0)
    assert fresh.loss_fn is not None
    expected = float(fresh.loss_fn(fresh.model.train()(x), x).detach())
    assert first.loss == pytest.approx(expected, rel=1e-6)


def test_a_model_without_make_batch_trains_on_its_example_input() -> None:
    session = _open("custom_relu")
    assert session.loaded is not None and session.loaded.make_batch is None
    record = session.train_one(TrainSettings(), GraphStyle()).record
    assert (record.step, record.batch) == (1, "the example input")


def test_a_settings_change_is_named_for_the_loss_plot() -> None:
    base = TrainSettings()
    assert settings_change(base, base) == ""
    changed = TrainSettings("Adam", lr=0.01, zero_grad=False, train_mode=False)
    assert settings_change(base, changed) == "Adam; lr 0.1 -> 0.01; zero_grad off; eval()"
    assert settings_change(changed, base) == "SGD; lr 0.01 -> 0.1; zero_grad on; train()"
    momentum = TrainSettings(momentum=0.9, nesterov=True, weight_decay=0.01, loss="MSE")
    assert settings_change(base, momentum) == (
        "momentum 0 -> 0.9; weight decay 0 -> 0.01; Nesterov on; loss MSE"
    )
