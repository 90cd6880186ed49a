"""torch.export archives (``.pt2``): ``torch.export.load(...).module()``, run on the
example inputs recorded in the program (shapes and dtypes, and values when saved)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from graphviz_app.io.input_spec import TensorSpec, make_inputs
from graphviz_app.io.load_errors import ModelFileError, first_line
from graphviz_app.io.loaders.detect import FileFormat
from graphviz_app.io.loaders.inputs import binary_model
from graphviz_app.io.loaders.registry import register
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest


def register_loaders() -> None:
    """Register this module's loader."""
    register(FileFormat.EXPORTED.value, load_exported)


def load_exported(request: LoadRequest) -> LoadedModel:
    """Load a ``.pt2`` archive and its recorded example inputs."""
    path = Path(request.path).resolve()
    try:
        program = torch.export.load(str(path))
        model = program.module()
    except Exception as exc:  # a damaged or incompatible archive: say so, don't crash
        raise ModelFileError(
            f"{path.name} is not a loadable torch.export archive: {first_line(exc)}"
        ) from exc
    doc = f"torch.export program `{path.name}`."
    return binary_model(request, path, model, doc, FileFormat.EXPORTED, recorded_inputs(program))


def recorded_inputs(program: Any) -> tuple[torch.Tensor, ...]:
    """The program's saved example inputs, else tensors shaped like its input specs."""
    saved = getattr(program, "example_inputs", None)
    if saved and all(isinstance(t, torch.Tensor) for t in saved[0]) and not saved[1]:
        return tuple(saved[0])
    user = set(program.graph_signature.user_inputs)
    values = [
        n.meta.get("val") for n in program.graph.nodes if n.op == "placeholder" and n.name in user
    ]
    if not all(isinstance(v, torch.Tensor) for v in values):
        raise ModelFileError("The exported program records no tensor shapes for its inputs.")
    return make_inputs(tuple(TensorSpec(tuple(int(d) for d in v.shape), v.dtype) for v in values))
