"""watch(): the user's own loop, recorded step by step; torch's numbers; no hook left."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch
from torch import nn
from torch.optim.optimizer import _global_optimizer_post_hooks

import graphviz_app
from graphviz_app.core.graph.records import NodeKind

ORIGINAL_BACKWARD = torch.autograd.backward


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))


def _batches(count: int) -> list[torch.Tensor]:
    return [torch.randn(16, 4) for _ in range(count)]


def test_records_torchs_gradient_norms_loss_and_update_ratio() -> None:
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seen_norms, seen_ratios, losses = [], [], []
    with graphviz_app.watch(model) as w:
        for x in _batches(4):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            seen_norms.append({n: p.grad.norm().item() for n, p in model.named_parameters()})
            before = {n: p.detach().clone() for n, p in model.named_parameters()}
            opt.step()
            seen_ratios.append(
                {n: ((p - before[n]).norm() / before[n].norm()).item()
                 for n, p in model.named_parameters()}
            )
            losses.append(loss.item())
    assert [r.step for r in w.records] == [1, 2, 3, 4]
    assert [r.loss for r in w.records] == losses
    assert [r.grad_norms for r in w.records] == seen_norms  # exactly p.grad.norm()
    for record, ratios in zip(w.records, seen_ratios, strict=True):
        assert record.update_ratios == pytest.approx(ratios, rel=1e-5)
        assert record.update_ratio is not None and record.update_ratio > 0


def test_training_is_unchanged_by_watching() -> None:
    model, batches = _model(), _batches(5)
    twin = copy.deepcopy(model)
    for net, watched in ((model, True), (twin, False)):
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        with graphviz_app.watch(net, every=2) if watched else contextlib.nullcontext():
            for x in batches:
                opt.zero_grad()
                net(x).pow(2).mean().backward()
                opt.step()
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(mine, theirs)  # recorded backward == torch's, bit for bit


def test_every_nth_step_is_captured_with_modules_and_gradients() -> None:
    model = _model()
    with graphviz_app.watch(model, every=3) as w:
        for x in _batches(7):
            model.zero_grad()
            model(x).pow(2).mean().backward()
    assert [r.captured for r in w.records] == [True, False, False, True, False, False, True]
    assert w.graph is not None and w.trace is not None
    params = {n.leaf_name for n in w.graph.nodes if n.kind is NodeKind.PARAMETER}
    assert params == {"0.weight", "0.bias", "2.weight", "2.bias"}
    linear = [n for n in w.graph.nodes if n.op == "linear"]  # the forward ran recorded
    assert {n.module for n in linear} == {"0", "2"}
    norms = w.trace.received_grads()
    leaf = next(n for n in w.graph.nodes if n.leaf_name == "2.bias")
    assert norms[leaf.id].stats.norm == pytest.approx(model[2].bias.grad.norm().item())


def test_between_captured_steps_only_the_cheap_numbers_are_recorded() -> None:
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with graphviz_app.watch(model, every=2) as w:
        for x in _batches(4):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
    assert [bool(r.update_ratios) for r in w.records] == [True, False, True, False]
    assert all(r.loss is not None and len(r.grad_norms) == 4 for r in w.records)
    assert w.records[1].update_ratio is None


def test_manual_updates_count_as_the_steps_update() -> None:
    w_ = torch.zeros(3, requires_grad=True)
    holder = nn.Module()
    holder.w = nn.Parameter(torch.ones(3))
    with graphviz_app.watch(holder) as w:
        for _ in range(2):
            loss = (holder.w * holder.w).sum()
            loss.backward()
            with torch.no_grad():
                holder.w -= 0.25 * holder.w.grad
            holder.w.grad = None
    assert [r.update_ratios["w"] for r in w.records] == pytest.approx([0.5, 0.5])
    assert w_.grad is None


def test_backward_elsewhere_and_autograd_grad_are_not_steps() -> None:
    model = _model()
    other = torch.randn(3, requires_grad=True)
    with graphviz_app.watch(model) as w:
        (other * 2).sum().backward()  # does not reach the model
        out = model(torch.randn(2, 4)).sum()
        torch.autograd.grad(out, model[0].weight)  # leaves .grad alone
    assert w.records == [] and other.grad is not None


def test_leaving_removes_every_hook_also_after_an_error() -> None:
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    hooks_before = len(_global_optimizer_post_hooks)
    with pytest.raises(ZeroDivisionError), graphviz_app.watch(model):
        model(torch.randn(2, 4)).sum().backward()
        opt.step()
        assert torch.autograd.backward is not ORIGINAL_BACKWARD
        _ = 1 / 0
    assert torch.autograd.backward is ORIGINAL_BACKWARD
    assert len(_global_optimizer_post_hooks) == hooks_before
    assert not model._forward_hooks and not model._forward_pre_hooks


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_non_scalar_roots_and_create_graph_run_as_torch_runs_them() -> None:
    model = _model()
    with graphviz_app.watch(model) as w:
        out = model(torch.randn(3, 4))
        with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
            out.backward()
        out.backward(torch.ones_like(out), create_graph=True)  # not replayed: torch runs it
    assert len(w.records) == 1 and not w.records[0].captured and w.records[0].loss is None


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"nn\.Module"):
        graphviz_app.watch("model")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="every"):
        graphviz_app.watch(_model(), every=0)
