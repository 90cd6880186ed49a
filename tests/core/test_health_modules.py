"""Module gradient norms (against each parameter's .grad), vanishing and exploding
flags with adjustable thresholds, dead ReLUs, healthy built-ins, and the JSON schema."""

from __future__ import annotations

import functools
import json
import math

import jsonschema
import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.health.assemble import ONE_SAMPLE_NOTE
from graphviz_app.core.health.check import HealthError, diagnose
from graphviz_app.core.health.report import (
    EXPLODING,
    GROWING,
    LOSS,
    MEAN,
    VANISHING,
    HealthReport,
)
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.core.health.text import report_json, report_schema, report_text
from graphviz_app.io.builtin import list_builtin_models
from graphviz_app.io.model_file import load_model_file

#: Built-ins whose gradients go wrong on purpose (their lessons are about it).
BROKEN_ON_PURPOSE = {"no_grad_detach", "nan_in_backward", "detached_branch"}


def check(
    model: nn.Module, x: torch.Tensor, settings: HealthSettings | None = None
) -> HealthReport:
    run = forward_and_capture(model, (x,), lambda out, x: out.pow(2).mean())
    return diagnose(run, model, "model", settings).report


def chain(depth: int, gain: float, activation: type[nn.Module] = nn.Identity) -> nn.Sequential:
    """``depth`` square linear layers whose weights are ``gain`` times orthogonal."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        linear = nn.Linear(8, 8, bias=False)
        nn.init.orthogonal_(linear.weight, gain=gain)
        layers += [linear, activation()]
    return nn.Sequential(*layers)


X = torch.randn(16, 8, generator=torch.Generator().manual_seed(2))


def test_module_norms_are_the_norms_of_their_parameters_grads() -> None:
    model = nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 1))
    report = check(model, X)
    twin = nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 1))
    twin.load_state_dict(model.state_dict())
    twin(X).pow(2).mean().backward()
    for module in report.modules:
        grads = [twin.get_parameter(name).grad for name in module.params]
        expected = math.sqrt(sum(float(g.pow(2).sum()) for g in grads))  # type: ignore[union-attr]
        assert module.grad_norm == pytest.approx(expected, rel=1e-5)
    assert [m.module for m in report.modules] == ["0", "2"]  # forward order


def test_a_deep_sigmoid_stack_vanishes_towards_the_input() -> None:
    report = check(chain(12, 1.0, nn.Sigmoid), X)
    flagged = [m.module for m in report.modules if VANISHING in m.flags]
    assert flagged and flagged[0] == "0"  # the layer farthest from the loss
    assert "vanishing" in report_text(report)
    relaxed = check(chain(12, 1.0, nn.Sigmoid), X, HealthSettings(vanishing_ratio=1e-12))
    assert not any(VANISHING in m.flags for m in relaxed.modules)


def test_norms_that_grow_layer_by_layer_are_flagged_before_they_are_huge() -> None:
    report = check(chain(6, 5.0), X)
    assert all(m.grad_norm < 1e12 for m in report.modules)
    growing = [m.module for m in report.modules if GROWING in m.flags]
    assert growing, report_text(report)
    stricter = HealthSettings(growth_factor=50.0)
    assert not any(GROWING in m.flags for m in check(chain(6, 5.0), X, stricter).modules)


class Standardize(nn.Module):
    """``(x - mean) / std`` over the batch, without an epsilon."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - x.mean(0)) / x.std(0)


def test_a_gradient_far_above_the_loss_is_exploding_and_the_limit_can_be_raised() -> None:
    """A feature that barely varies, divided by its std: the loss stays near 0.4 while
    the gradient of the weights that make it is 1e4 (one SGD step flings them)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), Standardize(), nn.Linear(8, 1))
    with torch.no_grad():
        model[0].weight[0] *= 1e-6
    report = check(model, X)
    assert report.seed is not None and report.seed.kind == LOSS and report.seed.scale == 1
    assert [m.module for m in report.modules if m.flags] == ["0"]  # not "2 vanishing" beside it
    assert report.modules[0].flags == (EXPLODING,) and report.modules[0].grad_rms > 1e4
    raised = check(model, X, HealthSettings(exploding_ratio=1e6))
    assert not any(EXPLODING in m.flags for m in raised.modules)


def test_a_sum_loss_is_judged_as_its_mean() -> None:
    """PyTorch's polynomial tutorial: a cubic fitted to sin(x) at 2,000 points with
    MSELoss(reduction="sum") trains with lr=1e-6 on gradients of 1e4 and more (an
    absolute limit of 1000 called it exploding); its mean-loss twin's are 2,000 times
    smaller. Both are healthy, with the same verdict."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    powers = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
    reports = {}
    for reduction in ("sum", "mean"):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
        loss = functools.partial(_sin_loss, target=torch.sin(x), reduction=reduction)
        run = forward_and_capture(model, (powers,), loss)
        reports[reduction] = diagnose(run, model, reduction).report
    total, mean = reports["sum"], reports["mean"]
    assert total.modules[0].grad_norm > 1e4 and total.healthy, report_text(total)
    assert mean.healthy and total.modules[0].grad_rms == pytest.approx(
        2000 * mean.modules[0].grad_rms, rel=1e-4
    )
    assert total.seed is not None and mean.seed is not None
    assert total.seed.value == pytest.approx(2000 * mean.seed.value, rel=1e-5)


def _sin_loss(
    out: torch.Tensor, x: torch.Tensor, target: torch.Tensor, reduction: str
) -> torch.Tensor:
    return nn.functional.mse_loss(out, target, reduction=reduction)


class LanguageHead(nn.Module):
    """Tokens to logits over a large vocabulary, and no loss (as nanoGPT without
    targets): 64 tokens x 20,000 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(20_000, 32)
        self.head = nn.Linear(32, 20_000)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.embed(idx)))


def test_a_model_without_a_loss_is_checked_as_output_mean_backward() -> None:
    """Seeding each of 1.3 million logits with one summed them: the head's gradient was
    1.3 million times that of their mean, and the model was called exploding."""
    torch.manual_seed(0)
    model, idx = LanguageHead(), torch.randint(0, 20_000, (2, 32))
    run = forward_and_capture(model, (idx,), None)
    report = diagnose(run, model, "head").report
    assert report.healthy, report_text(report)
    twin = LanguageHead()
    twin.load_state_dict(model.state_dict())
    out = twin(idx)
    out.mean().backward()  # the oracle: torch's own gradients of the outputs' mean
    for module in report.modules:
        grads = [twin.get_parameter(n).grad for n in module.params]
        expected = math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads))  # type: ignore[union-attr]
        assert module.grad_norm == pytest.approx(expected, rel=1e-5)
    assert report.seed is not None and report.seed.kind == MEAN
    assert report.seed.value == pytest.approx(float(out.detach().mean()), rel=1e-5, abs=1e-9)
    assert "output.mean()" in report_text(report) and "(2, 32, 20000)" in report.seed.text


def test_a_deep_chain_initialised_too_large_is_still_flagged() -> None:
    """12 linear layers at std 0.5 (gain ~4 each): gradients of 1e12 with a loss of
    1e14. Next to its loss no module is extreme; the growth layer by layer is."""
    torch.manual_seed(0)
    layers = [nn.Linear(64, 64) for _ in range(12)]
    for layer in layers:
        nn.init.normal_(layer.weight, std=0.5)
    report = check(nn.Sequential(*layers), torch.randn(32, 64))
    assert not report.healthy
    assert sum(GROWING in m.flags for m in report.modules) >= 6, report_text(report)


def test_a_dead_relu_is_flagged_and_a_lively_one_is_not() -> None:
    dead = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    with torch.no_grad():
        dead[0].bias[:12] = -100.0  # 12 of 16 units never fire
    (relu,) = check(dead, X).activations
    assert (relu.units, relu.dead_units, relu.batch, relu.dead) == (16, 12, 16, True)
    assert relu.module == "1" and relu.dead_fraction == 0.75
    lively = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    assert not check(lively, X).activations[0].dead


def test_one_sample_is_not_judged_dead() -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    report = check(model, X[:1])
    assert not report.activations[0].dead and report.notes == (ONE_SAMPLE_NOTE,)


@pytest.mark.parametrize(
    "name", sorted(e.name for e in list_builtin_models() if e.name not in BROKEN_ON_PURPOSE)
)
def test_a_healthy_built_in_model_reports_nothing(name: str) -> None:
    loaded = load_model_file(next(e.path for e in list_builtin_models() if e.name == name))
    run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    report = diagnose(run, loaded.model, name).report
    assert report.problems() == ()
    assert report.healthy


def test_thresholds_refuse_nonsense() -> None:
    for bad in ({"vanishing_ratio": 0.0}, {"dead_fraction": 1.5}, {"growth_factor": 1.0}):
        with pytest.raises(ValueError):
            HealthSettings(**bad)  # type: ignore[arg-type]


def test_the_json_report_follows_its_schema_and_the_schema_bites() -> None:
    dead = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    data = json.loads(report_json(check(dead, X)))
    schema = report_schema()
    jsonschema.validate(data, schema)
    assert data["schema"] == "graphviz-app/check/2" and data["healthy"] == (not data["problems"])
    broken = dict(data, parameters=[{"name": "w", "reason": "lost"}])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_nan_norms_are_strict_json() -> None:
    model = nn.Linear(8, 1)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    text = report_json(check(model, X))
    data = json.loads(text)
    assert data["modules"][0]["grad_norm"] == "NaN"
    assert data["forward_origin"]["step"] is None  # the forward made it: no backward step
    jsonschema.validate(data, report_schema())


def test_a_structure_only_model_cannot_be_checked() -> None:
    with torch.device("meta"):
        model = nn.Linear(8, 1)
        x = torch.randn(2, 8)
    run = forward_and_capture(model, (x,), lambda out, x: out.sum())
    with pytest.raises(HealthError, match="structure-only"):
        diagnose(run, model, "meta")
