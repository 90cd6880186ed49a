"""Every built-in model opens, runs backward, trains, exports, and its lesson's links exist."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import torch

from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.trainer import TrainSettings
from graphviz_app.io.builtin import list_builtin_models, resolve_model
from graphviz_app.io.export import render, write_atomic
from graphviz_app.io.model_file import load_model_file
from graphviz_app.session import ModelSession

NODE_LINK = re.compile(r"\(node:([^)]+)\)")
MODELS = [entry.name for entry in list_builtin_models()]
SVG_NS = "{http://www.w3.org/2000/svg}"
LR = 0.01
#: Its lesson: backward makes NaN, so one SGD step writes NaN into the weights.
NAN_ON_PURPOSE = {"nan_in_backward"}


def test_the_teaching_models_of_the_issue_are_all_built_in() -> None:
    expected = {
        "autograd_basics",
        "two_layer_four_ways",
        "dynamic_net",
        "cifar_cnn",
        "fashion_mlp",
        "cross_entropy_vs_nll",
        "views_inplace",
        "inplace_error",
        "no_grad_detach",
        "leaf_vs_nonleaf",
        "train_vs_eval",
        "lstm_cells",
        "gradient_check",
        "transformer_block",
    }
    assert expected <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_a_builtin_model_captures_and_backpropagates(name: str) -> None:
    loaded = load_model_file(resolve_model(name))
    run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    trace = record_backward(run.walk)
    assert len(trace.steps) == len(run.walk.fns)
    for param_name, param in loaded.model.named_parameters():
        step = next(
            (s for s in trace.steps if run.graph.node(s.node_id).leaf_name == param_name), None
        )
        if param.grad is None:
            assert step is None  # cut off by no_grad/detach: no node, no gradient
        else:
            assert step is not None and step.leaf_grad_after is not None
            assert step.leaf_grad_after.stats.norm == pytest.approx(
                float(torch.linalg.vector_norm(param.grad)), rel=1e-5, nan_ok=True
            )


@pytest.mark.parametrize("name", MODELS)
def test_every_lesson_link_names_a_node_of_the_graph(name: str) -> None:
    loaded = load_model_file(resolve_model(name))
    graph = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn).graph
    titles = {n.leaf_name for n in graph.nodes} | {n.name for n in graph.nodes}
    links = NODE_LINK.findall(loaded.doc)
    assert links, f"{name}'s lesson links to no node"
    assert set(links) <= titles, f"{name}: no node called {set(links) - titles}"


@pytest.mark.parametrize("name", MODELS)
def test_a_builtin_model_trains_three_sgd_steps_and_exports_svg(name: str, tmp_path: Path) -> None:
    session = ModelSession()
    session.load(resolve_model(name))
    settings = TrainSettings("SGD", lr=LR)
    records = [session.train_step(settings, GraphStyle())[2] for _ in range(3)]
    assert [r.step for r in records] == [1, 2, 3]
    for record in records:
        assert math.isfinite(record.loss) or (name in NAN_ON_PURPOSE and record.step > 1)
        for update in record.params:  # plain SGD moves each weight by exactly lr * grad
            expected = pytest.approx(LR * update.grad_norm, rel=1e-3, abs=1e-7, nan_ok=True)
            assert update.update_norm == expected
    assert any(u.grad_norm != 0 for r in records for u in r.params), "no parameter was trained"
    picture = session.picture(GraphStyle())
    target = tmp_path / f"{name}.svg"
    write_atomic(target, render(picture.graph, picture.dot, "svg", session.engine))
    drawn = ElementTree.parse(target).getroot().iter(f"{SVG_NS}g")
    assert sum(1 for g in drawn if g.get("class") == "node") == len(picture.visible.nodes)
