"""What a model opens as, how double-clicks unfold and collapse, and the hard cap."""

from __future__ import annotations

import pytest
import torch
from large_models import TinyGPT

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.collapse import LAYOUT_HARD_CAP, count_visible
from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.core.layout.drawing import (
    FOLD_ABOVE,
    FOLDED_LIMIT,
    Drawer,
    fold_all,
    toggle_module,
)
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.layout.style import GraphStyle


def _gpt(layers: int) -> tuple[TinyGPT, AutogradGraph]:
    torch.manual_seed(0)
    model = TinyGPT(layers=layers)
    idx = torch.randint(0, 50, (1, 8))
    return model, forward_and_capture(model, (idx,), lambda out, x: out.sum()).graph


@pytest.fixture(scope="module")
def big() -> tuple[Drawer, AutogradGraph]:
    model, graph = _gpt(12)
    drawer = Drawer(find_engine(), model)
    return drawer, graph


def test_a_small_graph_opens_whole() -> None:
    model, graph = _gpt(1)
    drawer = Drawer(find_engine(), model)
    assert len(graph.nodes) <= FOLD_ABOVE
    style = drawer.opening_style(graph, GraphStyle(collapsed=frozenset({"h"})))
    assert style.collapsed == frozenset() and style.folded == frozenset()


def test_a_big_graph_opens_folded_and_small(big: tuple[Drawer, AutogradGraph]) -> None:
    drawer, graph = big
    assert len(graph.nodes) > FOLD_ABOVE
    style = drawer.opening_style(graph, GraphStyle())
    assert style.folded == {"h.0"}
    drawing = drawer.draw(graph, style)
    folds = [n for n in drawing.view.graph.nodes if n.id == drawing.folds[0].id]
    assert len(folds) == 1 and folds[0].leaf_name.startswith("h.1 .. h.11 x11")
    assert len(drawing.view.graph.nodes) <= FOLDED_LIMIT
    assert set(drawing.view.owner) == {n.id for n in graph.nodes}  # every node drawn somewhere
    assert drawing.foldable == {"h.0"} and drawing.notice is None


def test_double_clicking_a_fold_unfolds_it_into_collapsed_blocks(
    big: tuple[Drawer, AutogradGraph],
) -> None:
    drawer, graph = big
    opened = drawer.draw(graph, drawer.opening_style(graph, GraphStyle()))
    fold = opened.folds[0]
    style = toggle_module(opened.style, opened.folds, fold.modules[0])
    assert style.folded == frozenset()
    assert set(fold.modules) <= style.collapsed
    unfolded = drawer.draw(graph, style)
    drawn = {n.module for n in unfolded.view.graph.nodes if n.kind is NodeKind.MODULE}
    assert set(fold.modules) <= drawn
    assert unfolded.layout_kind == "spliced"
    assert {box.id for box in unfolded.layout.nodes} == {n.id for n in unfolded.view.graph.nodes}


def test_double_clicking_a_module_flips_it() -> None:
    style = GraphStyle(collapsed=frozenset({"a"}))
    assert toggle_module(style, (), "a").collapsed == frozenset()
    assert toggle_module(style, (), "b").collapsed == {"a", "b"}


def test_fold_all_and_none(big: tuple[Drawer, AutogradGraph]) -> None:
    drawer, graph = big
    drawing = drawer.draw(graph, GraphStyle())
    assert fold_all(GraphStyle(), drawing, True).folded == {"h.0"}
    assert fold_all(GraphStyle(folded=frozenset({"h.0"})), drawing, False).folded == frozenset()


def test_the_hard_cap_collapses_instead_of_laying_out_too_much() -> None:
    model, graph = _gpt(12)
    drawer = Drawer(find_engine(), model)
    drawer.hard_cap = 200  # the graph has more; pretend Graphviz could only take this many
    assert drawer.hard_cap < LAYOUT_HARD_CAP and count_visible(graph, frozenset(), []) > 200
    drawing = drawer.draw(graph, GraphStyle())
    assert drawing.notice is not None and "collapsed" in drawing.notice
    assert drawing.style.collapsed and len(drawing.view.graph.nodes) <= 200
