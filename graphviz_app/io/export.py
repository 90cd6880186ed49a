"""Write a captured graph to a file: SVG (drawn from the layout the window shows, no
second Graphviz run), DOT text, or the node-link JSON of every record. (PNG and PDF
are drawn from that SVG by Qt, in ``graphviz_app.pdf``, since this layer has no Qt.)

Files are written atomically: to a temporary file beside the target, then renamed,
so a failure never leaves a half-written file or destroys an existing one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import GraphLayout, Marks, to_dot
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.layout.svg import to_svg

ENGINE_FORMATS = ("svg", "png")
FORMATS = (*ENGINE_FORMATS, "pdf", "dot", "json")
BINARY_FORMATS = ("png", "pdf")
#: ``-o -``: the file goes to standard output.
STDOUT = "-"


class ExportError(RuntimeError):
    """The export could not be written; the message says why in plain words."""


def format_for(path: Path, explicit: str | None = None) -> str:
    """The export format: ``explicit`` or the file's extension."""
    fmt = (explicit or path.suffix.lstrip(".")).lower()
    if fmt == "gv":
        fmt = "dot"
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    return fmt


def render_drawn(
    graph: AutogradGraph,
    drawn: AutogradGraph,
    layout: GraphLayout,
    style: GraphStyle,
    fmt: str,
    marks: Marks | None = None,
) -> bytes:
    """The bytes of a laid-out picture in ``fmt`` (``svg``, ``dot`` or ``json``).

    ``graph`` is everything captured (the JSON holds every record), ``drawn`` what the
    picture shows and ``layout`` where (the SVG is drawn from it: no Graphviz run).
    """
    if fmt == "svg":
        return to_svg(drawn, layout, style, marks).encode("utf-8")
    if fmt == "dot":
        marks = marks or Marks()
        return to_dot(drawn, style, marks.highlighted, marks.fills, marks.extra_lines).encode()
    if fmt == "json":
        return graph.to_json().encode("utf-8")
    raise ExportError(f"{fmt.upper()} is drawn from the SVG by Qt; see graphviz_app.pdf.")


def render(
    graph: AutogradGraph, dot_text: str, fmt: str, engine: GraphvizEngine, dpi: float | None = None
) -> bytes:
    """The bytes of ``graph`` in ``fmt``, Graphviz laying out ``dot_text`` again for
    SVG and PNG (its own renderer; the app's exports use :func:`render_drawn`)."""
    if fmt == "dot":
        return dot_text.encode("utf-8")
    if fmt == "json":
        return graph.to_json().encode("utf-8")
    if fmt not in ENGINE_FORMATS:
        raise ExportError(f"{fmt.upper()} is not rendered by Graphviz here; see graphviz_app.pdf.")
    extra = (f"-Gdpi={dpi:g}",) if dpi and fmt == "png" else ()
    return engine.run(dot_text, fmt, extra_args=extra)


def check_writable(path: Path) -> Path:
    """``path``'s folder, which must exist; raises :class:`ExportError` if it does not."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"Cannot write {path}: the folder {folder} does not exist.")
    return folder


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    folder = check_writable(path)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ExportError(f"Cannot write in {folder}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, _mode_for(path))
        os.replace(temp_name, path)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise ExportError(
            f"Cannot write {path}: {exc.strerror or exc}. Any existing file was left as it was."
        ) from exc


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or a new file's as ``open()`` would make it
    (mkstemp makes its file private to the user: an export must not be)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _current_umask() -> int:
    mask = os.umask(0)  # the only way to read it; set straight back
    os.umask(mask)
    return mask


_UMASK = _current_umask()
