"""The headless commands: ``export``, ``models`` and ``info``. No Qt is imported here."""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from graphviz_app import __version__
from graphviz_app.core.collapse import modules_at_depth
from graphviz_app.core.engine import EngineError, find_engine
from graphviz_app.core.forward import ForwardError
from graphviz_app.core.style import GraphStyle
from graphviz_app.core.walk import CaptureError
from graphviz_app.io.builtin import list_builtin_models, resolve_model
from graphviz_app.io.export import ExportError, format_for, write_atomic
from graphviz_app.io.model_file import ModelFileError
from graphviz_app.pdf import PdfError, render_export
from graphviz_app.session import ModelSession, configure_torch_threads

USER_ERRORS = (
    PdfError,
    ModelFileError,
    ForwardError,
    CaptureError,
    EngineError,
    ExportError,
    FileNotFoundError,
)


def run_command(args: argparse.Namespace) -> int:
    """Run one headless command; user errors print one line on stderr and return 1."""
    try:
        if args.command == "export":
            return _export(args)
        if args.command == "models":
            return _models()
        return _info()
    except USER_ERRORS as exc:
        print(f"graphviz-app: error: {getattr(exc, 'summary', exc)}", file=sys.stderr)
        return 1


def _export(args: argparse.Namespace) -> int:
    output = Path(args.output)
    fmt = format_for(output, args.format)
    configure_torch_threads()
    session = ModelSession(engine=find_engine(args.engine))
    session.load(resolve_model(args.model))
    graph = session.forward()
    collapsed: frozenset[str] = frozenset()
    if args.collapse_depth is not None:
        collapsed = modules_at_depth(graph, args.collapse_depth)
    style = GraphStyle(
        rankdir=args.rankdir,
        clusters=not args.no_clusters,
        show_values=args.values,
        collapsed=collapsed,
    )
    result = session.picture(style)
    data = render_export(result.graph, result.dot, fmt, session.engine, args.dpi)
    write_atomic(output, data)
    print(f"wrote {output} ({fmt}, {len(result.visible.nodes)} nodes, {result.engine})")
    return 0


def _models() -> int:
    for entry in list_builtin_models():
        print(f"{entry.name:24} {entry.summary}")
    return 0


def _info() -> int:
    print(f"graphviz-app {__version__}")
    print(f"python       {platform.python_version()}")
    print(f"torch        {torch.__version__} (CUDA available: {torch.cuda.is_available()})")
    try:
        engine = find_engine()
        print(f"graphviz     {engine.describe()} at {engine.path}")
    except EngineError as exc:
        print(f"graphviz     not found: {exc}")
    return 0
