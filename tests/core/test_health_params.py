"""Parameters without gradient: the report lists exactly those whose ``.grad`` is None
after a plain ``loss.backward()`` (torch is the oracle), each with the reason found on
the graph; zero gradients name the node that zeroed them; ``.grad`` is left as it was."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.cuts import NO_GRAD, CutPoint
from graphviz_app.core.autograd.forward import LossFn, forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph, SourceLocation
from graphviz_app.core.health.check import diagnose
from graphviz_app.core.health.parameters import (
    MAYBE_INTENDED,
    TENSOR_CUTS,
    ForwardFacts,
    ParamState,
    parameter_findings,
)
from graphviz_app.core.health.report import (
    CUT,
    FROZEN,
    MODULE_NOT_RUN,
    NO_GRADIENT,
    UNUSED,
    UNUSED_OUTPUT,
    ZERO,
    HealthReport,
)
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file

# float(parameter) is one of the cuts tested; torch warns about it, rightly.
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


def check(model: nn.Module, x: torch.Tensor, loss: LossFn | None = None) -> HealthReport:
    run = forward_and_capture(model, (x,), loss or (lambda out, x: out.sum()))
    return diagnose(run, model, type(model).__name__).report


def none_after_plain_backward(model: nn.Module, x: torch.Tensor, loss: LossFn | None) -> set[str]:
    twin = copy.deepcopy(model)
    out = twin(x)
    (loss or (lambda out, x: out.sum()))(out, x).backward()
    return {name for name, p in twin.named_parameters() if p.grad is None}


class Branches(nn.Module):
    """One branch per way of cutting a parameter off, and one that works."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Linear(3, 2)
        self.under_no_grad = nn.Linear(3, 2)
        self.detached = nn.Linear(3, 2)
        self.via_data = nn.Linear(3, 2)
        self.never_called = nn.Linear(3, 2)
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.frozen = nn.Linear(3, 2).requires_grad_(False)
        self.idle = nn.Parameter(torch.ones(2))  # the model's own: never used

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            a = self.under_no_grad(x)
        b = self.detached(x).detach()
        c = self.via_data(x).data
        return (self.main(x) + self.frozen(x) + a + b + c) * float(self.scale)


class TwoOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Linear(3, 2)
        self.right = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.left(x), self.right(x)


class NoneForInput(torch.autograd.Function):
    @staticmethod
    def forward(ctx: object, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * 2 + b

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * 2, None  # b gets no gradient


class CustomNone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.ones(2))
        self.b = nn.Parameter(torch.ones(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return NoneForInput.apply(self.a * x, self.b)


X = torch.randn(4, 3, generator=torch.Generator().manual_seed(3))


def _first_output(out: tuple[torch.Tensor, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return out[0].sum()


@pytest.mark.parametrize(
    ("model", "x", "loss"),
    [
        (Branches(), X, None),
        (TwoOutputs(), X, _first_output),
        (CustomNone(), torch.ones(2), None),
        (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)), X, None),
    ],
    ids=["branches", "two-outputs", "custom-function", "healthy"],
)
def test_cut_off_parameters_are_those_whose_grad_is_none_after_a_plain_backward(
    model: nn.Module, x: torch.Tensor, loss: LossFn | None
) -> None:
    expected = none_after_plain_backward(model, x, loss)
    report = check(model, x, loss)
    assert {p.name for p in report.cut_off} == expected


@pytest.mark.parametrize("name", ["no_grad_detach", "detached_branch", "two_layer_net"])
def test_built_in_models_cut_off_what_torch_cuts_off(name: str) -> None:
    loaded = load_model_file(resolve_model(name))
    expected = none_after_plain_backward(loaded.model, loaded.inputs[0], loaded.loss_fn)
    run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    report = diagnose(run, loaded.model, name).report
    assert {p.name for p in report.cut_off} == expected


def test_each_cut_off_parameter_says_what_cut_it_off() -> None:
    report = check(Branches(), X)
    found = {p.name: p for p in report.parameters}
    assert found["under_no_grad.weight"].reason == CUT
    assert "linear under torch.no_grad()" in found["under_no_grad.weight"].detail
    assert "detach()" in found["detached.bias"].detail
    assert ".data" in found["via_data.weight"].detail
    assert "float()" in found["scale"].detail and found["scale"].reason == CUT
    assert found["never_called.weight"].reason == MODULE_NOT_RUN
    assert found["idle"].reason == UNUSED
    assert found["frozen.weight"].reason == FROZEN and not found["frozen.weight"].is_problem
    source = found["detached.weight"].source
    assert source is not None and source.text == "b = self.detached(x).detach()"


def test_a_frozen_parameter_alone_is_no_problem() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    report = check(model, X)
    assert [p.reason for p in report.parameters] == [FROZEN, FROZEN]
    assert report.healthy


def test_an_output_the_loss_ignores_is_named() -> None:
    report = check(TwoOutputs(), X, _first_output)
    assert {p.name: p.reason for p in report.parameters} == {
        "right.weight": UNUSED_OUTPUT,
        "right.bias": UNUSED_OUTPUT,
    }
    assert "output 1" in report.parameters[0].detail


def test_a_custom_backward_that_returns_none_is_named() -> None:
    report = check(CustomNone(), torch.ones(2))
    (finding,) = report.parameters
    assert finding.name == "b" and finding.reason == NO_GRADIENT
    assert finding.node_id is not None and finding.at_node is not None
    assert "NoneForInputBackward" in finding.detail


def test_a_zero_gradient_names_the_relu_that_zeroed_it() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every unit of the ReLU is 0: dead
    report = check(model, X)
    zeros = {p.name: p for p in report.parameters if p.reason == ZERO}
    assert set(zeros) == {"0.weight", "0.bias", "2.weight"}
    assert "ReluBackward0" in zeros["0.weight"].detail
    twin_grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is None for g in twin_grads.values())  # the check left .grad alone


def test_the_check_leaves_grad_as_it_was() -> None:
    model = nn.Linear(3, 1)
    model(X).sum().backward()
    before = {n: p.grad.clone() for n, p in model.named_parameters()}  # type: ignore[union-attr]
    report = check(model, X)
    assert report.healthy
    for name, param in model.named_parameters():
        assert torch.equal(param.grad, before[name])  # type: ignore[arg-type]


class ModifiesSavedOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.unused = nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(self.fc(x))
        s.mul_(2.0)  # SigmoidBackward0 needs the s it saved: backward refuses
        return s


def test_a_backward_that_raises_is_the_problem_not_its_parameters() -> None:
    report = check(ModifiesSavedOutput(), X)
    assert "modified by an inplace operation" in report.backward_error
    assert report.steps == 0 and report.first_nan is None
    assert [p.name for p in report.parameters] == ["unused.weight", "unused.bias"]
    assert report.problems()[0].startswith("backward failed:")


@pytest.mark.parametrize(
    ("kind", "line", "said"),
    [
        ("detach()", "loss_fake = criterion(D(fake.detach()), zeros)", "fake.detach()"),
        ("detach()", "codes = encoder(torch.randn(16, 4)).detach()",
         "encoder(torch.randn(16, 4)).detach()"),
        ("detach()", "out = torch.cat([a.detach(),", "a.detach()"),  # a statement going on
        ("detach()", "pair = (a.detach(), b.detach())", "detach()"),  # which one: not said
        (".data", "w.data -= lr * w.grad", "w.data"),
        ("item()", "t = self.log_t.exp().item()", "self.log_t.exp().item()"),
        ("detach()", "x = " + "f(" * 30 + "y" + ")" * 30 + ".detach()", "detach()"),  # long
    ],
)  # fmt: skip
def test_a_cut_names_what_was_detached_when_its_line_tells(kind: str, line: str, said: str) -> None:
    source = SourceLocation("gan.py", 21, "<module>", line)
    assert CutPoint(kind, kind, None, source).describe() == f"{said} at gan.py:21"


class Critic(nn.Module):
    """One linear critic scoring two batches: its bias adds to both scores alike."""

    def __init__(self) -> None:
        super().__init__()
        self.score = nn.Linear(3, 1)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        return self.score(fake).mean() - self.score(real).mean()


def test_a_bias_whose_two_uses_cancel_is_explained_where_they_sum() -> None:
    torch.manual_seed(0)
    model, fake, real = Critic(), torch.randn(8, 3), torch.randn(8, 3)
    model(fake, real).backward()
    assert model.score.bias.grad is not None and float(model.score.bias.grad) == 0.0  # torch
    model.zero_grad()
    run = forward_and_capture(model, (fake, real), lambda out, *inputs: out)
    report = diagnose(run, model, "critic").report
    (finding,) = report.parameters
    assert finding.name == "score.bias" and finding.reason == ZERO
    assert finding.at_node == finding.node_id  # summed at its own AccumulateGrad
    assert "2 uses (from AddmmBackward0 and AddmmBackward0) cancel" in finding.detail
    assert "root" not in finding.detail
    assert finding.expected and not finding.is_problem  # the loss's form: listed
    assert report.healthy, report.problems()


@pytest.mark.parametrize(
    ("kind", "optimizer", "expected"),
    [("detach()", "opt_g", True), (NO_GRAD, "opt_g", True), ("detach()", None, False),
     ("item()", "opt_g", False), ("float()", "opt_g", False)],
)  # fmt: skip
def test_only_a_tensor_cut_that_another_optimizer_trains_past_is_expected(
    kind: str, optimizer: str | None, expected: bool
) -> None:
    """A Python number (``item()``) is never a GAN's cut, even with an optimizer."""
    cut = CutPoint(kind, "mm", None, SourceLocation("gan.py", 21, "<module>", "x"), ("w",))
    facts = ForwardFacts((cut,), trained_elsewhere={"w": optimizer} if optimizer else None)
    graph = AutogradGraph(nodes=(), edges=(), roots=())
    state = ParamState("w", requires_grad=True, grad_is_none=True)
    (finding,) = parameter_findings(graph, None, (state,), facts)
    assert finding.reason == CUT and finding.expected is expected
    assert finding.is_problem is not expected
    assert ("opt_g trains it" in finding.detail) is expected
    assert finding.detail.endswith(MAYBE_INTENDED) is (kind in TENSOR_CUTS and not expected)
