"""``graphviz-app export``: run a model headless and write its graph (or a walk-through).

A script (a ``.py`` that calls backward) runs as ``python FILE`` would, its output on
stdout, up to its ``--backward-call`` (the first by default); the graph written is
the one that call differentiated, with that call's own recorded backward.

The command line is checked first, without torch: an unknown model, format or output
folder, or a missing Graphviz, is reported at once. Then
:mod:`graphviz_app.cli.export_session` imports torch and does the work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphviz_app.cli.requests import load_request
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.io.export import BINARY_FORMATS, STDOUT, ExportError, check_writable, format_for


def run(args: argparse.Namespace) -> int:
    """Check the command line, then load the model, run it and write the file."""
    if args.output == STDOUT:
        check_stdout(args.format or "svg")
    elif args.output:
        format_for(Path(args.output), args.format)
        check_writable(Path(args.output).resolve())
    request = load_request(args)
    engine = find_engine(args.engine)
    from graphviz_app.cli.export_session import export  # torch: only now

    return export(args, request, engine)


def check_stdout(fmt: str) -> None:
    """``-o -``: text formats go to stdout; a binary one only when stdout is not a
    terminal (a pipe or a file), where it would not garble the screen."""
    format_for(Path("graph"), fmt)
    if fmt in BINARY_FORMATS and sys.stdout.isatty():
        raise ExportError(
            f"{fmt.upper()} is binary: written to the terminal it would be garbage. Pipe it "
            f"(-o - --format {fmt} | ...) or name a file (-o graph.{fmt}); svg, dot and json "
            "are text and can go to the terminal."
        )
