"""record_backward against torch: per-edge gradients, leaf grads, order, pending counts.

Truth: our own hooks on an identical second forward pass (re-seeded) keep the real
gradient tensors; ``.grad`` of leaves and ``retain_grad()`` tensors; finite differences.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from core_helpers import (
    HookedGrads,
    assert_engine_order,
    assert_info_matches,
    assert_infos_close,
    assert_leaf_grads,
    assert_steps_match,
    central_difference,
    hooked_backward,
    leaf_variables,
    objects_in,
)
from torch import nn

from graphviz_app.core.autograd import backward as backward_module
from graphviz_app.core.autograd.backward import BackwardError, pending_counts, record_backward
from graphviz_app.core.autograd.capture import capture_walk
from graphviz_app.core.autograd.forward import ForwardRun, forward_and_capture
from graphviz_app.core.graph.records import NodeKind, TensorInfo
from graphviz_app.core.graph.walk import walk_autograd

F32, F64 = torch.float32, torch.float64
RTOL = {F32: 1e-5, F64: 1e-6}
TARGET = torch.tensor([0, 2, 1, 0, 1])


class Cube(torch.autograd.Function):
    """x**3 * scale; sends no gradient to ``scale`` and answers in float64 (autograd casts)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, scale)
        return x**3 * scale

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        x, scale = ctx.saved_tensors
        return (3 * x * x * scale * grad).double(), None


class SkipBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x))
        return self.conv2(h) + h


class CubeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.scale = nn.Parameter(torch.full((3,), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Cube.apply(self.lin(x), self.scale)


def halve_grad(param: torch.Tensor) -> None:
    assert param.grad is not None
    param.grad.mul_(0.5)


class GradHooks(nn.Module):
    """Gradient hooks a user might write: clipping, scaling, halving after accumulation."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.lin.weight.register_hook(lambda grad: grad.clamp(-0.05, 0.05))
        self.lin.bias.register_post_accumulate_grad_hook(halve_grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.lin(x)
        h.register_hook(lambda grad: grad * 3)
        return h.tanh()


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def shared() -> nn.Module:
    lin = nn.Linear(4, 4)
    return nn.Sequential(lin, nn.Tanh(), lin)  # one weight, two uses


@dataclasses.dataclass(frozen=True)
class Case:
    model: Callable[[], nn.Module]
    shape: tuple[int, ...]
    loss: Callable[..., torch.Tensor] | None


CASES = {
    "mlp": Case(mlp, (5, 4), lambda out, x: nn.functional.cross_entropy(out, TARGET)),
    "cnn_skip": Case(SkipBlock, (2, 2, 6, 6), lambda out, x: out.square().mean()),
    "shared": Case(shared, (3, 4), lambda out, x: out.square().sum()),
    "custom": Case(CubeNet, (5, 4), lambda out, x: out.mean()),
    "grad_hooks": Case(GradHooks, (5, 4), lambda out, x: out.square().sum()),
}
PLAIN_CASES = [name for name in CASES if name != "grad_hooks"]  # .grad == what arrived


def build(name: str, dtype: torch.dtype = F64) -> tuple[nn.Module, torch.Tensor]:
    """The model and input of case ``name``: identical on every call (re-seeded)."""
    torch.manual_seed(1)
    model = CASES[name].model().to(dtype)
    return model, torch.randn(CASES[name].shape, dtype=dtype, requires_grad=True)


def forward(name: str, dtype: torch.dtype = F64, with_loss: bool = True) -> ForwardRun:
    model, x = build(name, dtype)
    return forward_and_capture(model, (x,), CASES[name].loss if with_loss else None)


def reference(
    run: ForwardRun, twin: ForwardRun, seeds: Sequence[torch.Tensor] | None = None
) -> HookedGrads:
    """Our hooks' view of a plain backward through ``twin``, an identical forward pass."""
    names = [type(fn).__name__ for fn in run.walk.fns]
    assert names == [type(fn).__name__ for fn in twin.walk.fns], "the runs must be identical"
    return hooked_backward(twin.walk, seeds)


@pytest.fixture
def describe_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the recorder's tensor descriptions: a hook left behind would add to it."""
    calls: list[int] = []
    real = backward_module.describe_tensor

    def counted(t: torch.Tensor, *args: Any, **kwargs: Any) -> TensorInfo:
        calls.append(t.numel())
        return real(t, *args, **kwargs)

    monkeypatch.setattr(backward_module, "describe_tensor", counted)
    return calls


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", CASES)
def test_every_step_records_the_gradients_torch_sent(name: str, dtype: torch.dtype) -> None:
    run = forward(name, dtype)
    trace = record_backward(run.walk)
    assert_steps_match(run.walk, trace, reference(run, forward(name, dtype)), RTOL[dtype])


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", CASES)
def test_leaf_steps_show_the_leaf_grad(name: str, dtype: torch.dtype) -> None:
    run = forward(name, dtype)
    trace = record_backward(run.walk)
    leaves = [s for s in trace.steps if s.node_id in leaf_variables(run.walk)]
    assert len(leaves) >= 3
    assert all(s.leaf_grad_before is None and s.grad_inputs == () for s in leaves)
    assert_leaf_grads(run.walk, trace, RTOL[dtype])


def test_mlp_gradients_equal_retained_intermediate_grads() -> None:
    w1, b1, w2 = (torch.randn(s, dtype=F64, requires_grad=True) for s in ((8, 4), (8,), (8, 3)))
    z1 = torch.addmm(b1, torch.randn(5, 4, dtype=F64), w1.t())
    h = z1.tanh()
    z2 = h.mm(w2)
    for t in (z1, h, z2):
        t.retain_grad()
    walk = walk_autograd([z2.square().mean()])
    graph = capture_walk(walk)
    steps = {graph.node(s.node_id).name: s for s in record_backward(walk).steps}
    assert_info_matches(steps["TanhBackward0"].grad_outputs[0], h.grad, 1e-12)
    assert_info_matches(steps["TanhBackward0"].grad_inputs[0], z1.grad, 1e-12)
    assert_info_matches(steps["MmBackward0"].grad_outputs[0], z2.grad, 1e-12)
    assert_info_matches(steps["PowBackward0"].grad_inputs[0], z2.grad, 1e-12)


def test_a_second_backward_accumulates_onto_the_first() -> None:
    run = forward("mlp")
    first = record_backward(run.walk, retain_graph=True)
    second = record_backward(run.walk)
    single = forward("mlp")
    single.roots[0].backward()
    singles = leaf_variables(single.walk)
    for node_id, variable in leaf_variables(run.walk).items():
        before, after = first.step_for(node_id), second.step_for(node_id)
        assert before is not None and after is not None
        assert_infos_close(after.leaf_grad_before, before.leaf_grad_after, 1e-12)
        assert_info_matches(after.leaf_grad_after, 2 * singles[node_id].grad, 1e-12)
        assert_info_matches(after.leaf_grad_after, variable.grad, 1e-12)


def test_a_second_backward_through_a_freed_graph_explains_retain_graph(
    describe_calls: list[int],
) -> None:
    model, x = build("mlp")
    run = forward_and_capture(model, (x,), CASES["mlp"].loss)
    record_backward(run.walk)
    with pytest.raises(BackwardError) as caught:
        record_backward(run.walk)
    assert "retain_graph" in caught.value.summary
    assert "second time" in caught.value.details
    again = forward_and_capture(model, (x,), CASES["mlp"].loss)
    leaf_fns = [fn for fn in run.walk.fns if hasattr(fn, "variable")]
    assert [fn for fn in again.walk.fns if hasattr(fn, "variable")] == leaf_fns  # same objects
    describe_calls.clear()
    torch.autograd.backward(list(again.roots), retain_graph=True)
    assert describe_calls == []
    assert len(record_backward(again.walk).steps) == len(again.walk.fns)


def test_hooks_are_removed_when_backward_raises(describe_calls: list[int]) -> None:
    failing = [True]

    def fragile(grad: torch.Tensor) -> None:
        if failing[0]:
            raise RuntimeError("boom in a gradient hook")

    w = torch.randn(3, requires_grad=True)
    h = w.tanh()
    h.register_hook(fragile)
    loss = (h * 2).sum()
    with pytest.raises(BackwardError) as caught:
        record_backward(walk_autograd([loss]), retain_graph=True)
    assert "boom in a gradient hook" in caught.value.summary
    failing[0] = False
    describe_calls.clear()
    loss.backward()
    assert describe_calls == []
    assert w.grad is not None


def test_hooks_are_removed_after_a_recorded_backward(describe_calls: list[int]) -> None:
    run = forward("shared")
    trace = record_backward(run.walk, retain_graph=True)
    describe_calls.clear()
    torch.autograd.backward(list(run.roots))
    assert describe_calls == []
    assert len(trace.steps) == len(run.walk.fns)


@pytest.mark.parametrize("name", CASES)
def test_steps_follow_the_engine_order(name: str) -> None:
    run = forward(name)
    trace = record_backward(run.walk)
    assert_engine_order(run.graph, run.walk, trace)
    assert trace.steps[0].node_id == run.walk.fn_id(run.walk.root_fn[0])
    truth = reference(run, forward(name))
    assert [s.node_id for s in trace.steps] == [run.walk.fn_id(i) for i in truth.order]


Heads = Callable[[torch.Tensor], list[torch.Tensor]]
HEADS: dict[str, Heads] = {
    "two_heads": lambda h: [h.tanh(), h.exp()],
    "root_feeds_root": lambda h: [h, h.exp()],
    "one_node_two_outputs": lambda h: list(h.unbind(1)),
    "same_output_twice": lambda h: [h, h],
}


class MultiHead(nn.Module):
    def __init__(self, body: nn.Module, heads: Heads) -> None:
        super().__init__()
        self.body, self.heads = body, heads

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.heads(self.body(x))


def multi_root_run(heads: str) -> ForwardRun:
    model, x = build("mlp")
    return forward_and_capture(MultiHead(model, HEADS[heads]), (x,))


@pytest.mark.parametrize("heads", HEADS)
def test_several_roots_with_grad_tensors(heads: str) -> None:
    run, twin = multi_root_run(heads), multi_root_run(heads)
    assert len(run.roots) >= 2
    seeds = [torch.randn_like(t) for t in run.roots]
    trace = record_backward(run.walk, grad_tensors=seeds)
    assert_engine_order(run.graph, run.walk, trace)
    truth = reference(run, twin, seeds)
    assert [s.node_id for s in trace.steps] == [run.walk.fn_id(i) for i in truth.order]
    assert_steps_match(run.walk, trace, truth, 1e-12)
    assert_leaf_grads(run.walk, trace, 1e-12)


def test_a_non_scalar_root_is_seeded_with_the_given_grad() -> None:
    run = forward("mlp", with_loss=False)
    (root,) = run.roots
    assert root.shape == (5, 3)
    seed = torch.randn_like(root)
    trace = record_backward(run.walk, grad_tensors=[seed])
    assert_engine_order(run.graph, run.walk, trace)
    assert_info_matches(trace.steps[0].grad_outputs[0], seed, 1e-12)
    assert_steps_match(
        run.walk, trace, reference(run, forward("mlp", with_loss=False), [seed]), 1e-12
    )


def test_input_grad_matches_gradcheck_and_finite_differences() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).to(F64)
    x = torch.randn(2, 4, dtype=F64, requires_grad=True)

    def loss_of(t: torch.Tensor) -> torch.Tensor:
        return model(t).square().sum()

    assert torch.autograd.gradcheck(loss_of, (x,))
    run = forward_and_capture(model, (x,), lambda out, _: out.square().sum())
    (node,) = [n for n in run.graph.nodes if n.leaf_name == "x"]
    assert node.kind is NodeKind.INPUT
    step = record_backward(run.walk).step_for(node.id)
    assert step is not None and step.leaf_grad_before is None
    assert step.leaf_grad_after is not None and step.grad_outputs[0] is not None
    expected = central_difference(loss_of, x).tolist()
    assert step.leaf_grad_after.preview == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert step.grad_outputs[0].preview == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert step.leaf_grad_after.preview == pytest.approx(x.grad.reshape(-1).tolist(), rel=1e-12)


def test_pending_counts_follow_the_consumers() -> None:
    x = torch.randn(3, dtype=F64, requires_grad=True)
    h = x * 2
    walk = walk_autograd([(h.sin() + h.cos() + x * x).sum()])
    graph = capture_walk(walk, inputs={"x": x})
    trace = record_backward(walk)
    (h_id,) = [walk.fn_id(i) for i, fn in enumerate(walk.fns) if fn is h.grad_fn]
    (x_id,) = [n.id for n in graph.nodes if n.leaf_name == "x"]
    position = {s.node_id: s.index for s in trace.steps}
    first, second = sorted(position[e.target] for e in graph.out_edges(h_id))
    assert pending_counts(graph, trace, -1)[x_id] == len(graph.out_edges(x_id)) == 3
    waits = [pending_counts(graph, trace, i).get(h_id) for i in (-1, first - 1, first, second - 1)]
    assert waits == [2, 2, 1, 1]
    assert h_id not in pending_counts(graph, trace, second)


@pytest.mark.parametrize("name", CASES)
def test_a_node_runs_only_when_nothing_is_pending(name: str) -> None:
    run = forward(name)
    trace = record_backward(run.walk)
    before = pending_counts(run.graph, trace, -1)
    for leaf in (n.id for n in run.graph.nodes if n.is_leaf):
        assert before[leaf] == len(run.graph.out_edges(leaf))
    for step in trace.steps:
        assert pending_counts(run.graph, trace, step.index - 1).get(step.node_id, 0) == 0
    assert pending_counts(run.graph, trace, len(trace.steps) - 1) == {}


@pytest.mark.parametrize("name", PLAIN_CASES)
def test_grad_norms_of_leaves_equal_their_grad_norm(name: str) -> None:
    run = forward(name)
    norms = record_backward(run.walk).grad_norms()
    for node_id, variable in leaf_variables(run.walk).items():
        if variable.grad is not None:
            assert norms[node_id] == pytest.approx(float(variable.grad.norm()), rel=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_grad_norms_are_the_norms_of_the_incoming_gradients(name: str) -> None:
    run = forward(name)
    norms = record_backward(run.walk).grad_norms()
    truth = reference(run, forward(name))
    for index, grads in truth.incoming.items():
        squares = [float(g.norm()) ** 2 for g in grads if g is not None]
        assert norms.get(run.walk.fn_id(index), 0.0) == pytest.approx(math.sqrt(sum(squares)))


@pytest.mark.parametrize("limit", [64, 8])
def test_a_big_activation_is_summarised_not_kept(limit: int) -> None:
    x = torch.randn(1000, 1000, requires_grad=True)
    walk = walk_autograd([torch.relu(nn.Linear(1000, 1000)(x)).sum()])
    trace = record_backward(walk, preview_limit=limit)
    found = list(objects_in(trace))
    assert not [o for o in found if isinstance(o, torch.Tensor)]
    infos = [o for o in found if isinstance(o, TensorInfo)]
    assert max(math.prod(i.shape) for i in infos) == 1_000_000
    assert all(len(i.preview) <= limit for i in infos)
    assert all(i.preview_truncated for i in infos if math.prod(i.shape) > limit)
    (x_id,) = [node_id for node_id, leaf in leaf_variables(walk).items() if leaf is x]
    step = trace.step_for(x_id)
    assert step is not None and step.leaf_grad_after is not None
    assert step.leaf_grad_after.preview == pytest.approx(
        x.grad.reshape(-1)[:limit].tolist(), rel=1e-6
    )
