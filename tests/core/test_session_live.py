"""ModelSession.adopt: live objects of the user's code opened like a model file."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.autograd.live import capture_live
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.losses import TrainingError
from graphviz_app.core.training.state import training_values_kept
from graphviz_app.core.training.trainer import TrainSettings
from graphviz_app.session import ModelSession
from graphviz_app.session.live import live_graph, live_model, live_tensors


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))


def test_a_live_tensor_is_drawn_and_backward_runs_from_it(engine: GraphvizEngine) -> None:
    model = _model()
    loss = model(torch.randn(5, 3)).pow(2).mean()
    session = ModelSession(engine)
    names = dict(model.named_parameters())
    picture = session.adopt(live_tensors((loss,), names, {}, model), GraphStyle())
    assert picture.model_name == "Sequential" and picture.parameter_count == 21
    assert {n.leaf_name for n in picture.graph.nodes if n.is_leaf} == set(names)
    session.backward()
    assert model[0].weight.grad is not None  # the user's own parameter
    with pytest.raises(TrainingError, match=r"show\(model=model, inputs=x\)"):
        session.train_one(TrainSettings(), GraphStyle())
    assert session.prepare_training().device == "cpu"


def test_a_model_with_inputs_trains_the_users_model(engine: GraphvizEngine) -> None:
    model = _model()
    before = model[0].weight.detach().clone()
    session = ModelSession(engine)
    picture = session.adopt(live_model(model, torch.randn(8, 3)), GraphStyle())
    assert any(n.op == "linear" for n in picture.graph.nodes)  # the recorder ran
    step = session.train_one(TrainSettings(lr=0.5), GraphStyle())
    assert step.record.step == 1 and not torch.equal(model[0].weight, before)


def test_a_finished_graph_shows_its_recorded_backward_or_says_why_not(
    engine: GraphvizEngine,
) -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    walk, graph = capture_live(((w * w).sum(),), {}, {"w": w})
    trace = record_backward(walk)
    session = ModelSession(engine)
    picture = session.adopt(live_graph(graph, "steps", trace, "watch net 1"), GraphStyle())
    assert picture.model_path == "<watch net 1>" and "watch()" in picture.doc
    assert session.backward().trace is trace
    session.adopt(live_graph(graph, "drawing"), GraphStyle())
    with pytest.raises(RuntimeError, match="keeps none"):
        session.backward()


def _with_batch_norm() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Everything a look must leave alone: parameters, buffers, gradients."""
    grads = {f"{n}.grad": p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return {k: v.detach().clone() for k, v in model.state_dict().items()} | grads


def _same(model: nn.Module, before: dict[str, torch.Tensor]) -> bool:
    now = _state(model)
    return now.keys() == before.keys() and all(torch.equal(now[k], before[k]) for k in now)


def test_looking_at_a_live_model_leaves_it_exactly_as_it_was(engine: GraphvizEngine) -> None:
    """show(model=model, inputs=x) and Check gradient health run forward in train mode:
    batch norm's running statistics and num_batches_tracked must not move (they did,
    0 -> 1 on opening, -> 2 after the check). A training step the user asks for does."""
    model = _with_batch_norm()
    model(torch.randn(16, 4)).sum().backward()  # the user's own .grad, kept too
    before = _state(model)
    session = ModelSession(engine)
    session.adopt(live_model(model, torch.randn(16, 4)), GraphStyle())
    assert _same(model, before)
    result = session.check_health(style=GraphStyle())
    assert result.report.healthy and _same(model, before)
    session.forward()  # the window's refresh
    assert _same(model, before) and int(model[1].num_batches_tracked) == 1
    session.train_one(TrainSettings(lr=0.1), GraphStyle())
    assert int(model[1].num_batches_tracked) == 2  # training is the user's own ask


@pytest.mark.parametrize("train", [True, False])
def test_a_graph_captured_while_buffers_are_kept_backpropagates_as_torch_does(train: bool) -> None:
    """Batch norm saves its running statistics for backward: putting them back after
    the look must neither make that backward raise (a moved version counter) nor change
    its gradients; torch's own backward on a twin is the oracle."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Linear(8, 1)).double()
    model.train(train)
    twin = copy.deepcopy(model)
    x, w = torch.randn(16, 3, dtype=torch.float64), torch.randn(16, 1, dtype=torch.float64)
    before = {n: b.clone() for n, b in model.named_buffers()}
    with training_values_kept(model, keep_grads=False):
        out = model(x)
    (out * w).sum().backward()
    (twin(x) * w).sum().backward()
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        assert mine.grad is not None and torch.equal(mine.grad, theirs.grad)
    assert all(torch.equal(b, before[n]) for n, b in model.named_buffers())
