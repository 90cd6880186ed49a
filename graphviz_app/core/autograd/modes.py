"""Run a model in eval mode for a moment without losing any module's own mode."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def evaluating(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """``model`` in eval mode inside the block; afterwards every submodule is back in
    the mode it had (``model.train(was)`` would flip a submodule the user froze in
    eval mode, such as a pretrained backbone's batch norms, back to training)."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training
