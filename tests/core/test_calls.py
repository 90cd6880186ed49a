"""One intercepted backward call, recorded as the user's code really ran it: names from
the user's own variables, the user's seeds and retain_graph, and torch's own .grad."""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.calls import Variables, find_variables, record_call
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.intercept import BackwardCall, intercept_backward
from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.graph.walk import CaptureError


def test_one_model_names_its_parameters_by_path_and_plain_leaves_by_variable() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    criterion = nn.MSELoss()
    w1 = torch.randn(2, requires_grad=True)
    found = find_variables(sys._getframe())
    assert found.models[""] is model and found.models["criterion"] is criterion
    assert list(found.parameters()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert found.leaves == {"w1": w1}
    assert found.module_paths()[id(model[2])] == "2"
    holder = dict(found.container().named_modules())
    assert holder["2"] is model[2] and holder["criterion"] is criterion
    assert find_variables(None, ({"net": model},)).models[""] is model  # a script's globals


def test_several_models_keep_their_variable_names() -> None:
    generator = nn.Linear(2, 2)
    critic = nn.Sequential(nn.Linear(2, 1))
    found = find_variables(sys._getframe())
    assert {"generator.weight", "critic.0.bias"} <= set(found.parameters())
    holder = found.container()
    assert dict(holder.named_modules())["critic.0"] is critic[0]
    assert generator.weight is found.parameters()["generator.weight"]


def test_a_model_parameter_is_never_also_a_plain_leaf() -> None:
    model = nn.Linear(2, 2)
    weight = model.weight  # the same tensor under another name
    found = find_variables(sys._getframe())
    assert found.leaves == {} and found.parameters()["weight"] is weight


def _recorded(roots_fn, **call_kwargs):  # type: ignore[no-untyped-def]
    """Run ``roots_fn()``'s backward through the interception, recorded."""
    seen = []

    def handler(call: BackwardCall) -> object:
        recorded = record_call(call, find_variables(sys._getframe(1)), CaptureOptions())
        seen.append(recorded)
        return recorded.result

    with intercept_backward(handler):
        result = roots_fn()
    return seen, result


def test_a_non_scalar_backward_uses_the_users_gradient_and_grad_equals_torch() -> None:
    torch.manual_seed(1)
    net = nn.Linear(4, 3)
    x = torch.randn(2, 4)
    seed = torch.randn(2, 3)
    seen, _ = _recorded(lambda: net(x).backward(seed, retain_graph=True))
    (recorded,) = seen
    expected = seed.t() @ x  # d(out)/d(weight) contracted with the seed
    assert torch.allclose(net.weight.grad, expected)
    assert recorded.trace.retain_graph is True
    root_step = recorded.trace.steps[0]
    assert root_step.grad_outputs[0] is not None
    assert root_step.grad_outputs[0].shape == (2, 3)
    leaves = {n.leaf_name for n in recorded.graph.nodes if n.kind is NodeKind.PARAMETER}
    assert leaves == {"net.weight", "net.bias"} or leaves == {"weight", "bias"}


def test_autograd_grad_returns_torch_s_gradient_and_leaves_grad_alone() -> None:
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    seen, result = _recorded(lambda: torch.autograd.grad((x * x).sin().sum(), x))
    assert torch.allclose(result[0], torch.cos(x * x) * 2 * x)
    assert x.grad is None
    names = {n.name for n in seen[0].graph.nodes}
    assert {"SinBackward0", "MulBackward0", "SumBackward0"} <= names


def test_a_root_without_grad_fn_is_refused_before_anything_runs() -> None:
    call = BackwardCall("backward", (torch.ones(2),), None, None, False, (), (), {})
    with pytest.raises(CaptureError):
        record_call(call, Variables(), CaptureOptions())
