"""The torch half of ``graphviz-app export``: run the model, lay out, write the file.

:mod:`graphviz_app.cli.export` checks the command line first (without torch), then
hands over to :func:`export`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from graphviz_app.cli.model_code import within_time_limit
from graphviz_app.cli.requests import running_line
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.graph.collapse import modules_at_depth
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import Marks, compute_layout, to_dot
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.layout.svg import to_svg
from graphviz_app.core.runtime.threads import configure_torch_threads
from graphviz_app.core.stepping.state import grad_marks
from graphviz_app.io.export import STDOUT, format_for, write_atomic
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.io.walkthrough import RecordedPass, write_walkthrough
from graphviz_app.pdf import render_export
from graphviz_app.session import ModelSession, PictureResult
from graphviz_app.session.script import script_summary


def export(args: argparse.Namespace, request: LoadRequest, engine: GraphvizEngine) -> int:
    """Load the model, run forward (and backward for --grads), write the file. With
    ``-o -`` the file goes to stdout, and what the model's code prints to stderr."""
    if args.output != STDOUT:
        return _export(args, request, engine, None)
    with stdout_kept() as stdout:
        return _export(args, request, engine, stdout)


def _export(
    args: argparse.Namespace,
    request: LoadRequest,
    engine: GraphvizEngine,
    stdout: BinaryIO | None,
) -> int:
    fmt = ""
    if stdout is not None:
        fmt = args.format or "svg"
    elif args.output:
        fmt = format_for(Path(args.output), args.format)
    output = Path(args.output).resolve() if args.output and not stdout else None
    steps = Path(args.backward_steps).resolve() if args.backward_steps else None
    configure_torch_threads()
    session = ModelSession(engine=engine, options=_capture_options(args))
    try:
        loaded, graph = _load_and_forward(session, request, args)
        # This process is ours and short: torch's and the model's objects stay to the
        # end, so the collector need not walk them again (its first full pass: ~0.1 s).
        gc.freeze()
        _say_notes(loaded)
        result = session.picture(_style(args, graph))
        if steps is not None:
            return _export_walkthrough(session, result, steps)
        data = _render(args, session, result, fmt)
        if stdout is not None:
            stdout.write(data)
        else:
            assert output is not None
            write_atomic(output, data)
        where = "the graph to stdout" if stdout else args.output
        said = f"wrote {where} ({fmt}, {len(result.visible.nodes)} nodes, {result.engine})"
        print(said, file=sys.stderr if stdout else sys.stdout)
        return 0
    finally:
        session.scripts.close()  # a script paused at its call ends here


def _say_notes(loaded: LoadedModel) -> None:
    """What a definitions-only load skipped, a script's state, the guesses made."""
    for note in loaded.notes:
        print(f"graphviz-app: note: {note}", file=sys.stderr)
    if loaded.guesses:
        print(_guesses_line(loaded.guesses), file=sys.stderr)


def _render(
    args: argparse.Namespace, session: ModelSession, result: PictureResult, fmt: str
) -> bytes:
    """The file's bytes; --grads runs backward and lays the longer labels out again."""
    layout, marks = result.layout, Marks()
    if args.grads:
        marks = _grad_marks(session, result)
        dot = to_dot(result.visible, result.style, fills=marks.fills, extra_lines=marks.extra_lines)
        layout = compute_layout(dot, session.engine)
    return render_export(result.graph, result.visible, layout, result.style, fmt, marks, args.dpi)


@contextlib.contextmanager
def stdout_kept() -> Iterator[BinaryIO]:
    """Inside: stdout is the file's alone. What anything else writes to it (the model's
    prints, a script's output, a library's C code) goes to stderr, at the file
    descriptor as well as ``sys.stdout``; yields the real stdout to write the file to."""
    sys.stdout.flush()
    real = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield real
    finally:
        sys.stderr.flush()
        real.flush()
        os.dup2(real.fileno(), 1)
        real.close()


def _load_and_forward(
    session: ModelSession, request: LoadRequest, args: argparse.Namespace
) -> tuple[LoadedModel, AutogradGraph]:
    """Load ``request`` and run its forward; a script runs, its output on stdout (its
    note says it ran)."""
    echo = ScriptOutput(echo=sys.stdout)
    if script_summary(request) is None and running_line(request):  # a script's note says
        print(running_line(request), file=sys.stderr)  # it ran, and how far

    def work() -> tuple[LoadedModel, AutogradGraph]:
        loaded = session.load(request, output=echo, time_limit=args.time_limit)
        return loaded, session.forward()

    return within_time_limit(request, args, work)


def _guesses_line(guesses: tuple[str, ...]) -> str:
    """One line: what was guessed, and the flags that choose instead."""
    return f"graphviz-app: guessed {'; '.join(guesses)} (choose with --class, --args, --input)"


def _capture_options(args: argparse.Namespace) -> CaptureOptions:
    """A picture needs no value statistics unless its labels show them (--values) or
    a walk-through's inspector does; NaN and Inf are flagged either way."""
    wants_values = args.values or args.backward_steps
    return CaptureOptions() if wants_values else CaptureOptions.picture()


def _grad_marks(session: ModelSession, result: PictureResult) -> Marks:
    """Run backward: each node's incoming gradient as a label line, colour by its norm."""
    fills, lines = grad_marks(session.backward().trace, result.visible)
    return Marks(fills=fills, extra_lines=lines)


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
    svg = to_svg(picture.visible, picture.layout, picture.style)  # the export's own drawing
    files = write_walkthrough(folder, recorded, svg)
    print(f"wrote {len(files) - 1} steps and {files[-1]} ({picture.engine})")
    return 0
