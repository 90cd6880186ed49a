"""``torch.save`` files and safetensors: weights applied to an architecture, or, only
with the user's consent, a whole pickled module.

Weights are read with ``weights_only=True`` (torch's restricted unpickler, which runs
no code from the file). A state_dict (or a checkpoint dict holding one under
``state_dict``, ``model_state_dict`` or ``model``) is loaded into the model that
``request.architecture`` (a ``.py`` file) builds; the request's class, arguments,
input spec and definitions-only choice apply to that file. A file that only
unpickles by running code (``torch.save(model)``) needs ``request.allow_pickle``.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from graphviz_app.core.runtime.failures import first_sentence, plain_text
from graphviz_app.io.load_errors import (
    ChoiceNeededError,
    ModelFileError,
    PickleConsentError,
    StateDictMismatchError,
    first_line,
)
from graphviz_app.io.loaders.detect import FileFormat
from graphviz_app.io.loaders.inputs import binary_model
from graphviz_app.io.loaders.python import load_python
from graphviz_app.io.loaders.registry import register
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest

CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")
LISTED = 12  # keys listed per kind of mismatch


def register_loaders() -> None:
    """Register this module's loaders."""
    register(FileFormat.TORCH_SAVE.value, load_torch_save)
    register(FileFormat.SAFETENSORS.value, load_safetensors)


def load_safetensors(request: LoadRequest) -> LoadedModel:
    """Weights from a safetensors file, applied to the request's architecture."""
    from safetensors.torch import load_file

    path = Path(request.path).resolve()
    try:
        weights = load_file(str(path))
    except Exception as exc:  # a damaged file: say so
        raise ModelFileError(f"{path.name} is not a readable safetensors file: {exc}") from exc
    return apply_state_dict(request, path, weights, FileFormat.SAFETENSORS.value)


def load_torch_save(request: LoadRequest) -> LoadedModel:
    """A ``torch.save`` file: a state_dict, or a whole module with consent."""
    path = Path(request.path).resolve()
    try:
        value = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        if not request.allow_pickle:
            raise PickleConsentError(_consent_text(path, exc)) from exc
        value = _unpickle(path)
    except Exception as exc:  # truncated or not a torch file at all
        raise ModelFileError(
            f"{path.name} cannot be read by torch.load: {first_line(exc)}"
        ) from exc
    if isinstance(value, torch.nn.Module):
        return _whole_module(request, path, value)
    return apply_state_dict(request, path, state_dict_in(path, value), FileFormat.TORCH_SAVE.value)


def _consent_text(path: Path, exc: BaseException) -> str:
    return (
        f"{path.name} is not plain weights: loading it runs code stored in the file "
        f"({_pickled(exc)}). Load it only if you trust where it came from (in the window: "
        "agree when asked; on the command line: --allow-pickle)."
    )


def _pickled(exc: BaseException) -> str:
    """What torch's weights-only loader refused, whole: the class or function the
    pickle calls (``convnet.Net``), or the first sentence of torch's words."""
    text = plain_text(str(exc))
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if found:
        return f"the pickle calls {found[1]}, which torch's weights-only loader refuses to run"
    return f"pickled objects: {first_sentence(text).rstrip('.')}"


def _unpickle(path: Path) -> Any:
    try:
        return torch.load(path, weights_only=False, map_location="cpu")  # consent given
    except (AttributeError, ModuleNotFoundError) as exc:
        raise ModelFileError(
            f"{path.name} holds a pickled object whose class cannot be found ({first_line(exc)}). "
            "A whole pickled model needs the code of its class; save a state_dict instead "
            "(torch.save(model.state_dict(), ...)) and pick the architecture's .py file."
        ) from exc
    except Exception as exc:  # the file's own code may raise anything
        raise ModelFileError(
            f"Unpickling {path.name} raised {type(exc).__name__}: {first_line(exc)}"
        ) from exc


def _whole_module(request: LoadRequest, path: Path, model: torch.nn.Module) -> LoadedModel:
    doc = f"Pickled module `{type(model).__name__}` from `{path.name}`."
    return binary_model(request, path, model, doc, FileFormat.TORCH_SAVE)


def state_dict_in(path: Path, value: object) -> dict[str, torch.Tensor]:
    """The state_dict in a loaded file: the dict itself or a checkpoint's entry."""
    if _is_state_dict(value):
        return {str(k): v for k, v in value.items()}  # type: ignore[attr-defined]
    if isinstance(value, dict):
        for key in CHECKPOINT_KEYS:
            if _is_state_dict(value.get(key)):
                return dict(value[key])
        keys = ", ".join(repr(k) for k in list(value)[:8])
        raise ModelFileError(
            f"{path.name} holds a dict ({keys}) with no state_dict in it: expected tensors "
            f"by parameter name, or one of {', '.join(CHECKPOINT_KEYS)} holding them."
        )
    raise ModelFileError(f"{path.name} holds a {type(value).__name__}, not a model or its weights.")


def _is_state_dict(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())
    )


def apply_state_dict(
    request: LoadRequest, path: Path, weights: dict[str, torch.Tensor], fmt: str
) -> LoadedModel:
    """Build the request's architecture and load ``weights`` into it (strictly)."""
    if not request.architecture:
        raise ChoiceNeededError(
            f"{path.name} holds weights only ({len(weights)} tensors): choose the .py file "
            "that builds its model (--architecture FILE on the command line)."
        )
    arch = dataclasses.replace(request, path=request.architecture, architecture="")
    loaded = load_python(arch)
    check_state_dict(path, loaded.model, weights)
    if not request.structure_only:  # meta parameters hold no values to copy into
        loaded.model.load_state_dict(weights)
    loaded.name, loaded.path, loaded.format = path.stem, path, fmt
    return loaded


def check_state_dict(path: Path, model: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """Raise :class:`StateDictMismatchError` listing missing, unexpected and misshapen keys."""
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    shapes = [
        f"{k} (file {tuple(weights[k].shape)}, model {tuple(own[k].shape)})"
        for k in own
        if k in weights and weights[k].shape != own[k].shape
    ]
    problems = [
        _listed("missing from the file", missing),
        _listed("in the file but not in the model", unexpected),
        _listed("with another shape", shapes),
    ]
    if any(problems):
        raise StateDictMismatchError(
            f"The weights in {path.name} do not fit {type(model).__name__}: "
            + "; ".join(p for p in problems if p)
            + ".",
            "\n".join([*missing, *unexpected, *shapes]),
        )


def _listed(what: str, keys: list[str]) -> str:
    if not keys:
        return ""
    more = f" and {len(keys) - LISTED} more" if len(keys) > LISTED else ""
    return f"{len(keys)} {what}: {', '.join(keys[:LISTED])}{more}"
