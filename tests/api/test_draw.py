"""draw(): the graph of live tensors, everything the window draws, nothing of the
user's changed, and no tensor kept."""

from __future__ import annotations

import gc
import html
import json
import weakref
from pathlib import Path

import pytest
import torch
from core_helpers import our_sets, torchviz_sets
from torch import nn

import graphviz_app
from graphviz_app.core.autograd.capture import capture_walk
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.graph.walk import CaptureError, walk_autograd
from graphviz_app.core.layout.engine import GraphvizEngine


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def _cases() -> list[tuple[str, tuple[torch.Tensor, ...], dict[str, torch.Tensor]]]:
    net = Net()
    a, b = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    shared = nn.Linear(3, 3)
    base = torch.randn(4, requires_grad=True).clone()
    base[1:3] *= 2  # an in-place op on a view: CopySlices
    return [
        ("mlp", (net(torch.randn(5, 4)).sum(),), dict(net.named_parameters())),
        ("scalars", ((a * b + a).sum(),), {"a": a, "b": b}),
        ("two roots", (a.exp(), (a * b).sum()), {"a": a, "b": b}),
        ("shared", (shared(shared(torch.randn(2, 3))).sum(),), dict(shared.named_parameters())),
        ("copy slices", (base.sum(),), {}),
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_the_node_set_is_torchvizs(case) -> None:  # type: ignore[no-untyped-def]
    _, roots, params = case
    drawing = graphviz_app.draw(*roots, params=params)
    walk = walk_autograd(roots)
    fresh = capture_walk(walk, params)  # the same deterministic ids as the drawing's
    assert [(n.id, n.name) for n in drawing.graph.nodes] == [(n.id, n.name) for n in fresh.nodes]
    assert [(e.source, e.target) for e in drawing.graph.edges] == [
        (e.source, e.target) for e in fresh.edges
    ]
    ours, theirs = our_sets(walk, fresh), torchviz_sets(roots, params)
    assert ours.nodes == theirs.nodes and ours.edges == theirs.edges


def test_names_modules_shapes_and_clusters_like_the_window() -> None:
    net = Net()
    loss = net(torch.randn(5, 4)).pow(2).mean()
    drawing = graphviz_app.draw(loss, model=net)
    leaves = {n.leaf_name for n in drawing.graph.nodes if n.kind is NodeKind.PARAMETER}
    assert leaves == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    addmm = [n for n in drawing.graph.nodes if n.name == "AddmmBackward0"]
    assert {n.module for n in addmm} == {"fc1", "fc2"}
    assert all(n.tensor is not None for n in drawing.graph.nodes)  # shapes everywhere
    window = forward_and_capture(net, (torch.randn(5, 4),)).graph  # what the window draws
    assert {n.module for n in drawing.graph.nodes if n.module is not None} == {
        n.module for n in window.nodes if n.module is not None
    }  # the relu between fc1 and fc2 is in the model's own box ("") in both
    svg = drawing.svg
    assert svg.count('class="cluster"') == 3 and "fc1.weight</text>" in svg
    assert "(5, 8) float32</text>" in svg


CELL = """
import torch, graphviz_app
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(-3.0, requires_grad=True)
c = torch.tensor(10.0, requires_grad=True)
f = torch.tensor(-2.0, requires_grad=True)
drawing = graphviz_app.draw((a * b + c) * f, values=True)
"""


def test_leaves_are_named_like_the_variables_of_a_notebook_cell() -> None:
    namespace: dict[str, object] = {}
    exec(compile(CELL, "<cell>", "exec"), namespace)  # as a notebook runs a cell
    drawing = namespace["drawing"]
    assert isinstance(drawing, graphviz_app.Drawing)
    assert {n.leaf_name for n in drawing.graph.nodes if n.is_leaf} == {"a", "b", "c", "f"}
    assert "mean -8 norm 8" in html.unescape(drawing.svg)  # values=True: the output is -8


def test_nothing_of_the_users_state_changes_and_the_graph_stays_usable() -> None:
    net = Net()
    x = torch.randn(5, 4)
    frozen = net.fc1.bias
    frozen.requires_grad_(False)
    loss = net(x).pow(2).mean()
    before = {n: p.requires_grad for n, p in net.named_parameters()}
    drawing = graphviz_app.draw(loss, model=net, grads=True)
    assert {n: p.requires_grad for n, p in net.named_parameters()} == before
    assert all(p.grad is None for p in net.parameters())
    assert "grad (8, 4) |g|=" in drawing.svg  # each node's incoming gradient
    loss.backward()  # the graph is intact: torch's own backward still runs
    expected = torch.autograd.grad(net(x).pow(2).mean(), net.fc1.weight)[0]
    assert torch.allclose(net.fc1.weight.grad, expected)


def test_saved_tensors_are_freed_once_the_users_references_are_gone() -> None:
    w = torch.randn(50, 50, requires_grad=True)
    hidden = (w @ w).tanh()  # saved by TanhBackward0 (its result)
    loss = hidden.sum()
    watcher = weakref.ref(hidden)
    drawing = graphviz_app.draw(loss, grads=True, values=True)
    del hidden, loss
    gc.collect()
    assert watcher() is None, "the drawing kept the graph alive"
    assert drawing.graph.nodes and "TanhBackward0" in drawing.svg


def test_nan_and_inf_are_marked_even_without_values() -> None:
    x = torch.tensor([4.0, -1.0, 0.0], requires_grad=True)
    roots = x.sqrt()  # NaN at -1; the root itself holds it
    drawing = graphviz_app.draw((roots * 2).sum(), params={"x": x})
    text = html.unescape(drawing.svg)
    assert "!! 1 NaN, 0 Inf" in text and "mean" not in text  # no value lines asked for
    sqrt = next(n for n in drawing.graph.nodes if n.name == "SqrtBackward0")
    assert sqrt.tensor is not None and sqrt.tensor.stats.nan_count == 1


@pytest.mark.parametrize("first", ["svg", "graph"])
def test_a_parameter_holding_nan_is_marked_in_the_graph_and_the_picture(first: str) -> None:
    """Parameters are checked on a thread while the picture is laid out: a NaN or an
    Inf found there still marks the parameter in the graph and in the picture (laid
    out again with the longer labels), whichever is asked for first."""
    net = Net()
    with torch.no_grad():
        net.fc2.weight[0, 0] = float("nan")
        net.fc1.bias[1] = float("inf")
    drawing = graphviz_app.draw(net(torch.randn(5, 4)).sum(), model=net)
    text = html.unescape(drawing.svg) if first == "svg" else ""
    marked = {
        n.leaf_name or f"{n.name} {n.module}": (n.tensor.stats.nan_count, n.tensor.stats.inf_count)
        for n in drawing.graph.nodes
        if n.tensor is not None and n.tensor.stats is not None
    }
    assert marked["fc2.weight"] == (1, 0) and marked["fc1.bias"] == (0, 1)
    assert "fc1.weight" not in marked and "fc2.bias" not in marked
    text = text or html.unescape(drawing.svg)
    assert "!! 1 NaN, 0 Inf" in text and "!! 0 NaN, 1 Inf" in text


def test_a_view_of_a_parameter_holding_nan_is_marked_too() -> None:
    w = torch.randn(3, 4, requires_grad=True)
    x = torch.randn(4, 3, requires_grad=True)
    with torch.no_grad():
        w[0, 0] = float("nan")
    drawing = graphviz_app.draw((w.t() * x).sum(), params={"w": w, "x": x})
    t = next(n for n in drawing.graph.nodes if n.name == "TBackward0")  # w.t(), saved by mul
    assert t.tensor is not None and t.tensor.stats is not None and t.tensor.stats.nan_count == 1
    clean = torch.randn(3, 4, requires_grad=True)
    drawing = graphviz_app.draw((clean.t() * x).sum(), params={"w": clean, "x": x})
    t = next(n for n in drawing.graph.nodes if n.name == "TBackward0")
    assert t.tensor is not None and t.tensor.stats is None and t.tensor.shape == (4, 3)


def test_depth_collapses_modules_and_rankdir_is_passed_on() -> None:
    net = Net()
    loss = net(torch.randn(2, 4)).sum()
    whole = graphviz_app.draw(loss, model=net, depth=0, rankdir="LR")
    assert "rankdir=LR" in whole.dot
    kinds = [n.kind for n in whole.graph.nodes]
    assert NodeKind.PARAMETER in kinds  # .graph is everything captured
    assert "the whole model" in whole.dot and "fc1.weight" not in whole.dot
    assert whole.dot.count("[label=") == 3  # output, SumBackward0, the model
    children = graphviz_app.draw(loss, model=net, depth=1)
    assert "fc1 (Linear)" in children.dot and "fc2 (Linear)" in children.dot
    with pytest.raises(ValueError, match="rankdir"):
        graphviz_app.draw(loss, rankdir="sideways")


def test_save_writes_every_format_and_svg_is_one_graphviz_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runs: list[str] = []
    real = GraphvizEngine.run

    def counted(self, dot_text, fmt, *args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(fmt)
        return real(self, dot_text, fmt, *args, **kwargs)

    monkeypatch.setattr(GraphvizEngine, "run", counted)
    a = torch.randn(3, requires_grad=True)
    drawing = graphviz_app.draw((a * 2).sum())
    assert runs == []  # nothing is laid out until asked for
    drawing.save(tmp_path / "g.svg")
    assert runs == ["json0"]  # the layout; the SVG is drawn from it (issue 19)
    bundle = drawing._repr_mimebundle_()
    assert bundle["image/svg+xml"].startswith("<svg") and runs == ["json0"]
    drawing.save(tmp_path / "g.png")
    drawing.save(tmp_path / "g.dot")
    drawing.save(tmp_path / "g.json")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "g.dot").read_text() == drawing.dot
    assert len(json.loads((tmp_path / "g.json").read_text())["nodes"]) == len(drawing.graph.nodes)


def test_pdf_is_drawn_from_the_same_svg(tmp_path: Path) -> None:
    pytest.importorskip("PySide6", reason="PDF is drawn by Qt's SVG renderer")
    a = torch.randn(3, requires_grad=True)
    path = graphviz_app.draw((a * 2).sum()).save(tmp_path / "g.pdf")
    assert path.read_bytes()[:5] == b"%PDF-"


def test_bad_input_gets_a_clear_message() -> None:
    with pytest.raises(ValueError, match="nothing to draw"):
        graphviz_app.draw()
    with pytest.raises(TypeError, match="model's output"):
        graphviz_app.draw(Net())
    with pytest.raises(CaptureError, match="leaf tensor"):
        graphviz_app.draw(torch.randn(2, requires_grad=True))
    with pytest.raises(TypeError, match=r"nn\.Module"):
        graphviz_app.draw(torch.randn(2, requires_grad=True) * 2, model="net")  # type: ignore[arg-type]
