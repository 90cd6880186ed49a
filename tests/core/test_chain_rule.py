"""The chain-rule panel's text: rules by op, and numbers that match torch."""

from __future__ import annotations

import torch

from graphviz_app.core.autograd.backward import BackwardTrace, record_backward
from graphviz_app.core.autograd.capture import capture_walk
from graphviz_app.core.autograd.chain_rule import CHAIN_RULE, RULES, explain_step, values_text
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import walk_autograd


def traced(a: torch.Tensor, b: torch.Tensor) -> tuple[AutogradGraph, BackwardTrace]:
    with ForwardRecorder():
        loss = (a * b).tanh().sum()
    walk = walk_autograd([loss])
    graph = capture_walk(walk, inputs={"a": a, "b": b})
    return graph, record_backward(walk)


def test_mul_shows_the_product_worked_out_with_torch_numbers() -> None:
    a = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([1.5, 0.25, -0.5], dtype=torch.float64, requires_grad=True)
    graph, trace = traced(a, b)
    mul = next(s for s in trace.steps if graph.node(s.node_id).name == "MulBackward0")
    rule = explain_step(graph.node(mul.node_id), mul)
    assert rule.rules == RULES["Mul"]
    upstream = torch.tensor(mul.grad_outputs[0].preview, dtype=torch.float64)
    expected_a = (upstream * b.detach()).tolist()
    line = next(x for x in rule.lines if x.startswith("input 0: grad x other"))
    assert line.endswith(values_text(mul.grad_inputs[0]))
    assert mul.grad_inputs[0].preview == tuple(expected_a)
    assert torch.allclose(a.grad, torch.tensor(expected_a, dtype=torch.float64))


def test_a_leaf_shows_grad_before_and_after() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    graph, trace = traced(a, b)
    leaf = next(s for s in trace.steps if graph.node(s.node_id).leaf_name == "a")
    lines = explain_step(graph.node(leaf.node_id), leaf).lines
    assert ".grad before = None" in lines
    assert f".grad after  = {values_text(leaf.leaf_grad_after)}" in lines
    assert leaf.leaf_grad_after.preview == tuple(a.grad.tolist())


def test_big_tensors_are_summarised_not_listed() -> None:
    a = torch.randn(50, requires_grad=True)
    b = torch.randn(50, requires_grad=True)
    graph, trace = traced(a, b)
    mul = next(s for s in trace.steps if graph.node(s.node_id).name == "MulBackward0")
    rule = explain_step(graph.node(mul.node_id), mul)
    assert not any(x.startswith("input 0: grad x") for x in rule.lines)
    assert any("(50) with norm" in x for x in rule.lines)


def test_an_unknown_op_gets_the_general_rule() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    with ForwardRecorder():
        loss = torch.special.erf(a).sum()
    walk = walk_autograd([loss])
    graph = capture_walk(walk)
    trace = record_backward(walk)
    erf = next(s for s in trace.steps if graph.node(s.node_id).name == "ErfBackward0")
    assert "not spelled out" in explain_step(graph.node(erf.node_id), erf).rules[0]


def _header_of(graph: AutogradGraph, trace: BackwardTrace, name: str) -> str:
    step = next(s for s in trace.steps if graph.node(s.node_id).name == name)
    return explain_step(graph.node(step.node_id), step).header


def test_the_header_fits_the_kind_of_node() -> None:
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with ForwardRecorder():
        loss = (a.t() * a).sum()
    walk = walk_autograd([loss])
    graph = capture_walk(walk, inputs={"a": a})
    trace = record_backward(walk)
    assert _header_of(graph, trace, "MulBackward0") == CHAIN_RULE
    accumulate = _header_of(graph, trace, "AccumulateGrad")
    assert ".grad +=" in accumulate and "local derivative" not in accumulate
    view = _header_of(graph, trace, "TBackward0")
    assert "shape" in view and "local derivative" not in view


def test_copy_slices_gets_its_own_header() -> None:
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with ForwardRecorder():
        b = a * 1.0
        b[:2].mul_(3.0)
        loss = b.sum()
    walk = walk_autograd([loss])
    graph = capture_walk(walk, inputs={"a": a})
    trace = record_backward(walk)
    assert "in-place" in _header_of(graph, trace, "CopySlices")
