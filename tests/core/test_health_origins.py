"""Where the first NaN and Inf of backward start: torch's anomaly mode is the oracle.

``torch.autograd.detect_anomaly`` stops at the first node whose backward returned NaN
and prints the forward line that made it; the report must name the same node and line.
Anomaly mode says nothing about Inf: there, torch.autograd.grad on the tensors around
the node shows that a finite gradient went in and an infinite one came out.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.autograd.chain_rule import explain_step
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.health.check import diagnose
from graphviz_app.core.health.report import HealthReport
from graphviz_app.core.layout.style import (
    NON_FINITE_COLOR,
    GraphStyle,
    grad_fills,
    node_label_lines,
    value_line,
)
from graphviz_app.core.stepping.state import edge_labels, grad_marks, step_caption

Fn = Callable[[torch.Tensor], torch.Tensor]


class Scaled(nn.Module):
    """``fn(x * w)`` with a learnable ``w`` of ones."""

    def __init__(self, fn: Fn, dtype: torch.dtype) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(4, dtype=dtype))
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x * self.w)


def sqrt_at_zero(h: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((h * h).sum())  # a norm at 0: forward 0, backward inf then NaN


def log_of_zero(h: torch.Tensor) -> torch.Tensor:
    return torch.where(h > 0, torch.log(h), torch.zeros_like(h)).sum()


def divide_by_zero(h: torch.Tensor) -> torch.Tensor:
    return torch.where(h != 0, 3.0 / h, torch.zeros_like(h)).sum()


def exp_overflow(limit: float) -> Fn:
    def fn(h: torch.Tensor) -> torch.Tensor:
        return torch.where(h < limit, torch.exp(h), h).sum()

    return fn


@dataclass(frozen=True)
class Case:
    fn: Fn
    x: tuple[float, ...]
    dtype: torch.dtype = torch.float32

    def inputs(self) -> torch.Tensor:
        return torch.tensor(self.x, dtype=self.dtype)


CASES = {
    "sqrt at 0": Case(sqrt_at_zero, (0.0, 0.0, 0.0, 0.0)),
    "log of 0": Case(log_of_zero, (0.0, 1.0, 2.0, 0.0)),
    "division by zero": Case(divide_by_zero, (0.0, 1.0, 2.0, 0.0)),
    "exp overflow, float32": Case(exp_overflow(50.0), (1.0, 100.0, 2.0, 0.0)),
    "exp overflow, float16": Case(exp_overflow(10.0), (1.0, 12.0, 2.0, 0.0), torch.float16),
    "sqrt at 0, float64": Case(sqrt_at_zero, (0.0, 0.0, 0.0, 0.0), torch.float64),
}


def report_for(case: Case) -> HealthReport:
    model = Scaled(case.fn, case.dtype)
    run = forward_and_capture(model, (case.inputs(),), lambda out, x: out)
    assert torch.isfinite(run.roots[0]).all(), "the forward must look fine"
    return diagnose(run, model, "case").report


def anomaly_says(case: Case) -> tuple[str, int]:
    """The node anomaly mode names, and the line of this file its forward traceback ends at."""
    model = Scaled(case.fn, case.dtype)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.autograd.set_detect_anomaly(True):
            loss = model(case.inputs())
            with pytest.raises(RuntimeError, match="returned nan values") as raised:
                loss.backward()
    node = re.search(r"Function '(\w+)' returned nan", str(raised.value))
    trace = next(str(w.message) for w in caught if "Traceback of forward call" in str(w.message))
    lines = re.findall(rf'File "{re.escape(__file__)}", line (\d+)', trace)
    assert node is not None and lines
    return node.group(1), int(lines[-1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_first_nan_is_the_node_and_line_anomaly_mode_names(name: str) -> None:
    case = CASES[name]
    report = report_for(case)
    node, line = anomaly_says(case)
    assert report.first_nan is not None
    assert report.first_nan.node == node
    assert report.first_nan.source is not None
    assert (report.first_nan.source.file, report.first_nan.source.line) == (__file__, line)
    assert not report.healthy
    assert report.forward_origin is None  # the loss itself is finite


def test_sqrt_at_zero_makes_the_inf_and_the_next_mul_the_nan() -> None:
    report = report_for(CASES["sqrt at 0"])
    assert report.first_inf is not None and report.first_nan is not None
    assert report.first_inf.node == "SqrtBackward0"
    assert report.first_nan.node == "MulBackward0"
    assert report.first_inf.index < report.first_nan.index
    assert "infinite at x = 0" in report.first_inf.cause
    assert report.first_nan.cause.startswith("inf x 0")


def test_torch_agrees_that_sqrt_turned_a_finite_gradient_into_inf() -> None:
    h = torch.zeros(4, requires_grad=True)
    squared = (h * h).sum()
    root = torch.sqrt(squared)
    into_sqrt, out_of_sqrt = torch.autograd.grad(root, [root, squared], retain_graph=True)
    assert torch.isfinite(into_sqrt).all() and torch.isinf(out_of_sqrt).all()
    report = report_for(CASES["sqrt at 0"])
    assert report.first_inf is not None
    assert report.first_inf.received == "[1]" and report.first_inf.sent == "[inf]"


def test_a_forward_overflow_hidden_by_where_is_named_as_the_cause() -> None:
    report = report_for(CASES["exp overflow, float16"])
    assert report.first_nan is not None and report.first_nan.node == "ExpBackward0"
    assert "forward values already hold" in report.first_nan.cause
    assert report.first_inf is None  # the Inf was made in forward, not by backward


def test_a_nan_loss_names_the_first_forward_op_that_made_it() -> None:
    model = Scaled(lambda h: torch.log(h - 1.0).sum(), torch.float32)
    run = forward_and_capture(model, (torch.zeros(4),), lambda out, x: out)
    report = diagnose(run, model, "nan loss").report
    assert report.forward_origin is not None
    assert report.forward_origin.node == "LogBackward0" and report.forward_origin.kind == "nan"
    assert report.forward_origin.op == "log"


def test_healthy_arithmetic_reports_no_origin() -> None:
    report = report_for(Case(lambda h: (h * h).sum(), (1.0, 2.0, 3.0, 4.0)))
    assert report.first_inf is None and report.first_nan is None and report.healthy


def test_the_chain_rule_panel_shows_inf_times_zero_where_the_nan_starts() -> None:
    model = Scaled(sqrt_at_zero, torch.float32)
    run = forward_and_capture(model, (torch.zeros(4),), lambda out, x: out)
    trace = record_backward(run.walk)
    mul = next(s for s in trace.steps if run.graph.node(s.node_id).name == "MulBackward0")
    lines = explain_step(run.graph.node(mul.node_id), mul).lines
    product = "input 0: grad x other = [inf, inf, inf, inf] x [0, 0, 0, 0] = [nan, nan, nan, nan]"
    assert product in lines
    assert "  inf x 0 = nan: the NaN starts here" in lines
    sqrt = next(s for s in trace.steps if run.graph.node(s.node_id).name == "SqrtBackward0")
    sqrt_lines = explain_step(run.graph.node(sqrt.node_id), sqrt).lines
    assert "input 0: grad / (2 x result) = [1] / [0] = [inf]" in sqrt_lines
    assert "  1 / 0 = inf: the Inf starts here" in sqrt_lines


def test_nodes_that_received_nan_or_inf_are_filled_red_when_colouring_by_gradient() -> None:
    model = Scaled(sqrt_at_zero, torch.float32)
    run = forward_and_capture(model, (torch.zeros(4),), lambda out, x: out)
    trace = record_backward(run.walk)
    by_name = {run.graph.node(s.node_id).name: s.node_id for s in trace.steps}
    norms = trace.grad_norms()
    assert norms[by_name["SqrtBackward0"]] == 1.0  # it received the seed
    assert math.isinf(norms[by_name["SumBackward0"]])  # it received sqrt's inf
    assert math.isnan(norms[by_name["AccumulateGrad"]])  # w's gradient is NaN
    fills = grad_fills(norms)
    assert fills[by_name["SumBackward0"]] == fills[by_name["AccumulateGrad"]] == NON_FINITE_COLOR


class SqrtOfZeros(nn.Module):
    """A (16, 16) output whose backward goes Inf (sqrt at 0) then NaN (x 0), and a
    forward value that is NaN (log of -1)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 16, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return torch.sqrt(h * 0) + torch.log(-h * h - 1).nan_to_num() * 0


def test_nan_and_inf_counts_read_the_same_everywhere() -> None:
    """``--grads`` labels, the stepper's edge labels and captions, node labels and the
    report all say ``256 NaN, 0 Inf`` (``export --grads`` said ``NaN 256 Inf 0``)."""
    model = SqrtOfZeros()
    run = forward_and_capture(model, (torch.ones(16, 4),), lambda out, x: out.sum())
    trace = record_backward(run.walk)
    texts = list(grad_marks(trace, run.graph)[1].values())
    for step in trace.steps:
        texts += [text for _, text in edge_labels(run.graph, step)]
        texts.append(step_caption(run.graph, step, len(trace.steps)))
    log = next(n for n in run.graph.nodes if n.name == "LogBackward0")
    assert log.tensor is not None
    texts += [value_line(log.tensor), *node_label_lines(log, GraphStyle())]
    counted = [t for t in texts if "NaN" in t or "Inf" in t]
    assert any("256 NaN, 0 Inf" in t for t in counted), texts
    assert any("0 NaN, 256 Inf" in t for t in counted), texts
    assert not any(re.search(r"(NaN|Inf) \d", t) for t in counted), counted
    report = diagnose(forward_and_capture(model, (torch.ones(16, 4),)), model, "m").report
    assert report.first_nan is not None and "256 NaN, 0 Inf" in report.first_nan.sent
