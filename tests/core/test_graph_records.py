"""The graph records: networkx and JSON views, and the structure key."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from core_helpers import nodes_named
from torch import nn

from graphviz_app.core.autograd.capture import capture_graph
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph, NodeKind


def square_graph() -> AutogradGraph:
    x = torch.randn(3, requires_grad=True)
    return capture_graph(((x * x) + x).sum(), inputs={"x": x})


def mlp(extra_layer: bool = False) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)]
    if extra_layer:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def mlp_graph(model: nn.Module, seed: int) -> AutogradGraph:
    torch.manual_seed(seed)
    return forward_and_capture(model, (torch.randn(5, 4),), lambda out, x: out.sum()).graph


def test_networkx_has_the_same_nodes_in_order() -> None:
    graph = square_graph()
    g = graph.to_networkx()
    assert list(g.nodes) == [n.id for n in graph.nodes]
    assert all(g.nodes[n.id]["record"] == n for n in graph.nodes)
    assert all(g.nodes[n.id]["kind"] == n.kind.value for n in graph.nodes)
    assert g.graph["roots"] == list(graph.roots)


def test_networkx_has_the_same_edges_with_multi_edges() -> None:
    graph = square_graph()
    g = graph.to_networkx()
    ours = Counter((e.source, e.target, e.input_index) for e in graph.edges)
    assert Counter(list(g.edges(keys=True))) == ours
    (mul,) = nodes_named(graph, "MulBackward0")
    (leaf,) = nodes_named(graph, "AccumulateGrad")
    assert g.number_of_edges(leaf, mul) == 2  # x * x reads x twice
    assert g.edges[leaf, mul, 1]["record"].input_index == 1


def test_json_round_trips_every_node_and_edge() -> None:
    graph = square_graph()
    data = json.loads(graph.to_json())
    assert [n["id"] for n in data["nodes"]] == [n.id for n in graph.nodes]
    assert [n["kind"] for n in data["nodes"]] == [n.kind.value for n in graph.nodes]
    links = [(e["source"], e["target"], e["input_index"]) for e in data["links"]]
    assert links == [(e.source, e.target, e.input_index) for e in graph.edges]
    assert data["graph"]["roots"] == list(graph.roots)
    assert data["directed"] and data["multigraph"]


def test_json_keeps_nested_records() -> None:
    graph = square_graph()
    data = json.loads(graph.to_json(indent=None))
    by_id = {n["id"]: n for n in data["nodes"]}
    root = graph.node(graph.roots[0])
    assert root.tensor is not None
    assert by_id[root.id]["tensor"]["shape"] == list(root.tensor.shape)
    assert by_id[root.id]["tensor"]["stats"]["mean"] == pytest.approx(root.tensor.stats.mean)
    (leaf,) = [n for n in data["nodes"] if n["kind"] == NodeKind.INPUT.value]
    assert leaf["leaf_name"] == "x"


def test_json_of_a_recorded_forward() -> None:
    graph = mlp_graph(mlp(), seed=0)
    data = json.loads(graph.to_json())
    modules = {n["module"] for n in data["nodes"]}
    assert {"0", "2"} <= modules
    sources = [n["source"] for n in data["nodes"] if n["source"] is not None]
    assert sources and all(isinstance(s["line"], int) for s in sources)


def test_structure_key_ignores_values() -> None:
    model = mlp()
    first, second = mlp_graph(model, seed=1), mlp_graph(model, seed=2)
    first_root, second_root = first.node(first.roots[0]), second.node(second.roots[0])
    assert first_root.tensor != second_root.tensor  # the values did change
    assert first.structure_key() == second.structure_key()


def test_structure_key_changes_with_an_extra_layer() -> None:
    deeper = mlp_graph(mlp(extra_layer=True), 0)
    assert mlp_graph(mlp(), 0).structure_key() != deeper.structure_key()


def test_structure_key_changes_with_module_names() -> None:
    renamed = nn.Sequential()
    for name, layer in zip(("a", "act", "b"), mlp(), strict=True):
        renamed.add_module(name, layer)
    assert mlp_graph(mlp(), 0).structure_key() != mlp_graph(renamed, 0).structure_key()
