"""Structure-only capture on the meta device matches a real capture of a smaller copy."""

from __future__ import annotations

import pytest
import torch
from large_models import TinyGPT
from torch import nn

from graphviz_app.core.autograd.forward import ForwardError, forward_and_capture
from graphviz_app.core.autograd.meta import capture_structure, is_meta
from graphviz_app.core.graph.records import AutogradGraph

#: On CPU, ``reshape`` of a viewable tensor (inside ``matmul``) runs ``_reshape_alias``;
#: on meta it runs ``view``. Same view, same kind, same edges: only the class differs.
SAME_VIEW = {"ReshapeAliasBackward0": "ViewBackward0"}


def structure(graph: AutogradGraph) -> tuple[object, ...]:
    """Everything but values and widths: node sequence and edges."""
    nodes = tuple(
        (n.id, SAME_VIEW.get(n.name, n.name), n.kind, n.op, n.module, n.leaf_name)
        for n in graph.nodes
    )
    edges = tuple((e.source, e.target, e.input_index, e.output_nr) for e in graph.edges)
    return nodes, edges


def test_meta_transformer_has_the_structure_of_a_real_narrow_copy() -> None:
    def loss(out: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return out.logsumexp(-1).mean()

    idx = torch.randint(0, 50, (1, 6))
    meta = capture_structure(lambda: TinyGPT(layers=3, d_model=256, heads=4), idx, loss)
    real = forward_and_capture(TinyGPT(layers=3, d_model=16, heads=4), (idx,), loss)
    assert structure(meta.graph) == structure(real.graph)
    assert len(meta.graph.nodes) > 100
    wide = {n.tensor.shape for n in meta.graph.nodes if n.tensor is not None}
    assert (256,) in wide and (16,) not in wide  # the meta model really is the wide one


def test_meta_capture_allocates_nothing_and_shows_no_values() -> None:
    run = capture_structure(
        lambda: TinyGPT(layers=2, d_model=4096, heads=8, vocab=32000),
        lambda: torch.randint(0, 32000, (1, 8)),
    )
    tensors = [n.tensor for n in run.graph.nodes if n.tensor is not None]
    assert tensors and all(t.device == "meta" and t.stats is None for t in tensors)
    saved = [s.tensor for n in run.graph.nodes for s in n.saved if s.tensor is not None]
    assert saved and all(s.stats is None and not s.preview for s in saved)
    params = sum(
        t.shape[0] * (t.shape[1] if len(t.shape) > 1 else 1)
        for n in run.graph.nodes
        if n.kind.value == "parameter" and (t := n.tensor)
    )
    assert params > 500_000_000  # about 2 GB of float32, were it real
    assert all(t.is_meta for t in run.inputs)


def test_a_model_that_reads_values_fails_with_a_clear_message() -> None:
    class ReadsValue(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.fc(x)
            return y * float(y.sum().item())  # needs a real value

    with pytest.raises(ForwardError, match="forward raised"):
        capture_structure(ReadsValue, torch.randn(2, 3))


def test_is_meta() -> None:
    assert not is_meta(nn.Linear(2, 2))
    with torch.device("meta"):
        assert is_meta(nn.Linear(2, 2))
