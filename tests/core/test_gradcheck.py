"""Finite-difference checks: torch.autograd.gradcheck is the oracle in float64."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from torch.func import functional_call

from graphviz_app.core.cancel import Cancelled, CancelToken
from graphviz_app.core.gradcheck import (
    BOTH_PASSED,
    FLOAT64_BUG,
    WIDE_FLOAT32,
    check_gradients,
    sample_indices,
)
from graphviz_app.core.training import TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file
from graphviz_app.session import ModelSession


def _torch_gradcheck(
    model: torch.nn.Module,
    x: torch.Tensor,
    loss: Any,
    dtype: torch.dtype = torch.float64,
    **tolerance: float,
) -> bool:
    """torch's own check, over all parameters, in float64 (or ``dtype``)."""
    model = model.to(dtype).eval()
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in model.parameters())

    def objective(*values: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, dict(zip(names, values, strict=True)), (x.to(dtype),))
        return loss(out, x.to(dtype))

    with warnings.catch_warnings():  # float32 inputs: torch warns, we know
        warnings.simplefilter("ignore", UserWarning)
        return bool(torch.autograd.gradcheck(objective, params, raise_exception=False, **tolerance))


@pytest.mark.parametrize("name", ["two_layer_net", "custom_relu"])
def test_float64_passes_like_torchs_gradcheck_and_float32_shows_larger_errors(name: str) -> None:
    loaded = load_model_file(resolve_model(name))
    (x,) = loaded.inputs
    assert _torch_gradcheck(load_model_file(resolve_model(name)).model, x, loaded.loss_fn)
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn)
    f64, f32 = report.run("float64"), report.run("float32")
    assert f64.passed and f64.max_abs_err < 1e-7
    assert f32.max_abs_err > 1000 * f64.max_abs_err and not f32.passed
    assert "7 significant digits" in report.explanation
    # float32 with a step suited to it passes, here and in torch's own gradcheck.
    wide = report.run(WIDE_FLOAT32)
    assert wide.passed and wide.tolerance.eps == 1e-3 and wide.tolerance.rtol == 1e-2
    fresh = load_model_file(resolve_model(name)).model
    assert _torch_gradcheck(fresh, x, loaded.loss_fn, torch.float32, eps=1e-3, atol=1e-3, rtol=1e-2)
    assert "agrees with backward" in report.explanation


def test_small_parameters_are_checked_element_by_element() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, ["fc1.weight"])
    (weight,) = report.run("float64").params
    assert weight.numel == 128 and weight.checked == 128 and not report.sampled


def test_both_dtypes_passing_says_so() -> None:
    model = torch.nn.Linear(2, 1)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    x = torch.tensor([[1.0, 2.0]])  # a linear loss with exact values: float32 loses nothing
    assert _torch_gradcheck(torch.nn.Linear(2, 1), x, lambda out, *_: out.sum())
    report = check_gradients(model, (x,), None)
    assert report.run("float64").passed and report.run("float32").passed
    assert report.explanation == BOTH_PASSED


class _WrongRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad  # forgot to zero the negative inputs


class _WrongNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(4, 6), torch.nn.Linear(6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(_WrongRelu.apply(self.fc1(x)))


def test_a_wrong_backward_fails_in_float64_as_it_does_for_torch() -> None:
    torch.manual_seed(0)
    model, x = _WrongNet(), torch.randn(8, 4)

    def loss(out: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        return out.pow(2).mean()

    assert not _torch_gradcheck(_WrongNet().double(), x, loss)  # another init: also wrong
    report = check_gradients(model, (x,), loss)
    failing = {p.name for p in report.run("float64").params if not p.passed}
    assert "fc1.weight" in failing and "fc2.weight" not in failing  # fc2 is above the bug
    assert report.explanation == FLOAT64_BUG and "real bug" in report.explanation


def test_a_selected_parameter_is_checked_alone_and_the_model_is_untouched() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    before = {n: p.detach().clone() for n, p in loaded.model.named_parameters()}
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, ["fc2.bias"])
    assert [p.name for p in report.run("float64").params] == ["fc2.bias"]
    for name, param in loaded.model.named_parameters():
        assert torch.equal(param, before[name]) and param.grad is None
    assert loaded.model.training and param.dtype == torch.float32


def test_large_parameters_are_sampled() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, max_elements=5)
    weight = next(p for p in report.run("float64").params if p.name == "fc1.weight")
    assert report.sampled and weight.checked == 5 and weight.numel == 128
    assert sample_indices(128, 5) == sample_indices(128, 5)  # seeded: repeatable
    assert sample_indices(3, 5) == [0, 1, 2]


def test_a_cancelled_check_stops() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, cancel=token)


def test_an_unknown_parameter_is_a_clear_error() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    with pytest.raises(ValueError, match="No parameter called nope"):
        check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, ["nope"])


def test_the_session_checks_on_the_next_batch_with_the_chosen_loss() -> None:
    session = ModelSession()
    session.load(resolve_model("two_layer_net"))
    report = session.check_gradients(TrainSettings(loss="CrossEntropy"), ["fc1.bias"])
    assert report.run("float64").passed and report.run("float64").params[0].checked == 16
