"""The built-in example models shipped in ``models/``."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import graphviz_app

DEFAULT_MODEL = "two_layer_net"


@dataclass(frozen=True)
class ModelEntry:
    """A built-in model: its name, file and the first line of its docstring."""

    name: str
    path: Path
    summary: str


def builtin_models_dir() -> Path:
    """``models/`` beside the package (a checkout) or inside it (an installed wheel)."""
    package = Path(graphviz_app.__file__).resolve().parent
    for candidate in (package.parent / "models", package / "_builtin_models"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("The built-in models folder is missing from this installation.")


def list_builtin_models() -> list[ModelEntry]:
    """Every built-in model, sorted by name, summarised without importing it."""
    entries = []
    for path in sorted(builtin_models_dir().glob("*.py")):
        if not path.name.startswith("_"):
            entries.append(ModelEntry(path.stem, path, _summary(path)))
    return entries


def resolve_model(name_or_path: str) -> Path:
    """A built-in model's name (``two_layer_net``) or a path to a model file -> path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".py" and candidate.is_file():
        return candidate
    for entry in list_builtin_models():
        if entry.name == name_or_path:
            return entry.path
    names = ", ".join(e.name for e in list_builtin_models())
    raise FileNotFoundError(
        f"{name_or_path!r} is neither a model file nor a built-in model (built-ins: {names})."
    )


def _summary(path: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (SyntaxError, UnicodeDecodeError):
        return ""
    return doc.strip().splitlines()[0] if doc else ""
