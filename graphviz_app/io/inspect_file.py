"""What a model file is and what loading it needs, found without running its code.

The window asks this first (on the worker thread), then asks the user only what the
file needs: trust to run a ``.py``, a class and arguments, an architecture for
weights, consent to unpickle, an input spec.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from graphviz_app.io.loaders.detect import FileFormat, detect_format
from graphviz_app.io.loaders.inputs import sidecar_path
from graphviz_app.io.python_source import SourceSummary, summarize_source


@dataclass(frozen=True)
class FileInspection:
    """A model file's format and what loading it needs (plain data)."""

    path: str
    format: str
    source: SourceSummary | None = None  # for .py files
    weights_only: bool = True  # False: a pickle that runs code when loaded
    has_inputs: bool = False  # example inputs stored beside or inside the file

    @property
    def runs_code(self) -> bool:
        """True when loading executes code from the file (a .py, an unsafe pickle)."""
        return self.format == FileFormat.PYTHON.value or not self.weights_only

    @property
    def needs_architecture(self) -> bool:
        """True for weights without a model (a state_dict, safetensors)."""
        return self.format == FileFormat.SAFETENSORS.value or (
            self.format == FileFormat.TORCH_SAVE.value and self.weights_only
        )


def inspect_model_file(path: str | Path) -> FileInspection:
    """Inspect ``path``: raises ``ModelFileError`` for a file no loader reads (empty,
    binary, a syntax error with file:line, a damaged archive)."""
    path = Path(path).resolve()
    fmt = detect_format(path)
    has_inputs = sidecar_path(path).is_file() or fmt == FileFormat.EXPORTED.value
    if fmt == FileFormat.PYTHON.value:
        return FileInspection(str(path), fmt, source=summarize_source(path))
    if fmt == FileFormat.TORCH_SAVE.value:
        return FileInspection(
            str(path), fmt, weights_only=_weights_only(path), has_inputs=has_inputs
        )
    return FileInspection(str(path), fmt, has_inputs=has_inputs)


def _weights_only(path: Path) -> bool:
    """Whether torch's restricted unpickler reads the file (it runs no code from it)."""
    try:
        torch.load(path, weights_only=True, map_location="cpu", mmap=_is_zip(path))
    except pickle.UnpicklingError:
        return False
    except Exception:  # damaged: the loader will say how; nothing to consent to
        return True
    return True


def _is_zip(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(4) == b"PK\x03\x04"
