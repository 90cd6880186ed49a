"""Find queries: words and predicates, against values computed by torch."""

from __future__ import annotations

import pytest
import torch

from graphviz_app.core.autograd.capture import capture_graph
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.tensor_info import describe_tensor
from graphviz_app.ui.graph.find_query import find_nodes, parse_query


@pytest.fixture
def graph() -> AutogradGraph:
    torch.manual_seed(0)
    w = torch.full((3, 4), 100.0, requires_grad=True)
    b = torch.zeros(4, requires_grad=True)
    x = torch.randn(2, 3)
    y = torch.log(x @ w + b - 1e9)  # log of negatives: NaN values
    return capture_graph(y.sum(), inputs={"x": x, "w": w, "b": b})


def ids_named(graph: AutogradGraph, *titles: str) -> list[str]:
    return [n.id for n in graph.nodes if n.title in titles]


def test_words_match_names_ops_and_shapes(graph: AutogradGraph) -> None:
    assert find_nodes(graph, "w accumulategrad") == ids_named(graph, "w")
    assert find_nodes(graph, "LOGBACKWARD0") == ids_named(graph, "LogBackward0")
    assert find_nodes(graph, "shape:(3, 4)") == ids_named(graph, "w")
    assert find_nodes(graph, "shape:(4)") == ids_named(graph, "b")
    assert find_nodes(graph, "   ") == []


def test_value_predicates_use_the_tensor_norm(graph: AutogradGraph) -> None:
    w_norm = torch.full((3, 4), 100.0).norm().item()  # 346.4
    assert find_nodes(graph, f"value > {w_norm - 1}") == ids_named(graph, "w")
    assert find_nodes(graph, "value = 0") == ids_named(graph, "b")
    assert find_nodes(graph, "max >= 100 w") == ids_named(graph, "w")
    assert find_nodes(graph, "value is zero") == ids_named(graph, "b")


def test_nan_predicates(graph: AutogradGraph) -> None:
    # the output (the sum of logs of negatives) is NaN; the leaves are finite
    assert find_nodes(graph, "value is nan") == list(graph.roots)
    assert find_nodes(graph, "nan") == list(graph.roots)
    assert find_nodes(graph, "value is finite") == ids_named(graph, "x", "w", "b")


def test_gradient_predicates_read_the_given_gradients(graph: AutogradGraph) -> None:
    (w,) = ids_named(graph, "w")
    (b,) = ids_named(graph, "b")
    grads = {
        w: describe_tensor(torch.full((3, 4), 2000.0)),
        b: describe_tensor(torch.tensor([float("nan"), 1.0, 0.0, 0.0])),
    }
    assert find_nodes(graph, "grad > 1e3", grads) == [w]
    assert find_nodes(graph, "grad is nan", grads) == [b]
    assert find_nodes(graph, "grad is finite", grads) == [w]
    assert find_nodes(graph, "grad > 1e3") == []  # no backward yet: nothing has a gradient


def test_module_prefix_and_parsing() -> None:
    query = parse_query("linear module:fc1 grad>=1e-3 shape:(2,3)")
    assert query.words == ("linear",)
    assert len(query.predicates) == 3


def test_module_predicate_on_a_model() -> None:
    from graphviz_app.core.autograd.forward import forward_and_capture

    model = torch.nn.Sequential()
    model.add_module("fc1", torch.nn.Linear(3, 4))
    model.add_module("fc10", torch.nn.Linear(4, 1))
    run = forward_and_capture(model, (torch.randn(2, 3),), lambda out, x: out.sum())
    hits = {run.graph.node(h).module for h in find_nodes(run.graph, "module:fc1")}
    assert hits == {"fc1"}  # not fc10: the path must match whole segments
