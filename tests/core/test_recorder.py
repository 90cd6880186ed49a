"""The forward recorder: op names, module paths, source lines, leaf names, values."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from core_helpers import nodes_named
from torch import nn

from graphviz_app.core.autograd.capture import CaptureOptions, capture_graph
from graphviz_app.core.autograd.forward import ForwardRun, forward_and_capture
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import AutogradGraph, Node, NodeKind, TensorInfo

SOURCE_TAG = "# @" + "src:"  # split so that this line is not a marker itself


def marker_line(tag: str) -> int:
    """The 1-based line of this file that ends with the marker comment for ``tag``."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    (found,) = [i for i, line in enumerate(lines, 1) if line.endswith(SOURCE_TAG + tag)]
    return found


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.inner = nn.Sequential(nn.Conv2d(3, 3, 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x)  # @src:conv1
        return self.inner(h) + h  # @src:skip


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.fc1 = nn.Linear(3 * 4 * 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block(x).flatten(1)  # @src:flatten
        return self.fc1(h)  # @src:fc1


def run_net(options: CaptureOptions | None = None) -> ForwardRun:
    x = torch.randn(2, 2, 4, 4, requires_grad=True)
    return forward_and_capture(Net(), (x,), options=options)


@pytest.fixture(scope="module")
def run() -> ForwardRun:
    torch.manual_seed(0)
    return run_net()


def only(graph: AutogradGraph, name: str, module: str | None = None) -> Node:
    """The one node called ``name`` (and in ``module`` when given)."""
    found = [graph.node(i) for i in nodes_named(graph, name)]
    if module is not None:
        found = [n for n in found if n.module == module]
    assert len(found) == 1, f"{name} in {module}: {[(n.id, n.module) for n in found]}"
    return found[0]


def leaf(graph: AutogradGraph, leaf_name: str) -> Node:
    (node,) = [n for n in graph.nodes if n.leaf_name == leaf_name]
    return node


@pytest.mark.parametrize(
    ("name", "module", "op", "tag"),
    [
        ("ConvolutionBackward0", "block.conv1", "conv2d", "conv1"),
        ("ConvolutionBackward0", "block.inner.0", "conv2d", "skip"),
        ("ReluBackward0", "block.inner.1", "relu", "skip"),
        ("AddBackward0", "block", "add", "skip"),
        ("ViewBackward0", "", "flatten", "flatten"),  # "" is the root model itself
        ("AddmmBackward0", "fc1", "linear", "fc1"),
    ],
)
def test_module_op_and_source(run: ForwardRun, name: str, module: str, op: str, tag: str) -> None:
    node = only(run.graph, name, module)
    assert node.op == op
    assert node.module_inferred is False
    assert node.source is not None
    assert node.source.file == __file__
    assert node.source.line == marker_line(tag)
    assert node.source.function == "forward"
    assert node.source.text.endswith(SOURCE_TAG + tag)


def test_first_conv_reads_the_input(run: ForwardRun) -> None:
    conv = only(run.graph, "ConvolutionBackward0", "block.conv1")
    sources = {run.graph.node(e.source).leaf_name for e in run.graph.in_edges(conv.id)}
    assert sources == {"x", "block.conv1.weight", "block.conv1.bias"}


def test_composite_inner_node_inherits_module(run: ForwardRun) -> None:
    # F.linear runs addmm and t in C++: only its output node is seen by the mode.
    node = only(run.graph, "TBackward0")
    assert node.module == "fc1"
    assert node.module_inferred is True
    assert node.op is None and node.source is None
    (consumer,) = run.graph.out_edges(node.id)
    assert run.graph.node(consumer.target).name == "AddmmBackward0"


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("fc1.weight", "fc1"),
        ("fc1.bias", "fc1"),
        ("block.conv1.weight", "block.conv1"),
        ("block.inner.0.bias", "block.inner.0"),
    ],
)
def test_parameter_leaves_are_named(run: ForwardRun, name: str, module: str) -> None:
    node = leaf(run.graph, name)
    assert node.kind is NodeKind.PARAMETER
    assert node.name == "AccumulateGrad"
    assert node.module == module
    assert node.tensor is not None and node.tensor.requires_grad


def test_every_parameter_is_a_leaf(run: ForwardRun) -> None:
    params = {n.leaf_name for n in run.graph.nodes if n.kind is NodeKind.PARAMETER}
    assert params == {name for name, _ in Net().named_parameters()}


def test_forward_input_is_named_x(run: ForwardRun) -> None:
    node = leaf(run.graph, "x")
    assert node.kind is NodeKind.INPUT
    assert node.tensor is not None and node.tensor.shape == (2, 2, 4, 4)


def test_capture_graph_names_inputs() -> None:
    x = torch.randn(3, requires_grad=True)
    other = torch.randn(3, requires_grad=True)
    graph = capture_graph((x * other).sum(), inputs={"x": x})
    leaves = {n.leaf_name: n.kind for n in graph.nodes if n.is_leaf}
    assert leaves == {"x": NodeKind.INPUT, None: NodeKind.INPUT}


def test_unnamed_parameter_is_still_a_parameter() -> None:
    weight = nn.Parameter(torch.randn(3))
    graph = capture_graph((weight * 2).sum())
    node = only(graph, "AccumulateGrad")
    assert node.kind is NodeKind.PARAMETER and node.leaf_name is None


def test_several_inputs_are_numbered() -> None:
    model = nn.Bilinear(2, 3, 4)
    a, b = torch.randn(5, 2, requires_grad=True), torch.randn(5, 3, requires_grad=True)
    graph = forward_and_capture(model, (a, b)).graph
    assert {n.leaf_name for n in graph.nodes if n.kind is NodeKind.INPUT} == {"input0", "input1"}


def _in_place_add(a: torch.Tensor) -> torch.Tensor:
    return a.add_(1)


def _in_place_on_view(a: torch.Tensor) -> torch.Tensor:
    a[0].mul_(2)
    return a


def _augmented_item_assignment(a: torch.Tensor) -> torch.Tensor:
    a[:2] *= 2  # mul_ on a view, then __setitem__ writes the view back: two CopySlices
    return a.t()  # a later view must not label the second CopySlices


@pytest.mark.parametrize(
    ("forward", "name", "op"),
    [
        (lambda a: a + a, "AddBackward0", "add"),
        (lambda a: a * 3, "MulBackward0", "mul"),
        (lambda a: 1 - a, "RsubBackward1", "sub"),
        (lambda a: a @ a, "DotBackward0", "matmul"),
        (torch.relu, "ReluBackward0", "relu"),
        (_in_place_add, "AddBackward0", "add_"),
        (lambda a: operator.iadd(a, 1), "AddBackward0", "add_"),  # a += 1
        (_in_place_on_view, "CopySlices", "mul_"),
        (lambda a: a.view(3, 1).T, "PermuteBackward0", "T"),
    ],
    ids=["add", "mul", "rsub", "matmul", "relu", "add_", "iadd", "mul_ on view", "T"],
)
def test_forward_op_names(
    forward: Callable[[torch.Tensor], torch.Tensor], name: str, op: str
) -> None:
    a = torch.randn(3, requires_grad=True) * 1  # a non-leaf, so in-place ops are allowed
    with ForwardRecorder():
        result = forward(a)
    graph = capture_graph(result)
    node = graph.node(graph.in_edges("n0")[0].source)
    assert node.name == name
    assert node.op == op


def test_item_assignment_labels_its_own_copy_slices() -> None:
    a = torch.randn(3, requires_grad=True) * 1
    with ForwardRecorder():
        result = _augmented_item_assignment(a)
    graph = capture_graph(result)
    copies = [n for n in graph.nodes if n.name == "CopySlices"]
    assert sorted(str(n.op) for n in copies) == ["mul_", "setitem"]
    assert only(graph, "TBackward0").op == "t"


def test_nodes_made_before_recording_stay_unannotated() -> None:
    # ForwardRecorder annotates "autograd nodes created while it is active".
    early = torch.randn(6, requires_grad=True) * 2
    with ForwardRecorder():
        late = early.view(2, 3).sum()
    graph = capture_graph(late)
    mul = only(graph, "MulBackward0")
    assert (mul.op, mul.source) == (None, None)
    assert only(graph, "ViewBackward0").op == "view"


class Double(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x * 2

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad * 2


def test_custom_function_is_not_labelled_by_a_later_view() -> None:
    # Function.apply is not a torch function, so the mode never sees it; a view of
    # its output must not tag the custom node as the view op.
    x = torch.randn(2, 3, requires_grad=True)
    with ForwardRecorder():
        doubled = Double.apply(x)
        flat = doubled.view(6)  # @src:view-of-custom
    custom = only(capture_graph(flat), "DoubleBackward")
    assert custom.op != "view"
    assert custom.source is None or custom.source.line != marker_line("view-of-custom")


def test_view_node_points_at_its_base() -> None:
    x = torch.randn(6, requires_grad=True)
    with ForwardRecorder():
        base = x * 2
        view = base.view(2, 3)
    graph = capture_graph(view)
    view_node = only(graph, "ViewBackward0")
    assert view_node.view_base == only(graph, "MulBackward0").id


def test_recorder_without_model_names_modules_by_type() -> None:
    layer = nn.Linear(3, 2)
    with ForwardRecorder():
        out = layer(torch.randn(1, 3))
    assert only(capture_graph(out), "AddmmBackward0").module == "Linear"


def test_recorder_leaves_outputs_unchanged() -> None:
    model, x = Net(), torch.randn(2, 2, 4, 4)
    with ForwardRecorder(model):
        recorded = model(x)
    assert torch.equal(recorded, model(x))


def _assert_stats_match(info: TensorInfo | None, tensor: torch.Tensor) -> None:
    assert info is not None and info.stats is not None
    t = tensor.detach().double()
    stats = info.stats
    assert stats.numel == t.numel()
    assert stats.min == pytest.approx(float(t.min()), rel=1e-6)
    assert stats.max == pytest.approx(float(t.max()), rel=1e-6)
    assert stats.mean == pytest.approx(float(t.mean()), rel=1e-5, abs=1e-7)
    assert stats.std == pytest.approx(float(t.std()), rel=1e-5)
    assert stats.norm == pytest.approx(float(t.norm()), rel=1e-6)
    assert (stats.nan_count, stats.inf_count) == (0, 0)


def test_output_stats_equal_torch(run: ForwardRun) -> None:
    (out,) = run.outputs
    _assert_stats_match(run.graph.node("n0").tensor, out)
    addmm = only(run.graph, "AddmmBackward0")  # the op that produced the output
    _assert_stats_match(addmm.tensor, out)


def test_parameter_stats_equal_torch(run: ForwardRun) -> None:
    model_weight = leaf(run.graph, "fc1.weight").tensor
    assert model_weight is not None and model_weight.shape == (5, 48)
    assert model_weight.stats is not None and model_weight.stats.numel == 240


def test_nan_and_inf_are_counted() -> None:
    nan, inf = math.nan, math.inf
    x = torch.tensor([1.0, nan, inf, -inf, 2.0, 3.0], requires_grad=True)
    graph = capture_graph(x * 1)
    info = graph.node("n0").tensor
    assert info is not None and info.stats is not None
    stats = info.stats
    assert (stats.numel, stats.nan_count, stats.inf_count) == (6, 1, 2)
    assert (stats.min, stats.max, stats.mean) == (1.0, 3.0, 2.0)
    assert stats.has_non_finite


def test_preview_is_bounded() -> None:
    x = torch.arange(1000.0, requires_grad=True)
    graph = capture_graph(x * 2, options=CaptureOptions(preview_limit=10))
    info = graph.node("n0").tensor
    assert info is not None
    assert info.preview == tuple(2.0 * i for i in range(10))
    assert info.preview_truncated


def test_small_tensor_preview_is_whole() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    info = capture_graph(x + 1).node("n0").tensor
    assert info is not None
    assert info.preview == (2.0, 3.0, 4.0, 5.0) and not info.preview_truncated


def _all_infos(graph: AutogradGraph) -> list[TensorInfo]:
    infos = [n.tensor for n in graph.nodes if n.tensor is not None]
    infos += [s.tensor for n in graph.nodes for s in n.saved if s.tensor is not None]
    return infos


def test_recorder_previews_are_bounded() -> None:
    infos = _all_infos(run_net(CaptureOptions(preview_limit=7)).graph)
    assert len(infos) > 10
    assert max(len(i.preview) for i in infos) == 7
    assert all(i.preview_truncated == (math.prod(i.shape) > 7) for i in infos)


def test_meta_device_capture_has_no_values(run: ForwardRun) -> None:
    with torch.device("meta"):
        model = Net()
        x = torch.randn(2, 2, 4, 4, requires_grad=True)
    graph = forward_and_capture(model, (x,)).graph
    infos = _all_infos(graph)
    assert len(infos) > 10
    assert {i.device for i in infos} == {"meta"}
    assert all(i.stats is None and i.preview == () for i in infos)
    assert graph.structure_key() == run.graph.structure_key()


def test_an_all_torch_sequential_has_no_source_line_inside_the_app() -> None:
    # nn.Sequential of torch layers: no frame of the user's runs the ops, and the app's
    # own files (session.py calling forward) must not be offered as "the user's line".
    import graphviz_app
    from graphviz_app.io.builtin import resolve_model
    from graphviz_app.session import ModelSession

    session = ModelSession()
    session.load(resolve_model("train_vs_eval"))
    graph = session.forward()
    package = Path(graphviz_app.__file__).parent
    models = package.parent / "models"
    for node in graph.nodes:
        if node.source is not None:
            source = Path(node.source.file)
            assert package not in source.parents or models in source.parents, node.source
