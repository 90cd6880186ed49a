"""The captured graph has torchviz's nodes and edges on many graph shapes.

torchviz 0.0.3 walks ``grad_fn.next_functions`` recursively; on small graphs it is a
trusted oracle. Each case builds a graph and returns its roots and named parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
import torch
from core_helpers import compare_with_torchviz, nodes_named, object_ids
from torch import nn

from graphviz_app.core.autograd.capture import capture_graph
from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.core.graph.walk import walk_autograd


class Case(NamedTuple):
    roots: tuple[torch.Tensor, ...]
    params: dict[str, torch.Tensor]
    keep: Any = None  # objects the test needs beside the roots (a module, a tensor)


def _named(model: nn.Module) -> dict[str, torch.Tensor]:
    return dict(model.named_parameters())


def mlp() -> Case:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    return Case((model(torch.randn(5, 4)).sum(),), _named(model), model)


def cnn_with_pooling() -> Case:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )
    return Case((model(torch.randn(2, 1, 8, 8)).sum(),), _named(model), model)


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 conv-bn pairs and an identity skip."""

    def __init__(self, channels: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        return (out + x).relu()


def resnet_block() -> Case:
    model = BasicBlock()
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    return Case((model(x).mean(),), {**_named(model), "x": x}, model)


def shared_weights() -> Case:
    layer = nn.Linear(3, 3)
    x = torch.randn(2, 3)
    return Case(((layer(layer(x))).sum(),), _named(layer), layer)


class Exp(torch.autograd.Function):
    """A custom Function that saves its output for backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        result = x.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (result,) = ctx.saved_tensors
        return grad * result


def custom_function() -> Case:
    x = torch.randn(2, 3, requires_grad=True)
    return Case((Exp.apply(x * 2).sum(),), {"x": x})


def inplace_on_view() -> Case:
    x = torch.randn(3, 4, requires_grad=True)
    a = x * 2
    a[0].mul_(3)  # an in-place op through a view: a's grad_fn becomes CopySlices
    return Case((a.sum(),), {"x": x})


def view_ops() -> Case:
    x = torch.randn(3, 4, requires_grad=True)
    v = x.view(4, 3).t().unsqueeze(0).permute(0, 2, 1)  # View, T, Unsqueeze, Permute
    e = x[:, :1].expand(3, 5)  # Slice, Expand
    r = x.reshape(12)[0]  # contiguous reshape is a View; indexing a Select
    base_view = (x * 2).view(12)  # a root that is a view: torchviz draws its base
    return Case(((v.sum() + e.sum() + r), base_view), {"x": x})


def multiple_outputs() -> Case:
    x = torch.randn(4, 3, requires_grad=True)
    h = x @ torch.randn(3, 3)
    return Case((h.relu(), h.sigmoid().sum(), (x * 2).mean()), {"x": x})


def detached_branch() -> Case:
    x = torch.randn(3, requires_grad=True)
    h = x.sin()
    branch = h * 5  # has a grad_fn, but only its detached value reaches the root
    return Case(((h + branch.detach()).sum(),), {"x": x}, branch)


def lstm() -> Case:
    model = nn.LSTM(4, 6, num_layers=2)
    out, (h, c) = model(torch.randn(5, 2, 4))
    return Case((out.sum() + h.sum(), c), _named(model), model)


def non_scalar_root() -> Case:
    model = nn.Linear(4, 2)
    return Case((model(torch.randn(3, 4)),), _named(model), model)


def square() -> Case:
    x = torch.randn(3, requires_grad=True)
    return Case(((x * x).sum(),), {"x": x})


def multi_output_op() -> Case:
    x = torch.randn(4, 3, requires_grad=True)
    a, b = (x + 1).chunk(2)  # one SplitBackward0 node with two outputs
    return Case(((a * b).sum(),), {"x": x})


CASES: dict[str, Callable[[], Case]] = {
    f.__name__: f
    for f in (
        mlp,
        cnn_with_pooling,
        resnet_block,
        shared_weights,
        custom_function,
        inplace_on_view,
        view_ops,
        multiple_outputs,
        detached_branch,
        lstm,
        non_scalar_root,
        square,
        multi_output_op,
    )
}


@pytest.mark.parametrize("name", list(CASES))
def test_nodes_and_edges_equal_torchviz(name: str) -> None:
    case = CASES[name]()
    ours, theirs = compare_with_torchviz(case.roots, case.params)
    assert ours.nodes == theirs.nodes
    assert ours.edges == theirs.edges


@pytest.mark.parametrize("name", list(CASES))
def test_every_edge_joins_captured_nodes(name: str) -> None:
    graph = capture_graph(CASES[name]().roots)
    ids = [n.id for n in graph.nodes]
    assert ids == [f"n{i}" for i in range(len(ids))]
    assert all(e.source in graph and e.target in graph for e in graph.edges)
    assert list(graph.roots) == [n.id for n in graph.nodes if n.kind is NodeKind.OUTPUT]


def _leaf_named(graph: AutogradGraph, name: str) -> str:
    (node_id,) = [n.id for n in graph.nodes if n.leaf_name == name]
    return node_id


def test_shared_weight_is_one_leaf_with_two_consumers() -> None:
    case = shared_weights()
    graph = capture_graph(case.roots, params=case.params)
    weight = _leaf_named(graph, "weight")
    assert graph.node(weight).kind is NodeKind.PARAMETER
    assert len(nodes_named(graph, "AccumulateGrad")) == 2  # weight and bias, once each
    consumers = [e.target for e in graph.out_edges(weight)]
    assert len(consumers) == 2 and len(set(consumers)) == 2
    assert {graph.node(c).name for c in consumers} == {"TBackward0"}
    bias_consumers = {e.target for e in graph.out_edges(_leaf_named(graph, "bias"))}
    assert {graph.node(c).name for c in bias_consumers} == {"AddmmBackward0"}
    assert len(bias_consumers) == 2


def test_custom_function_is_custom_with_saved_tensors() -> None:
    graph = capture_graph(custom_function().roots)
    (node_id,) = nodes_named(graph, "ExpBackward")
    node = graph.node(node_id)
    assert node.kind is NodeKind.CUSTOM
    saved = {s.name: s for s in node.saved}
    assert set(saved) == {"saved_tensors[0]"}
    info = saved["saved_tensors[0]"].tensor
    assert info is not None and info.shape == (2, 3) and info.dtype == "float32"
    assert info.stats is not None and info.stats.min > 0  # exp() is positive


def test_inplace_on_view_is_copy_slices() -> None:
    graph = capture_graph(inplace_on_view().roots)
    (node_id,) = nodes_named(graph, "CopySlices")
    assert graph.node(node_id).kind is NodeKind.COPY_SLICES
    assert {graph.node(e.target).name for e in graph.out_edges(node_id)} == {"SumBackward0"}


def test_view_ops_are_view_kind() -> None:
    graph = capture_graph(view_ops().roots)
    view_names = {
        "ViewBackward0",
        "TBackward0",
        "UnsqueezeBackward0",
        "PermuteBackward0",
        "SliceBackward0",
        "ExpandBackward0",
        "SelectBackward0",
    }
    kinds = {n.name: n.kind for n in graph.nodes}
    assert view_names <= set(kinds)
    assert {kinds[name] for name in view_names} == {NodeKind.VIEW}
    assert kinds["MulBackward0"] is NodeKind.BACKWARD
    assert kinds["SumBackward0"] is NodeKind.BACKWARD


def test_multiple_outputs_are_roots_in_order() -> None:
    case = multiple_outputs()
    graph = capture_graph(case.roots)
    assert graph.roots == ("n0", "n1", "n2")
    assert [graph.node(r).leaf_name for r in graph.roots] == ["output 0", "output 1", "output 2"]
    for root, tensor in zip(graph.roots, case.roots, strict=True):
        (edge,) = graph.in_edges(root)
        assert graph.node(edge.source).name == type(tensor.grad_fn).__name__
    # The shared x @ w is captured once, although two roots reach it.
    assert len(nodes_named(graph, "MmBackward0")) == 1


def test_detached_branch_is_absent() -> None:
    case = detached_branch()
    walk = walk_autograd(case.roots)
    assert all(fn is not case.keep.grad_fn for fn in walk.fns)
    graph = capture_graph(case.roots)
    assert nodes_named(graph, "MulBackward0") == []
    assert str(id(case.keep.grad_fn)) not in object_ids(walk).values()


def test_lstm_parameters_are_all_leaves() -> None:
    case = lstm()
    graph = capture_graph(case.roots, params=case.params)
    leaves = {n.leaf_name for n in graph.nodes if n.kind is NodeKind.PARAMETER}
    assert leaves == set(case.params)
    assert len(graph.roots) == 2


def test_non_scalar_root_keeps_its_shape() -> None:
    graph = capture_graph(non_scalar_root().roots)
    root = graph.node(graph.roots[0])
    assert root.tensor is not None and root.tensor.shape == (3, 2)
    (edge,) = graph.in_edges(root.id)
    assert edge.grad is not None and edge.grad.shape == (3, 2)


def test_square_has_two_edges_from_one_leaf() -> None:
    graph = capture_graph(square().roots)
    (mul,) = nodes_named(graph, "MulBackward0")
    (leaf,) = nodes_named(graph, "AccumulateGrad")
    edges = graph.in_edges(mul)
    assert [(e.source, e.input_index) for e in edges] == [(leaf, 0), (leaf, 1)]


def test_multi_output_op_edges_carry_output_nr() -> None:
    graph = capture_graph(multi_output_op().roots)
    (split,) = nodes_named(graph, "SplitBackward0")
    assert sorted(e.output_nr for e in graph.out_edges(split)) == [0, 1]
