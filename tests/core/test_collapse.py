"""Collapsing nn.Module subtrees into single nodes."""

from __future__ import annotations

import torch
from torch import nn

from graphviz_app.core.collapse import collapse_modules, group_id, module_paths, modules_at_depth
from graphviz_app.core.forward import forward_and_capture
from graphviz_app.core.graph import AutogradGraph, NodeKind


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
