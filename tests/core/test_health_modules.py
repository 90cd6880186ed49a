"""Module gradient norms (against each parameter's .grad), vanishing and exploding
flags with adjustable thresholds, dead ReLUs, healthy built-ins, and the JSON schema."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.health.assemble import ONE_SAMPLE_NOTE
from graphviz_app.core.health.check import HealthError, diagnose
from graphviz_app.core.health.report import EXPLODING, GROWING, VANISHING, HealthReport
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


def test_an_absolute_norm_limit_flags_exploding_and_can_be_raised() -> None:
    model = nn.Linear(8, 1)
    with torch.no_grad():
        model.weight.fill_(1e3)
    assert EXPLODING in check(model, X).modules[0].flags
    assert check(model, X, HealthSettings(exploding_norm=1e12)).healthy


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
    assert data["schema"] == "graphviz-app/check/1" and data["healthy"] == (not data["problems"])
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
