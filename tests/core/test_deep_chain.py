"""A 20,000-op chain: the iterative walk has no depth limit; torchviz's recursion does."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from core_helpers import torchviz_sets

from graphviz_app.core.autograd.capture import CaptureOptions, capture_graph
from graphviz_app.core.graph.records import AutogradGraph, NodeKind

DEPTH = 20_000
#: Frames the capture may use above the test's own: far below the chain's depth.
FRAME_ALLOWANCE = 150


def build_chain(depth: int = DEPTH) -> torch.Tensor:
    """``x * 1.0001`` applied ``depth`` times: one MulBackward0 per step."""
    y = torch.ones(3, requires_grad=True)
    for _ in range(depth):
        y = y * 1.0001
    return y


@contextmanager
def shallow_stack(allowance: int) -> Iterator[None]:
    """Lower Python's recursion limit to the current depth plus ``allowance``."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + allowance)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@pytest.fixture(scope="module")
def chain() -> torch.Tensor:
    return build_chain()


@pytest.fixture(scope="module")
def graph(chain: torch.Tensor) -> AutogradGraph:
    with shallow_stack(FRAME_ALLOWANCE):
        return capture_graph(chain)


def structure(graph: AutogradGraph) -> tuple[list[tuple[str, str, str]], list[tuple[str, ...]]]:
    nodes = [(n.id, n.name, n.kind.value) for n in graph.nodes]
    edges = [(e.source, e.target, str(e.input_index), str(e.output_nr)) for e in graph.edges]
    return nodes, edges


def test_node_count_is_exact(graph: AutogradGraph) -> None:
    assert len(graph.nodes) == DEPTH + 2  # the ops, the leaf's AccumulateGrad, the output
    assert len(graph.edges) == DEPTH + 1
    assert [n.name for n in graph.nodes].count("MulBackward0") == DEPTH


def test_ids_follow_the_chain(graph: AutogradGraph) -> None:
    assert graph.roots == ("n0",)
    assert graph.nodes[0].kind is NodeKind.OUTPUT
    assert graph.nodes[-1].id == f"n{DEPTH + 1}"
    assert graph.nodes[-1].kind is NodeKind.INPUT
    expected = [(f"n{i + 1}", f"n{i}") for i in range(DEPTH + 1)]
    assert [(e.source, e.target) for e in graph.edges] == expected


def test_same_structure_gives_identical_ids(graph: AutogradGraph) -> None:
    # Values play no part in ids or structure, so the second capture skips them.
    light = CaptureOptions(with_values=False, with_saved=False)
    again = capture_graph(build_chain(), options=light)
    assert structure(again) == structure(graph)
    assert again.structure_key() == graph.structure_key()


def test_torchviz_recursion_fails_on_it(chain: torch.Tensor) -> None:
    # Documents why we walk iteratively: torchviz 0.0.3 recurses once per node.
    with pytest.raises(RecursionError):
        torchviz_sets([chain])
