"""The Qt-free session: open, forward again, picture from the cache, backward."""

from __future__ import annotations

import dataclasses

import pytest

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.training.trainer import TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.session import ModelSession, StepResult


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


def test_a_big_graph_opens_collapsed_to_the_deepest_level_that_fits() -> None:
    session = ModelSession()
    # residual_cnn has 26 nodes (no repeated blocks); its depth 1 has 9
    session.drawer.fold_above = session.drawer.auto_collapse_above = 10
    result = session.open(resolve_model("residual_cnn"), GraphStyle())
    assert result.style.collapsed == {"stem", "block", "pool", "head"}
    assert len(result.visible.nodes) <= 10 < len(result.graph.nodes)
    session.drawer.auto_collapse_above = 22  # depth 2 opens block's children: 20 nodes
    deeper = session.open(resolve_model("residual_cnn"), GraphStyle())
    assert "block.conv1" in deeper.style.collapsed and "block" not in deeper.style.collapsed
    assert len(deeper.visible.nodes) <= 22


def test_a_graph_that_fits_or_a_chosen_collapse_is_left_alone() -> None:
    session = ModelSession()
    assert not session.open(resolve_model("residual_cnn"), GraphStyle()).style.collapsed
    session.drawer.fold_above = session.drawer.auto_collapse_above = 10
    chosen = GraphStyle(collapsed=frozenset({"head"}))
    assert session.open(resolve_model("residual_cnn"), chosen).style.collapsed == {"head"}


def test_a_dynamic_net_says_what_changed_and_reuses_the_layout_when_nothing_did() -> None:
    session = ModelSession()
    session.open(resolve_model("dynamic_net"), GraphStyle())
    steps = [session.train_one(TrainSettings(), GraphStyle()) for _ in range(8)]
    changed = [s for s in steps if s.change.changed]
    same = [s for s in steps if not s.change.changed]
    assert changed and same  # the depth is random: both happen in 8 steps (seeded)
    for step in changed:
        delta = step.change.nodes_after - step.change.nodes_before
        counts = dict(step.change.added if delta > 0 else step.change.removed)
        assert counts["AddmmBackward0"] == abs(delta) // 3  # one Linear: addmm, t, clamp
        assert "The graph changed" in step.change.describe()
    for step in same:
        assert step.layout_reused and step.change.describe() == ""


def test_n_steps_stop_when_cancelled_between_steps() -> None:
    session = ModelSession()
    session.open(resolve_model("two_layer_net"), GraphStyle())
    token = CancelToken()
    seen: list[int] = []

    def on_step(step: StepResult) -> None:
        seen.append(step.record.step)
        if len(seen) == 3:
            token.cancel()

    result = session.train(TrainSettings(), GraphStyle(), 100, token, on_step)
    assert result.stopped and seen == [1, 2, 3] and len(result.records) == 3


def test_a_failed_open_keeps_the_previous_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    session = ModelSession()
    first = session.open(resolve_model("two_layer_net"), GraphStyle())
    broken = tmp_path / "broken.py"
    broken.write_text("def build_model(:\n")
    with pytest.raises(ModelFileError):
        session.open(broken, GraphStyle())
    assert session.loaded is not None and session.loaded.name == "two_layer_net"
    assert session.run is not None and session.run.graph is first.graph
    assert session.picture(GraphStyle()).visible.structure_key() == first.visible.structure_key()
