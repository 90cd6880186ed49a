"""Load a model from a Python file that follows the app's conventions.

A model file defines ``build_model()`` (returns an ``nn.Module``) and
``example_inputs()`` (a tensor or a tuple of tensors); optionally
``loss_fn(output, *inputs)``, ``example_target()`` and ``make_batch(step)``.
The file is imported under a private module name, never as ``__main__``, so code
under ``if __name__ == "__main__":`` does not run. Importing still runs the file's
top-level code: the UI asks before it does so for a file the user has not trusted.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from graphviz_app.core.forward import as_input_tuple


class ModelFileError(RuntimeError):
    """A model file could not be loaded; ``details`` holds the traceback text."""

    def __init__(self, summary: str, details: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


@dataclass
class LoadedModel:
    """A model ready to run. Holds live torch objects: keep it in the worker."""

    name: str
    path: Path
    model: torch.nn.Module
    inputs: tuple[torch.Tensor, ...]
    loss_fn: Callable[..., torch.Tensor] | None
    make_batch: Callable[[int], Any] | None
    doc: str


def load_model_file(path: str | Path) -> LoadedModel:
    """Import ``path`` and build its model and example inputs (see module docstring)."""
    path = Path(path).resolve()
    module = import_model_module(path)
    build = _required(module, path, "build_model")
    example = _required(module, path, "example_inputs")
    model = _run(path, "build_model()", build)
    if not isinstance(model, torch.nn.Module):
        raise ModelFileError(
            f"{path.name}: build_model() returned {type(model).__name__}, not a torch.nn.Module."
        )
    try:
        inputs = as_input_tuple(_run(path, "example_inputs()", example))
    except TypeError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from exc
    return LoadedModel(
        name=path.stem,
        path=path,
        model=model,
        inputs=inputs,
        loss_fn=getattr(module, "loss_fn", None),
        make_batch=getattr(module, "make_batch", None),
        doc=(module.__doc__ or "").strip(),
    )


def import_model_module(path: Path) -> ModuleType:
    """Import a file under a private, content-unique name (not ``__main__``)."""
    if not path.is_file():
        raise ModelFileError(f"No such model file: {path}")
    source = path.read_bytes()
    name = f"graphviz_app_user_model_{hashlib.sha1(source).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelFileError(f"{path.name} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        raise ModelFileError(
            f"{path.name} has a syntax error at {where}: {exc.msg}", traceback.format_exc()
        ) from exc
    except Exception as exc:  # a user's file may raise anything while importing
        sys.modules.pop(name, None)
        raise ModelFileError(
            f"Importing {path.name} raised {type(exc).__name__}: {exc}", traceback.format_exc()
        ) from exc
    return module


def _required(module: ModuleType, path: Path, name: str) -> Callable[[], Any]:
    found = getattr(module, name, None)
    if not callable(found):
        raise ModelFileError(
            f"{path.name} does not define {name}(). A model file defines build_model() "
            "returning an nn.Module and example_inputs() returning its input tensor(s)."
        )
    return found  # type: ignore[no-any-return]


def _run(path: Path, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # the user's code may raise anything: report, don't crash
        raise ModelFileError(
            f"{path.name}: {what} raised {type(exc).__name__}: {exc}", traceback.format_exc()
        ) from exc
