"""A recorded backward pass written as files: one self-contained HTML page (one
vector graph and each step's state) and, for a folder, one SVG per step beside it.

Used by ``walkthrough()`` in notebooks, the command line's ``--backward-steps`` and
the window's File > Export backward walk-through, so all three show the same thing.
"""

from __future__ import annotations

from pathlib import Path

from graphviz_app.io.export import ExportError, write_atomic
from graphviz_app.io.walkthrough.page import fragment_html, page_html
from graphviz_app.io.walkthrough.steps import RecordedPass, frames, page_data
from graphviz_app.io.walkthrough.svg import GraphSvg, read_graph_svg

__all__ = ["PAGE", "RecordedPass", "walkthrough_html", "write_walkthrough"]

PAGE = "index.html"


def walkthrough_html(recorded: RecordedPass, svg: str | bytes, fragment: bool = False) -> str:
    """The interactive page for ``recorded``, drawn on Graphviz's ``svg`` of its graph
    (``fragment``: a ``<div>`` for a notebook output instead of a whole document)."""
    base = _base(recorded, svg)
    data = page_data(recorded, base)
    make = fragment_html if fragment else page_html
    return make(recorded.title, base.text(), data)


def write_walkthrough(folder: Path, recorded: RecordedPass, svg: str | bytes) -> list[Path]:
    """Write ``step_0001.svg``... (each a complete SVG of that step) and ``index.html``
    (the interactive page) into ``folder``; return the files, the page last."""
    base = _base(recorded, svg)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, frame in enumerate(frames(recorded, base)):
        path = folder / f"step_{index + 1:04d}.svg"
        write_atomic(path, frame.encode("utf-8"))
        written.append(path)
    page = page_html(recorded.title, base.text(), page_data(recorded, base))
    write_atomic(folder / PAGE, page.encode("utf-8"))
    return [*written, folder / PAGE]


def _base(recorded: RecordedPass, svg: str | bytes) -> GraphSvg:
    if recorded.count == 0:
        raise ExportError("There is no recorded backward pass to export: run backward first.")
    return read_graph_svg(svg)
