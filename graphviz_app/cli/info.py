"""``graphviz-app models`` and ``graphviz-app info``."""

from __future__ import annotations

import argparse
import platform

from graphviz_app import __version__
from graphviz_app.core.layout.engine import EngineError, find_engine
from graphviz_app.io.builtin import list_builtin_models


def run(args: argparse.Namespace) -> int:
    """The command named in ``args``: list the built-in models, or print versions."""
    return _models() if args.command == "models" else _info()


def _models() -> int:
    for entry in list_builtin_models():
        print(f"{entry.name:24} {entry.summary}")
    return 0


def _info() -> int:
    print(f"graphviz-app {__version__}")
    print(f"python       {platform.python_version()}")
    import torch  # only here: models and --help need no torch

    print(f"torch        {torch.__version__} (CUDA available: {torch.cuda.is_available()})")
    try:
        engine = find_engine()
        print(f"graphviz     {engine.describe()} at {engine.path}")
    except EngineError as exc:
        print(f"graphviz     not found: {exc}")
    return 0
