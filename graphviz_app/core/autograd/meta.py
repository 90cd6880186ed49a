"""Structure-only capture on the meta device: the graph of a model too big to run here.

A model built under ``with torch.device("meta")`` has parameters with shapes and
dtypes but no storage; its forward pass runs shape inference only, and autograd
still records the real ``grad_fn`` graph. So the captured graph has every node,
edge, module, op, shape and dtype, and no values: statistics and gradients show as
unavailable (an 800M-parameter transformer's graph takes about a second).

Where torch picks a kernel by device the graph can differ from a CPU run in detail:
``reshape`` inside ``matmul`` is a ``ViewBackward0`` on meta but a
``ReshapeAliasBackward0`` on CPU, and ``F.scaled_dot_product_attention`` takes its
math path on meta (more nodes) where CPU runs a fused kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import (
    ForwardRun,
    LossFn,
    as_input_tuple,
    forward_and_capture,
)

META = torch.device("meta")
#: What a structure-only capture records: shapes, dtypes, modules, ops, saved
#: attributes; never values (meta tensors have none).
STRUCTURE_ONLY = CaptureOptions(with_values=False, saved_values=False)


def capture_structure(
    build_model: Callable[[], torch.nn.Module],
    example_inputs: Callable[[], Any] | Sequence[torch.Tensor] | torch.Tensor,
    loss_fn: LossFn | None = None,
    options: CaptureOptions = STRUCTURE_ONLY,
) -> ForwardRun:
    """Build the model on the meta device, run its forward (and loss) and capture.

    ``example_inputs`` are tensors (moved to meta, keeping shape and dtype) or a
    function that makes them (called under the meta device). Values are never read,
    whatever ``options`` says. Raises ``ForwardError`` when the model cannot run on
    meta (an op without a meta kernel, or code that reads a value such as ``.item()``).
    """
    with META:
        model = build_model()
        made = example_inputs() if callable(example_inputs) else example_inputs
    inputs = tuple(t.to(META) for t in as_input_tuple(made))
    structure = CaptureOptions(
        with_values=False,
        with_saved=options.with_saved,
        saved_values=False,
        preview_limit=options.preview_limit,
    )
    return forward_and_capture(model, inputs, loss_fn, structure)


def is_meta(model: torch.nn.Module) -> bool:
    """True when the model's parameters live on the meta device (no values to show)."""
    return any(p.is_meta for p in model.parameters())
