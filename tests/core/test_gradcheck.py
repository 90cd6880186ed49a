"""Finite-difference checks: torch.autograd.gradcheck is the oracle in float64."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
import torch
from torch.func import functional_call

from graphviz_app.core.gradcheck.check import (
    UNSTABLE_ELEMENTS,
    check_gradients,
    elements_per_param,
    sample_indices,
    spread,
    tensors_within_budget,
)
from graphviz_app.core.gradcheck.results import MAX_ELEMENTS
from graphviz_app.core.gradcheck.text import BOTH_PASSED, FLOAT64_BUG, WIDE_FLOAT32
from graphviz_app.core.runtime.cancel import Cancelled, CancelToken
from graphviz_app.core.training.trainer import TrainSettings
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


def test_a_tiny_budget_checks_one_element_of_one_tensor_in_every_run_and_says_so() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, budget_s=1e-9)
    assert report.per_param == 1 and report.sampled and report.budget_s == 1e-9
    assert len(report.runs) == 3 and report.forward_s > 0
    for run in report.runs:  # the budget fits no tensor: the first is checked all the same
        assert [(p.name, p.checked) for p in run.params] == [("fc1.weight", 1)]
    assert report.sampling.startswith("1 of 4 parameter tensors")
    assert "sample of 1 element(s)" in report.sampling and "1e-09 s" in report.sampling


def test_tensors_that_fit_the_budget_are_spread_through_the_model() -> None:
    runs = ["float64", "float32", "float32"]  # 4 float32 forwards per forward
    # ResNet-18's 185 ms float32 forward: 3 x 0.74 s per run, then 2 x 0.74 s a tensor.
    assert tensors_within_budget(0.185, "float32", runs, 62, budget_s=30.0) == 18
    assert tensors_within_budget(0.001, "float32", runs, 62, budget_s=30.0) == 62
    assert tensors_within_budget(10.0, "float32", runs, 62, budget_s=30.0) == 1
    names = [f"t{i}" for i in range(62)]
    assert spread(names, 18)[0] == "t0" and spread(names, 18)[-1] == "t61"
    assert len(set(spread(names, 18))) == 18 and spread(names, 1) == ["t0"]
    assert spread(names, 80) == names


def test_a_big_budget_checks_small_parameters_fully() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, budget_s=1e9)
    assert report.per_param == MAX_ELEMENTS and not report.sampled and report.deterministic
    for run in report.runs:
        assert all(p.checked == p.numel for p in run.params)
    assert report.sampling.startswith("Every element")


def test_the_element_count_fits_two_forwards_per_element_and_run_in_the_budget() -> None:
    runs = ["float64", "float32", "float32"]  # 2 + 1 + 1 float32 forwards per forward
    # float64 forward 10 ms = 5 ms float32: 2 x 4 x 5 ms = 40 ms an element, 2 parameters,
    # after each run's own forward and backward (3 x 4 x 5 ms): (3 - 0.06) / 0.08 = 36.
    assert elements_per_param(0.010, "float64", runs, 2, budget_s=3.0) == 36
    assert elements_per_param(0.005, "float32", runs, 2, budget_s=3.0) == 36
    assert elements_per_param(0.010, "float64", runs, 2, budget_s=30.0) == MAX_ELEMENTS
    assert elements_per_param(10.0, "float64", runs, 50, budget_s=30.0) == 1


def test_a_nan_weight_is_an_infinite_error_and_explained_as_non_finite() -> None:
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    report = check_gradients(model, (torch.randn(3, 2),), None)
    for run in report.runs:
        for check in run.params:
            assert not check.passed and check.non_finite == check.checked == check.numel
            assert check.max_abs_err == float("inf") and check.worst_index >= 0
    assert report.explanation.startswith("NON-FINITE: the loss is nan")
    assert "real bug" not in report.explanation and "Reset the weights" in report.explanation


class _Sqrt(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(self.w) * x  # finite loss, infinite slope at w = 0


def test_an_infinite_slope_under_a_finite_loss_is_non_finite_too() -> None:
    x = torch.ones(2)
    oracle = _Sqrt()
    (grad,) = torch.autograd.grad(oracle(x).sum(), [oracle.w])
    assert torch.isinf(grad).all()  # torch's own backward: inf, not a number to compare
    report = check_gradients(_Sqrt(), (x,), None)
    assert report.losses == (0.0,) * len(report.losses) and report.deterministic
    assert report.run("float64").params[0].non_finite == 2
    assert report.explanation.startswith("NON-FINITE: 6 checked element(s)")
    assert "2 in float64" in report.explanation and "sqrt" in report.explanation


def test_a_random_depth_forward_is_reported_as_not_deterministic() -> None:
    loaded = load_model_file(resolve_model("dynamic_net"))
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn)
    assert not report.deterministic and len(set(report.losses)) > 1
    assert report.per_param == UNSTABLE_ELEMENTS  # no budget spent on meaningless checks
    assert report.explanation.startswith("Your forward is not deterministic")
    a, b = sorted(set(report.losses))[:2]
    assert f"{a:.17g}" in report.explanation and f"{b:.17g}" in report.explanation
    assert "real bug" not in report.explanation


class _Noisy(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x + 0.1 * torch.rand_like(x))  # eval mode does not stop this


def test_torch_rand_in_forward_is_not_deterministic_and_a_plain_net_is() -> None:
    x = torch.randn(4, 2)
    assert not check_gradients(_Noisy(), (x,), None).deterministic
    loaded = load_model_file(resolve_model("two_layer_net"))
    report = check_gradients(loaded.model, loaded.inputs, loaded.loss_fn, budget_s=1e-9)
    assert report.deterministic and len(set(report.losses)) == 1


def test_progress_counts_every_checked_element_of_every_run() -> None:
    loaded = load_model_file(resolve_model("two_layer_net"))
    calls: list[tuple[int, int]] = []
    report = check_gradients(
        loaded.model,
        loaded.inputs,
        loaded.loss_fn,
        budget_s=1e-9,
        on_progress=lambda *c: calls.append(c),
    )
    total = sum(p.checked for run in report.runs for p in run.params)
    assert total == 3 and calls[0] == (0, total) and calls[-1] == (total, total)  # 1 tensor
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


class _Partly(torch.nn.Module):
    """fc1 is cut off by detach(), spare is never used: neither gets a gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.spare = (torch.nn.Linear(2, 2) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc1(x).detach())


def test_a_cut_graph_and_an_unused_layer_are_told_apart_from_a_wrong_backward() -> None:
    torch.manual_seed(0)
    report = check_gradients(_Partly(), (torch.randn(3, 2),), None, wide_float32=False)
    f64 = {p.name: p for p in report.run("float64").params}
    assert not f64["fc1.weight"].has_grad and not f64["fc1.weight"].passed
    assert not f64["spare.weight"].has_grad and f64["spare.weight"].passed
    assert f64["fc2.weight"].has_grad and f64["fc2.weight"].passed
    assert report.explanation.startswith("float64 fails for fc1.weight, fc1.bias")
    assert ".detach()" in report.explanation and "real bug" not in report.explanation
    assert "No gradient reaches spare.weight, spare.bias" in report.explanation


def test_frozen_or_missing_parameters_are_a_clear_error() -> None:
    model = torch.nn.Linear(2, 1)
    model.bias.requires_grad_(False)
    with pytest.raises(ValueError, match="bias: frozen"):
        check_gradients(model, (torch.randn(3, 2),), None, ["bias"])
    model.weight.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        check_gradients(model, (torch.randn(3, 2),), None)


def test_the_session_reports_progress() -> None:
    session = ModelSession()
    session.load(resolve_model("two_layer_net"))
    calls: list[tuple[int, int]] = []
    session.check_gradients(TrainSettings(), ["fc2.bias"], on_progress=lambda *c: calls.append(c))
    assert calls[0] == (0, 12) and calls[-1] == (12, 12)  # 4 elements x 3 runs


def test_a_loss_that_only_runs_in_float32_is_a_clear_error() -> None:
    def loss(out: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        return (out - torch.tensor([0.5])).square().mv(torch.ones(1))  # float32 tensors

    model, x = torch.nn.Linear(2, 1), torch.randn(3, 2)
    with pytest.raises(RuntimeError):  # torch itself refuses float64 x float32 here
        loss(model.double()(x.double()))
    with pytest.raises(ValueError, match=r"copy of your model in float64, and it failed: "):
        check_gradients(torch.nn.Linear(2, 1), (x,), loss)
    with pytest.raises(ValueError, match=r"dtype=x\.dtype"):
        check_gradients(torch.nn.Linear(2, 1), (x,), loss)


def test_the_session_checks_the_loss_chosen_in_the_dock_not_the_last_steps() -> None:
    session = ModelSession()
    session.load(resolve_model("two_layer_net"))
    own = session.check_gradients(TrainSettings(), ["fc2.bias"])
    mse = session.check_gradients(TrainSettings(loss="MSE"), ["fc2.bias"])
    loaded = session.loaded
    assert loaded is not None and loaded.make_batch is not None
    x, y = loaded.make_batch(0)
    model64 = copy.deepcopy(loaded.model).double().eval()
    with torch.no_grad():
        output = model64(x.double())
        expected = torch.nn.functional.mse_loss(output, torch.nn.functional.one_hot(y, 4).double())
    assert mse.losses[0] == pytest.approx(float(expected), rel=1e-12)
    assert own.losses[0] != pytest.approx(mse.losses[0])
