"""Backward-of-backward nodes: what ``create_graph=True`` adds to a graph is marked.

The oracle is the autograd graph itself: the nodes a create_graph backward made are
those reachable from the gradient it returned and not from the outputs it
differentiated. The capture must mark exactly those (and nothing in a plain graph).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.capture import capture_walk
from graphviz_app.core.autograd.intercept import intercept_backward
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import (
    AutogradNode,
    AutogradWalk,
    reachable_nodes,
    walk_autograd,
)
from graphviz_app.core.layout.dot import to_dot
from graphviz_app.core.layout.style import GraphStyle, node_label_lines


def critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))


def marked(build: Callable[[], tuple[torch.Tensor, set[AutogradNode]]], order: int = 2) -> None:
    """Run ``build`` under the recorder; its loss's graph must mark exactly the expected
    nodes (reachable from the loss) with ``order``."""
    with ForwardRecorder():
        loss, expected = build()
    walk = walk_autograd([loss])
    graph = capture_walk(walk)
    found = {fn for i, fn in enumerate(walk.fns) if _order(graph, walk, i) == order}
    assert found, "nothing was marked"
    assert found == expected & set(walk.fns)


def _order(graph: AutogradGraph, walk: AutogradWalk, index: int) -> int:
    return graph.node(walk.fn_id(index)).grad_order


def test_a_gradient_penalty_marks_the_nodes_its_gradient_made() -> None:
    model = critic()
    x = torch.randn(3, 2, requires_grad=True)

    def build() -> tuple[torch.Tensor, set[AutogradNode]]:
        score = model(x)
        (grad_x,) = torch.autograd.grad(score.sum(), x, create_graph=True)
        made = reachable_nodes([grad_x.grad_fn]) - reachable_nodes([score.grad_fn])
        return score.mean() + ((grad_x.norm(dim=1) - 1) ** 2).mean(), made

    marked(build)


def test_a_hessian_vector_product_marks_second_and_third_order() -> None:
    model = critic()
    x = torch.randn(3, 2, requires_grad=True)
    v = torch.randn(3, 2)
    orders: dict[int, set[AutogradNode]] = {}

    def build() -> tuple[torch.Tensor, set[AutogradNode]]:
        score = model(x).sum()
        (grad_x,) = torch.autograd.grad(score, x, create_graph=True)
        dot = (grad_x * v).sum()
        (hv,) = torch.autograd.grad(dot, x, create_graph=True)
        orders[2] = reachable_nodes([grad_x.grad_fn]) - reachable_nodes([score.grad_fn])
        orders[3] = reachable_nodes([hv.grad_fn]) - reachable_nodes([dot.grad_fn])
        return (hv * hv).sum(), orders[3]

    marked(build, order=3)
    assert orders[2] and not orders[2] & orders[3]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_tensor_backward_with_create_graph_marks_what_it_put_in_grad() -> None:
    model = critic()
    x = torch.randn(3, 2, requires_grad=True)

    def build() -> tuple[torch.Tensor, set[AutogradNode]]:
        score = model(x).sum()
        score.backward(create_graph=True, inputs=[x])
        assert x.grad is not None
        made = reachable_nodes([x.grad.grad_fn]) - reachable_nodes([score.grad_fn])
        return x.grad.pow(2).sum(), made

    marked(build)


def test_marking_works_while_script_mode_intercepts_backward() -> None:
    model = critic()
    x = torch.randn(3, 2, requires_grad=True)

    def build() -> tuple[torch.Tensor, set[AutogradNode]]:
        with intercept_backward(lambda call: call.call()):
            score = model(x)
            (grad_x,) = torch.autograd.grad(score.sum(), x, create_graph=True)
        made = reachable_nodes([grad_x.grad_fn]) - reachable_nodes([score.grad_fn])
        return grad_x.pow(2).sum(), made

    marked(build)


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_plain_graph_has_no_higher_order_node(create_graph: bool) -> None:
    model = critic()
    x = torch.randn(3, 2, requires_grad=True)
    with ForwardRecorder():
        score = model(x)
        torch.autograd.grad(score.sum(), x, create_graph=create_graph)
        loss = score.mean()
    graph = capture_walk(walk_autograd([loss]))
    assert {n.grad_order for n in graph.nodes} == {1}


def test_marked_nodes_say_so_in_their_label_and_get_a_double_border() -> None:
    model = critic()
    x = torch.randn(3, 2, requires_grad=True)
    with ForwardRecorder():
        score = model(x)
        (grad_x,) = torch.autograd.grad(score.sum(), x, create_graph=True)
        loss = grad_x.pow(2).sum()
    graph = capture_walk(walk_autograd([loss]))
    second = [n for n in graph.nodes if n.grad_order == 2]
    assert "TanhBackwardBackward0" in {n.name for n in second}
    style = GraphStyle()
    assert all("made by backward (order 2)" in node_label_lines(n, style) for n in second)
    dot = to_dot(graph, style)
    assert dot.count("peripheries=2") == len(second)
    assert all(n.source is not None for n in second)  # the line that called grad


def test_wrong_arguments_get_torchs_own_error() -> None:
    x = torch.randn(3, requires_grad=True)
    with ForwardRecorder(), pytest.raises(TypeError, match="grad\\(\\) got an unexpected"):
        torch.autograd.grad((x * 2).sum(), x, create_grahp=True)  # type: ignore[call-arg]
