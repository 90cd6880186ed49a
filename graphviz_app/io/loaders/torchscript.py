"""TorchScript archives (``torch.jit.save``): loaded with ``torch.jit.load`` and run
with autograd like any module. Loading one runs no Python code from the file.

The graph executor's optimisations are switched off on the loading thread (the
setting is per thread): after a few runs they would fuse ops into one
``DifferentiableGraphBackward`` node, and the picture should show the real ops.
"""

from __future__ import annotations

from pathlib import Path

import torch

from graphviz_app.io.load_errors import ModelFileError, first_line
from graphviz_app.io.loaders.detect import FileFormat
from graphviz_app.io.loaders.inputs import binary_model
from graphviz_app.io.loaders.registry import register
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest


def register_loaders() -> None:
    """Register this module's loader."""
    register(FileFormat.TORCHSCRIPT.value, load_torchscript)


def load_torchscript(request: LoadRequest) -> LoadedModel:
    """Load a TorchScript archive; inputs as :mod:`.inputs` says."""
    path = Path(request.path).resolve()
    torch._C._set_graph_executor_optimize(False)
    try:
        model = torch.jit.load(  # type: ignore[no-untyped-call]
            str(path), map_location="meta" if request.structure_only else "cpu"
        )
    except Exception as exc:  # a damaged or incompatible archive: say so, don't crash
        raise ModelFileError(
            f"{path.name} is not a loadable TorchScript archive: {first_line(exc)}"
        ) from exc
    doc = f"TorchScript archive `{path.name}`."
    return binary_model(request, path, model, doc, FileFormat.TORCHSCRIPT)
