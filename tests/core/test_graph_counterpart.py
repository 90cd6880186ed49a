"""Carrying a selection from one forward's graph to the next: node ids are per graph."""

from __future__ import annotations

import pytest

from graphviz_app.core.graph.diff import counterpart
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.builtin import resolve_model
from graphviz_app.session import ModelSession

Pair = tuple[AutogradGraph, AutogradGraph]


@pytest.fixture(scope="module")
def two_depths() -> Pair:
    """Two graphs of the dynamic net with different numbers of hidden layers."""
    session = ModelSession()
    session.open(resolve_model("dynamic_net"), GraphStyle())
    first = session.run.graph  # type: ignore[union-attr]
    for _ in range(20):  # its depth comes from a seeded random.Random: repeatable
        second = session.forward()
        if len(second.nodes) != len(first.nodes):
            return first, second
    raise AssertionError("the dynamic net kept its depth for 20 forwards")


def _ids(graph: AutogradGraph, name: str, module: str | None) -> list[str]:
    return [n.id for n in graph.nodes if n.name == name and n.module == module]


def test_a_parameter_is_found_by_name_although_its_id_changed(two_depths: Pair) -> None:
    before, after = two_depths
    old = next(n for n in before.nodes if n.leaf_name == "middle.weight")
    new = after.node(counterpart(before, old.id, after))  # type: ignore[arg-type]
    assert new.leaf_name == "middle.weight" and new.id != old.id


def test_an_op_is_the_kth_of_its_class_in_its_module(two_depths: Pair) -> None:
    before, after = two_depths
    old_layers = _ids(before, "AddmmBackward0", "middle")
    new_layers = _ids(after, "AddmmBackward0", "middle")
    shared = min(len(old_layers), len(new_layers))
    for k in range(shared):
        assert counterpart(before, old_layers[k], after) == new_layers[k]
    for extra in old_layers[shared:]:  # a layer the new graph does not have
        assert counterpart(before, extra, after) is None


def test_an_unknown_id_has_no_counterpart(two_depths: Pair) -> None:
    before, after = two_depths
    assert counterpart(before, "nope", after) is None
