"""The Qt-free session: open, forward again, picture from the cache, backward."""

from __future__ import annotations

import dataclasses

from graphviz_app.core.style import GraphStyle
from graphviz_app.io.builtin import resolve_model
from graphviz_app.session import ModelSession


def test_a_second_forward_reuses_the_layout_and_dot_text() -> None:
    session = ModelSession()
    first = session.open(resolve_model("two_layer_net"), GraphStyle())
    session.forward()
    second = session.picture(GraphStyle())
    assert second.graph is not first.graph  # a new forward builds a new graph
    assert second.layout is first.layout and second.dot == first.dot


def test_a_new_style_or_structure_gets_a_new_layout() -> None:
    session = ModelSession()
    first = session.open(resolve_model("two_layer_net"), GraphStyle())
    assert session.picture(GraphStyle(rankdir="LR")).layout is not first.layout
    session.forward()
    assert session.run is not None
    renamed = dataclasses.replace(session.run.graph.nodes[1], name="SomethingElse")
    session.run.graph = dataclasses.replace(
        session.run.graph, nodes=(session.run.graph.nodes[0], renamed, *session.run.graph.nodes[2:])
    )
    assert session.picture(GraphStyle()).layout is not first.layout


def test_values_on_labels_are_part_of_the_key() -> None:
    session = ModelSession()
    style = GraphStyle(show_values=True)
    first = session.open(resolve_model("two_layer_net"), style)
    session.loaded.inputs = tuple(x * 2 for x in session.loaded.inputs)  # type: ignore[union-attr]
    session.forward()
    assert session.picture(style).dot != first.dot
