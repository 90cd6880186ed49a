"""Collapsing nn.Module subtrees into single nodes."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.collapse import (
    LayoutTooLargeError,
    capped_collapse,
    collapse_modules,
    count_visible,
    group_grad_norms,
    group_grad_summary,
    group_id,
    module_paths,
    module_types,
    modules_at_depth,
    visible_graph,
)
from graphviz_app.core.graph.records import AutogradGraph, NodeKind


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(torch.relu(self.fc(x)) + x)


def nested_graph() -> AutogradGraph:
    torch.manual_seed(0)
    model = nn.Sequential(Block(), Block(), nn.Linear(4, 2))
    run = forward_and_capture(model, (torch.randn(3, 4),), lambda out, x: out.sum())
    return run.graph


def test_module_paths_and_depths() -> None:
    graph = nested_graph()
    assert {"0", "0.fc", "0.norm", "1", "1.fc", "1.norm", "2"} <= set(module_paths(graph))
    assert modules_at_depth(graph, 1) >= {"0", "1", "2"}
    assert modules_at_depth(graph, 2) == {"0.fc", "0.norm", "1.fc", "1.norm"}


def test_collapsing_a_module_merges_its_nodes_and_keeps_outside_edges() -> None:
    graph = nested_graph()
    inside = {n.id for n in graph.nodes if n.module and n.module.split(".")[0] == "0"}
    collapsed = collapse_modules(graph, {"0"})
    gid = group_id("0")
    group = collapsed.node(gid)
    assert group.kind is NodeKind.MODULE and group.module == "0"
    assert group.name.startswith(f"{len(inside)} nodes, 4 parameters")
    assert len(collapsed.nodes) == len(graph.nodes) - len(inside) + 1
    assert not inside & {n.id for n in collapsed.nodes}
    # Every edge that crossed the module boundary survives, re-pointed to the group.
    crossing = {
        (e.source if e.source not in inside else gid, e.target if e.target not in inside else gid)
        for e in graph.edges
        if (e.source in inside) != (e.target in inside)
    }
    assert {
        (e.source, e.target) for e in collapsed.edges if gid in (e.source, e.target)
    } == crossing
    untouched = [e for e in graph.edges if e.source not in inside and e.target not in inside]
    assert set(untouched) <= set(collapsed.edges)


def test_an_outer_collapse_absorbs_inner_ones() -> None:
    graph = nested_graph()
    both = collapse_modules(graph, {"0", "0.fc"})
    assert both == collapse_modules(graph, {"0"})
    assert collapse_modules(graph, set()) is graph


def test_group_ids_are_dot_safe() -> None:
    assert ":" not in group_id("a:b.c") and group_id("x") == group_id("x")


# ------------------------------------------------------------- grouping and its mapping


def test_every_node_is_in_exactly_one_drawn_node() -> None:
    graph = nested_graph()
    view = visible_graph(graph, {"0", "1.fc"})
    drawn = {n.id for n in view.graph.nodes}
    assert set(view.owner) == {n.id for n in graph.nodes}
    assert set(view.owner.values()) == drawn
    members = [m for group in view.groups.values() for m in group.members]
    assert len(members) == len(set(members))
    alone = {key for key, owner in view.owner.items() if owner == key}
    assert alone.isdisjoint(members) and len(alone) + len(members) == len(graph.nodes)
    assert {g.id for g in view.groups.values()} == drawn - alone


def test_aggregated_edges_count_their_member_edges() -> None:
    graph = nested_graph()
    view = visible_graph(graph, {"0", "1"})
    expected: Counter[tuple[str, str]] = Counter()
    for edge in graph.edges:
        pair = (view.owner[edge.source], view.owner[edge.target])
        if pair[0] != pair[1]:
            expected[pair] += 1
    assert dict(view.edge_counts) == dict(expected)
    assert {(e.source, e.target) for e in view.graph.edges} == set(expected)
    gid = group_id("0")
    assert view.edge_counts[(gid, group_id("1"))] >= 2  # the residual and the main path


def test_collapse_then_expand_restores_the_same_drawing() -> None:
    graph = nested_graph()
    for start in (frozenset(), frozenset({"1"}), frozenset({"0.fc", "2"})):
        before = visible_graph(graph, start).graph
        for module in module_paths(graph):
            if module in start:
                continue
            folded = visible_graph(graph, start | {module}).graph
            assert len(folded.nodes) <= len(before.nodes)
            after = visible_graph(graph, start).graph
            assert after == before


def test_group_summary_counts_parameters_and_gradients_like_torch() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(Block(), Block(), nn.Linear(4, 2))
    run = forward_and_capture(model, (torch.randn(3, 4),), lambda out, x: out.sum())
    norms = record_backward(run.walk).grad_norms()
    view = visible_graph(run.graph, {"1"}, (), module_types(model.named_modules()), norms)
    group = view.groups[group_id("1")]
    block = model[1]
    assert group.type_name == "Block"
    assert group.parameter_tensors == len(list(block.parameters()))
    assert group.parameter_values == sum(p.numel() for p in block.parameters())
    all_grads = torch.cat([p.grad.flatten() for p in block.parameters()])
    assert group.grad is not None
    assert math.isclose(group.grad.parameter_norm, float(all_grads.norm()), rel_tol=1e-5)
    inside = [norms[m] for m in group.members if m in norms]
    assert group.grad.max_norm == max(inside) and group.grad.count == len(inside)
    node = view.graph.node(group.id)
    assert node.leaf_name == "1 (Block)" and "|g| max" in node.name
    assert group_grad_norms(view, norms)[group.id] == max(inside)
    plain = visible_graph(run.graph, {"1"})  # drawn without norms: the window's case
    assert group_grad_summary(plain, run.graph, group.id, norms) == group.grad
    assert group_grad_summary(plain, run.graph, "n0", norms) is None  # not a group


def test_the_hard_cap_collapses_instead_of_laying_out_everything() -> None:
    graph = nested_graph()
    kept, message = capped_collapse(graph, frozenset(), cap=len(graph.nodes))
    assert kept == frozenset() and message is None
    collapsed, message = capped_collapse(graph, frozenset(), cap=12)
    assert message is not None and "12" in message
    assert count_visible(graph, collapsed) <= 12
    assert len(visible_graph(graph, collapsed).graph.nodes) == count_visible(graph, collapsed)


def test_the_hard_cap_refuses_a_graph_no_collapse_can_shrink() -> None:
    x = torch.randn(3, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.5  # no module: nothing to collapse
    graph = forward_and_capture(nn.Identity(), (y,), lambda out, _: out.sum()).graph
    with pytest.raises(LayoutTooLargeError, match="Export it as DOT"):
        capped_collapse(graph, frozenset(), cap=10)


def test_depth_zero_draws_the_whole_model_as_one_node() -> None:
    graph = nested_graph()
    whole = modules_at_depth(graph, 0)
    assert whole == {""}
    visible = collapse_modules(graph, whole)
    inside = [n for n in graph.nodes if n.module is not None and n.kind is not NodeKind.OUTPUT]
    outside = [n for n in graph.nodes if n.module is None or n.kind is NodeKind.OUTPUT]
    groups = [n for n in visible.nodes if n.kind is NodeKind.MODULE]
    assert len(groups) == 1 and inside
    assert groups[0].leaf_name.startswith("the whole model")
    assert len(visible.nodes) == len(outside) + 1
