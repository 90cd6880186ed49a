"""Repeated sibling blocks: found in transformer-like and ResNet-like models, folded."""

from __future__ import annotations

import pytest
import torch
from large_models import ResNet, TinyGPT
from torch import nn

from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.collapse import module_types, visible_graph
from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.core.graph.repeats import detect_repeats, folded_view, outermost_runs


def capture(model: nn.Module, *inputs: torch.Tensor) -> AutogradGraph:
    return forward_and_capture(model, inputs, None, CaptureOptions(with_values=False)).graph


@pytest.fixture(scope="module")
def gpt() -> tuple[nn.Module, AutogradGraph]:
    torch.manual_seed(0)
    model = TinyGPT(layers=12)
    return model, capture(model, torch.randint(0, 50, (1, 6)))


@pytest.fixture(scope="module")
def resnet() -> tuple[nn.Module, AutogradGraph]:
    torch.manual_seed(0)
    model = ResNet([3, 4, 6, 3], width=4)
    return model, capture(model, torch.randn(1, 3, 32, 32))


def test_transformer_layers_are_one_run_of_twelve(gpt: tuple[nn.Module, AutogradGraph]) -> None:
    model, graph = gpt
    runs = outermost_runs(detect_repeats(graph, module_types(model.named_modules())))
    assert [(r.parent, r.modules, r.type_name) for r in runs] == [
        ("h", tuple(f"h.{i}" for i in range(12)), "Block")
    ]


def test_resnet_stages_fold_the_blocks_after_the_projecting_one(
    resnet: tuple[nn.Module, AutogradGraph],
) -> None:
    _, graph = resnet
    runs = {r.parent: r.modules for r in outermost_runs(detect_repeats(graph, min_run=2))}
    assert runs == {
        "layer1": ("layer1.1", "layer1.2"),
        "layer2": ("layer2.1", "layer2.2", "layer2.3"),
        "layer3": tuple(f"layer3.{i}" for i in range(1, 6)),
        "layer4": ("layer4.1", "layer4.2"),
    }
    # bn1, bn2, bn3 are alike but did not run one after another: never a run
    assert not any("bn" in m for r in detect_repeats(graph, min_run=2) for m in r.modules)


def test_blocks_of_different_width_are_not_repeats() -> None:
    model = nn.Sequential(*(nn.Linear(4, 4) for _ in range(3)), nn.Linear(4, 5), nn.Linear(5, 5))
    graph = capture(model, torch.randn(2, 4, requires_grad=True))
    runs = detect_repeats(graph)
    assert [r.modules for r in runs] == [("0", "1", "2")]


def test_folded_transformer_shows_one_layer_and_one_x11_node(
    gpt: tuple[nn.Module, AutogradGraph],
) -> None:
    model, graph = gpt
    types = module_types(model.named_modules())
    view = folded_view(graph, detect_repeats(graph, types), module_types=types)
    folds = [n for n in view.graph.nodes if n.id.startswith("fold_")]
    assert len(folds) == 1 and folds[0].kind is NodeKind.MODULE
    assert folds[0].leaf_name == "h.1 .. h.11 x11"
    assert folds[0].name.startswith("11 Block like h.0:")
    inside = [
        n
        for n in graph.nodes
        if n.module and n.module.split(".")[:2] in [["h", str(i)] for i in range(1, 12)]
    ]
    assert set(view.groups[folds[0].id].members) == {n.id for n in inside}
    layer0 = [n.id for n in graph.nodes if n.module and n.module.startswith("h.0")]
    assert all(view.owner[i] == i for i in layer0)  # the shown layer stays expanded
    assert len(view.graph.nodes) == len(graph.nodes) - len(inside) + 1


def test_the_shown_instance_can_be_collapsed_too(gpt: tuple[nn.Module, AutogradGraph]) -> None:
    _, graph = gpt
    view = folded_view(graph, detect_repeats(graph), collapsed={"h.0"})
    modules = sorted(n.leaf_name or "" for n in view.graph.nodes if n.kind is NodeKind.MODULE)
    assert modules == ["h.0 (collapsed)", "h.1 .. h.11 x11"]
    # the chain of layers reads h.0 -> fold
    assert any(
        e.source.startswith("module_") and e.target.startswith("fold_") for e in view.graph.edges
    )


def test_an_outer_collapse_absorbs_a_fold(gpt: tuple[nn.Module, AutogradGraph]) -> None:
    _, graph = gpt
    runs = detect_repeats(graph)
    assert folded_view(graph, runs, collapsed={"h"}).graph == visible_graph(graph, {"h"}).graph
