"""Graphs captured from live tensors (no recorder during forward) and gradients
recorded without touching ``.grad``: what autograd still knows, checked against torch."""

from __future__ import annotations

import torch
from torch import nn

from graphviz_app.core.autograd.backward import record_gradients
from graphviz_app.core.autograd.live import capture_live, common_module
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.graph.walk import walk_autograd


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def _by_name(graph, name):  # type: ignore[no-untyped-def]
    return [n for n in graph.nodes if n.name == name]


def test_shapes_and_saved_values_are_filled_in_without_the_recorder() -> None:
    x = torch.randn(3, 4, requires_grad=True)
    hidden = x.exp()  # ExpBackward0 saves its result: its value is known
    out = (hidden * 2).sum()
    _, graph = capture_live((out,), {}, {"x": x})
    (exp,) = _by_name(graph, "ExpBackward0")
    assert exp.tensor is not None and exp.tensor.shape == (3, 4)
    assert exp.tensor.stats is not None
    assert abs(exp.tensor.stats.norm - float(hidden.detach().norm())) < 1e-5
    (mul,) = _by_name(graph, "MulBackward0")  # saved by nobody: shape only
    assert mul.tensor is not None and mul.tensor.shape == (3, 4) and mul.tensor.stats is None


def test_a_nan_in_a_saved_value_is_marked() -> None:
    x = torch.tensor([1.0, -1.0], requires_grad=True)
    y = x.sqrt()  # NaN at -1, saved by SqrtBackward0 as its result
    _, graph = capture_live(((y * 3).sum(),), {}, {})
    (sqrt,) = _by_name(graph, "SqrtBackward0")
    assert sqrt.tensor is not None and sqrt.tensor.stats is not None
    assert sqrt.tensor.stats.nan_count == 1


def test_anomaly_mode_gives_the_users_line() -> None:
    x = torch.randn(2, requires_grad=True)
    with torch.autograd.set_detect_anomaly(True):
        out = x.tanh().sum()
    line = out.grad_fn.metadata["traceback_"][-1]
    _, graph = capture_live((out,), {}, {})
    (tanh,) = _by_name(graph, "TanhBackward0")
    assert tanh.source is not None and tanh.source.file == __file__
    assert f"line {tanh.source.line}" in line and "tanh" in tanh.source.text


def test_modules_are_inferred_from_parameter_names() -> None:
    model = nn.Sequential(Block(), nn.Linear(4, 1))
    loss = model(torch.randn(5, 4)).pow(2).mean()
    _, graph = capture_live((loss,), dict(model.named_parameters()), {})
    modules = {n.id: n.module for n in graph.nodes}
    addmm = [n for n in graph.nodes if n.name == "AddmmBackward0"]
    assert sorted(modules[n.id] for n in addmm) == ["0.fc1", "0.fc2", "1"]
    (relu,) = _by_name(graph, "ReluBackward0")
    assert relu.module == "0" and relu.module_inferred  # between 0.fc1 and 0.fc2
    for name in ("PowBackward0", "MeanBackward0"):  # the loss: after the model, outside
        assert _by_name(graph, name)[0].module is None


def test_a_recorded_forward_keeps_its_own_modules() -> None:
    model = Block()
    with ForwardRecorder(model):
        out = model(torch.randn(2, 4)).sum()
    _, graph = capture_live((out,), dict(model.named_parameters()), {})
    (relu,) = _by_name(graph, "ReluBackward0")
    assert relu.module == "" and not relu.module_inferred and relu.op == "relu"


def test_common_module() -> None:
    assert common_module(["h.0.attn.c_attn", "h.0.attn.c_proj"]) == "h.0.attn"
    assert common_module(["0", "2"]) == "" and common_module(["fc1"]) == "fc1"


def test_record_gradients_equals_torch_and_leaves_grad_alone() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = torch.randn(6, 3)
    loss = model(x).pow(2).mean()
    expected = torch.autograd.grad(loss, list(model.parameters()), retain_graph=True)
    walk = walk_autograd([loss])
    trace = record_gradients(walk)
    assert all(p.grad is None for p in model.parameters())
    received = trace.received_grads()
    for i, fn in enumerate(walk.fns):
        if hasattr(fn, "variable"):
            want = expected[[id(p) for p in model.parameters()].index(id(fn.variable))]
            info = received[walk.fn_id(i)]
            assert info.stats is not None and abs(info.stats.norm - float(want.norm())) < 1e-6
    loss.backward()  # the graph was retained: the user's own backward still works
    assert torch.allclose(model[0].weight.grad, expected[0])


def test_leaf_kinds_follow_the_names() -> None:
    a = torch.tensor(2.0, requires_grad=True)
    w = nn.Parameter(torch.tensor(3.0))
    _, graph = capture_live(((a * w),), {"w": w}, {"a": a, "w": w})
    kinds = {n.leaf_name: n.kind for n in graph.nodes if n.is_leaf}
    assert kinds == {"a": NodeKind.INPUT, "w": NodeKind.PARAMETER}
