"""Golden DOT text: the same model always gives the same DOT (ids, labels, clusters).

Regenerate after an intended change with ``python -m pytest tests/core/test_golden_dot.py
--regen-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.collapse import collapse_modules
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import to_dot
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file

GOLDEN = Path(__file__).parent / "golden"


def builtin_graph(name: str) -> AutogradGraph:
    loaded = load_model_file(resolve_model(name))
    return forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn).graph


def hostile_names_graph() -> AutogradGraph:
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module('we"ird{<name>} é', nn.Linear(3, 2))
    model.add_module("tail;->", nn.Tanh())
    return forward_and_capture(model, (torch.randn(1, 3),)).graph


CASES = {
    "two_layer_net_tb": lambda: to_dot(builtin_graph("two_layer_net")),
    "residual_cnn_lr": lambda: to_dot(builtin_graph("residual_cnn"), GraphStyle(rankdir="LR")),
    "residual_cnn_collapsed": lambda: to_dot(
        collapse_modules(builtin_graph("residual_cnn"), {"block"}), GraphStyle()
    ),
    "hostile_names": lambda: to_dot(hostile_names_graph()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dot_matches_golden(name: str, request: pytest.FixtureRequest) -> None:
    text = CASES[name]()
    path = GOLDEN / f"{name}.dot"
    if request.config.getoption("--regen-golden"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with --regen-golden"
    assert text == path.read_text(encoding="utf-8")


def test_dot_is_deterministic_across_captures() -> None:
    assert to_dot(builtin_graph("residual_cnn")) == to_dot(builtin_graph("residual_cnn"))
