"""Every built-in model opens, runs backward, and its lesson's node links exist."""

from __future__ import annotations

import re

import pytest
import torch

from graphviz_app.core.backward import record_backward
from graphviz_app.core.forward import forward_and_capture
from graphviz_app.io.builtin import list_builtin_models
from graphviz_app.io.model_file import load_model_file

NODE_LINK = re.compile(r"\(node:([^)]+)\)")
MODELS = [entry.name for entry in list_builtin_models()]


@pytest.mark.parametrize("name", MODELS)
def test_a_builtin_model_captures_and_backpropagates(name: str) -> None:
    loaded = load_model_file(next(e.path for e in list_builtin_models() if e.name == name))
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
                float(torch.linalg.vector_norm(param.grad)), rel=1e-5
            )


@pytest.mark.parametrize("name", MODELS)
def test_every_lesson_link_names_a_node_of_the_graph(name: str) -> None:
    loaded = load_model_file(next(e.path for e in list_builtin_models() if e.name == name))
    graph = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn).graph
    titles = {n.leaf_name for n in graph.nodes} | {n.name for n in graph.nodes}
    links = NODE_LINK.findall(loaded.doc)
    assert links, f"{name}'s lesson links to no node"
    assert set(links) <= titles, f"{name}: no node called {set(links) - titles}"
