"""A picture's capture (no value statistics) draws exactly what a full capture draws."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.layout.dot import to_dot
from graphviz_app.io.builtin import list_builtin_models
from graphviz_app.io.model_file import load_model_file

BAD = Path(__file__).parents[1] / "data" / "bad_models"
FILES = [e.path for e in list_builtin_models()] + [BAD / "nan_outputs.py"]


class MaskedSoftmax(nn.Module):
    """-inf on purpose (causal masking): flagged, and softmax makes it finite again."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.ones(x.shape[-1], x.shape[-1], dtype=torch.bool).tril()
        return torch.softmax(x.masked_fill(~mask, float("-inf")), -1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_picture_capture_gives_the_same_dot_text(path: Path) -> None:
    loaded = load_model_file(path)
    full = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn).graph
    torch.manual_seed(0)
    loaded = load_model_file(path)
    quick = forward_and_capture(
        loaded.model, loaded.inputs, loaded.loss_fn, CaptureOptions.picture()
    ).graph
    assert to_dot(quick) == to_dot(full)


def test_non_finite_outputs_are_flagged_without_values() -> None:
    graph = forward_and_capture(
        MaskedSoftmax(),
        (torch.randn(1, 4, 4, requires_grad=True),),
        options=CaptureOptions.picture(),
    ).graph
    flagged = [n for n in graph.nodes if n.tensor and n.tensor.stats]
    assert [n.name for n in flagged] == ["MaskedFillBackward0"]
    stats = flagged[0].tensor.stats  # type: ignore[union-attr]
    assert stats is not None and stats.inf_count == 6 and stats.nan_count == 0
    assert all(n.tensor is None or n.tensor.stats is None for n in graph.nodes if n not in flagged)
