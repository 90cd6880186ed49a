"""``graphviz-app export``: run a model headless and write its graph (or a walk-through)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphviz_app.cli.requests import load_request
from graphviz_app.core.graph.collapse import modules_at_depth
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import to_dot
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.threads import configure_torch_threads
from graphviz_app.core.stepping.state import grad_marks
from graphviz_app.io.export import format_for, write_atomic
from graphviz_app.io.walkthrough import RecordedPass, write_walkthrough
from graphviz_app.pdf import render_export
from graphviz_app.session import ModelSession, PictureResult


def run(args: argparse.Namespace) -> int:
    """Load the model, run forward (and backward for --grads), write the file."""
    fmt = format_for(Path(args.output), args.format) if args.output else ""
    configure_torch_threads()
    session = ModelSession(engine=find_engine(args.engine))
    loaded = session.load(load_request(args))
    for note in loaded.notes:  # what a definitions-only load skipped
        print(f"graphviz-app: note: {note}", file=sys.stderr)
    result = session.picture(_style(args, session.forward()))
    if args.backward_steps:
        return _export_walkthrough(session, result, Path(args.backward_steps))
    dot = _dot_with_grads(session, result) if args.grads else result.dot
    data = render_export(result.graph, dot, fmt, session.engine, args.dpi)
    write_atomic(Path(args.output), data)
    print(f"wrote {args.output} ({fmt}, {len(result.visible.nodes)} nodes, {result.engine})")
    return 0


def _dot_with_grads(session: ModelSession, result: PictureResult) -> str:
    """Run backward, then DOT with each node's incoming gradient and colour by its norm."""
    fills, lines = grad_marks(session.backward().trace, result.visible)
    return to_dot(result.visible, result.style, fills=fills, extra_lines=lines)


def _style(args: argparse.Namespace, graph: AutogradGraph) -> GraphStyle:
    depth = args.collapse_depth
    return GraphStyle(
        rankdir=args.rankdir,
        clusters=not args.no_clusters,
        show_values=args.values,
        collapsed=modules_at_depth(graph, depth) if depth is not None else frozenset(),
    )


def _export_walkthrough(session: ModelSession, picture: PictureResult, folder: Path) -> int:
    backward = session.backward()
    recorded = RecordedPass(backward.graph, backward.trace, picture.model_name, picture.view)
    files = write_walkthrough(folder, recorded, session.engine.run(picture.dot, "svg"))
    print(f"wrote {len(files) - 1} steps and {files[-1]} ({picture.engine})")
    return 0
