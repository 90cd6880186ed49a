"""Class files opened with their guesses, against torch: the graph drawn is the one a
plain forward of the same model on the same input builds, and the recorded backward
leaves the .grad a plain backward leaves."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from core_helpers import leaves_and_names
from torch.utils._pytree import tree_leaves

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import ModelSession

CLASSES = Path(__file__).resolve().parents[1] / "data" / "classes"


@pytest.mark.parametrize(
    "name", ["config_gpt.py", "conv_net.py", "embedding_model.py", "demo_call.py", "vit_like.py"]
)
def test_a_guessed_class_file_draws_and_backpropagates_as_torch_does(name: str) -> None:
    session = ModelSession()
    loaded = session.load(LoadRequest(str(CLASSES / name)))
    twin = copy.deepcopy(loaded.model)  # the same weights, run without the app
    graph = session.forward()
    outputs = [t for t in tree_leaves(twin(*loaded.inputs)) if isinstance(t, torch.Tensor)]
    drawn = [n.name for n in graph.nodes if n.kind is not NodeKind.OUTPUT]
    assert sorted(drawn) == leaves_and_names(outputs)[1]
    session.backward()
    torch.autograd.backward(outputs, [torch.ones_like(t) for t in outputs])
    for (path, param), (_, plain) in zip(
        loaded.model.named_parameters(), twin.named_parameters(), strict=True
    ):
        assert (param.grad is None) == (plain.grad is None), path
        if plain.grad is not None:
            torch.testing.assert_close(param.grad, plain.grad, rtol=1e-5, atol=1e-6)
