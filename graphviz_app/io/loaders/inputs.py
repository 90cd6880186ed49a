"""Inputs for a model loaded from a binary file (TorchScript, torch.export, pickles).

In order: the request's input spec; else ``NAME.inputs.pt`` beside the model file
(``model.pt`` -> ``model.inputs.pt``), a tensor or a tuple of tensors saved with
``torch.save`` and read with ``weights_only=True``; else the format's own record
(a torch.export program's example inputs); else the user is asked for a spec.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import torch

from graphviz_app.core.autograd.forward import as_input_tuple
from graphviz_app.io.input_spec import make_inputs, parse_input_spec
from graphviz_app.io.load_errors import ChoiceNeededError, ModelFileError
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest

SIDECAR_SUFFIX = ".inputs.pt"


def sidecar_path(path: Path) -> Path:
    """Where example inputs for ``path`` are looked for: ``model.pt`` -> ``model.inputs.pt``."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def resolve_inputs(
    request: LoadRequest, path: Path, recorded: tuple[torch.Tensor, ...] | None = None
) -> tuple[torch.Tensor, ...]:
    """The inputs for ``path``'s model (see the module docstring)."""
    device = "meta" if request.structure_only else None
    if request.input_spec.strip():
        return make_inputs(parse_input_spec(request.input_spec), device)
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        inputs = _read_sidecar(sidecar)
    elif recorded is not None:
        inputs = recorded
    else:
        raise ChoiceNeededError(
            f"{path.name} holds no example inputs: give an input spec such as "
            f"'1x3x32x32:float32', or save them beside it as {sidecar.name}."
        )
    return tuple(t.to("meta") for t in inputs) if device else inputs


def binary_model(
    request: LoadRequest,
    path: Path,
    model: torch.nn.Module,
    doc: str,
    file_format: Enum,
    recorded: tuple[torch.Tensor, ...] | None = None,
) -> LoadedModel:
    """A model read from a binary file (no loss, no batches of its own), on the meta
    device when the request wants structure only; inputs as the module docstring says."""
    if request.structure_only:
        model = model.to("meta")
    return LoadedModel(
        name=path.stem,
        path=path,
        model=model,
        inputs=resolve_inputs(request, path, recorded),
        loss_fn=None,
        make_batch=None,
        doc=doc,
        format=str(file_format.value),
        structure_only=request.structure_only,
    )


def _read_sidecar(sidecar: Path) -> tuple[torch.Tensor, ...]:
    try:
        value = torch.load(sidecar, weights_only=True, map_location="cpu")
        return as_input_tuple(tuple(value) if isinstance(value, list) else value)
    except Exception as exc:  # any unreadable file: say which and why
        raise ModelFileError(
            f"Cannot read the example inputs in {sidecar.name}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''} (expected a tensor or a tuple "
            "of tensors saved with torch.save)."
        ) from exc
