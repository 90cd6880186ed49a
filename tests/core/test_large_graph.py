"""A 20,000-node graph opens collapsed, folded and capped: checked by structure only."""

from __future__ import annotations

from graphviz_app.core.graph.collapse import (
    LAYOUT_HARD_CAP,
    capped_collapse,
    count_visible,
    fitting_collapse,
    visible_graph,
)
from graphviz_app.core.graph.records import AutogradGraph, Edge, Node, NodeKind
from graphviz_app.core.graph.repeats import detect_repeats, folded_view
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.lazy import LazyLayouter
from graphviz_app.core.layout.style import GraphStyle

LAYERS, SUBLAYERS, OPS = 40, 10, 50  # 20,000 op nodes under layers.i.sub.j


def synthetic_graph() -> AutogradGraph:
    """A chain through 40 identical layers of 10 sublayers of 50 ops, plus an output."""
    nodes = [Node("n0", "output", NodeKind.OUTPUT, leaf_name="output")]
    # Discovery order walks back from the output: the last layer's ops come first.
    for layer in reversed(range(LAYERS)):
        for sub in reversed(range(SUBLAYERS)):
            for op in range(OPS):
                index = len(nodes)
                module = f"layers.{layer}.sub.{sub}"
                nodes.append(
                    Node(
                        f"n{index}",
                        f"Op{op}Backward0",
                        NodeKind.BACKWARD,
                        op=f"op{op}",
                        module=module,
                        sequence_nr=100_000 - index,
                    )
                )
    # Walked from the output: node i consumes node i + 1 (forward order is reversed).
    edges = [Edge(f"n{i + 1}", f"n{i}", 0, 0) for i in range(len(nodes) - 1)]
    return AutogradGraph(tuple(nodes), tuple(edges), ("n0",))


def test_a_20000_node_graph_opens_collapsed_to_the_deepest_level_that_fits(
    engine: GraphvizEngine,
) -> None:
    graph = synthetic_graph()
    assert len(graph.nodes) == 20_001
    collapsed = fitting_collapse(graph, 1500)
    assert collapsed == frozenset(
        f"layers.{i}.sub.{j}" for i in range(LAYERS) for j in range(SUBLAYERS)
    )
    view = visible_graph(graph, collapsed)
    assert len(view.graph.nodes) == LAYERS * SUBLAYERS + 1 == count_visible(graph, collapsed)
    assert sum(view.edge_counts.values()) == len(view.graph.edges) == LAYERS * SUBLAYERS
    assert all(len(g.members) == OPS for g in view.groups.values())
    # a fitting collapse is small enough for one Graphviz run
    layout = LazyLayouter(engine).layout(visible_graph(graph, modules_of_depth_2()), GraphStyle())
    assert len(layout.nodes) == LAYERS + 1


def modules_of_depth_2() -> frozenset[str]:
    return frozenset(f"layers.{i}" for i in range(LAYERS))


def test_the_hard_cap_turns_a_full_expand_into_a_collapse() -> None:
    graph = synthetic_graph()
    collapsed, message = capped_collapse(graph, frozenset())
    assert message is not None and f"{LAYOUT_HARD_CAP:,}" in message
    assert count_visible(graph, collapsed) <= LAYOUT_HARD_CAP


def test_identical_layers_fold_to_a_handful_of_nodes() -> None:
    graph = synthetic_graph()
    runs = detect_repeats(graph)
    assert runs[0].parent == "layers" and len(runs[0].modules) == LAYERS
    view = folded_view(graph, runs, collapsed={"layers.0"})
    assert len(view.graph.nodes) == 3  # output, layers.0, the fold of layers.1 .. 39
    assert sum(len(g.members) for g in view.groups.values()) == len(graph.nodes) - 1
