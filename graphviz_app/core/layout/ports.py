"""Where an edge crosses a block's border: the ports of the block's box in the top-level
layout, and the join of the routes on both sides of it.

A block (:mod:`graphviz_app.core.layout.blocks`) is laid out on its own with an entry
point per edge coming in, on its first rank, and an exit point per edge going out, on
its last. In the top-level layout the block is one box whose label is an HTML-like
table of the block's exact size, with a one-point cell (a *port*) on its first side
exactly where each entry point lies and on its last side where each exit point lies.
Graphviz routes each edge to its own port (``box:i3:n``), so the route outside ends
where the route inside starts: the edge is one smooth spline.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from graphviz_app.core.layout.dot import PX_PER_PT, EdgePath, GraphLayout, Point

#: rankdir -> (the side edges come in by, the side they go out by), as compass points.
SIDES = {"TB": ("n", "s"), "BT": ("s", "n"), "LR": ("w", "e"), "RL": ("e", "w")}
IN_PORT, OUT_PORT = "i", "o"  # a port's name: i3 (entry point in_3), o7 (exit point out_7)
SNAP_PX = 4.0  # routes that end this close to each other meet (ports sit on whole points)
_TABLE = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'


def port_box(
    layout: GraphLayout,
    entries: Sequence[str],
    exits: Sequence[str],
    rankdir: str,
    pad: int = 0,
) -> str:
    """DOT attributes of the box that stands for a block laid out as ``layout`` in the
    top-level layout: its size in whole points and a table label with a port at each
    of its ``entries`` and ``exits`` (point nodes of ``layout``: see :func:`port_name`).
    ``pad`` points of room go before the block, across the rank direction (see
    :func:`chain_pads`)."""
    first, last = SIDES[rankdir]
    across = first in ("n", "s")
    width = math.ceil(layout.width / PX_PER_PT - 0.01) + (pad if across else 0)
    height = math.ceil(layout.height / PX_PER_PT - 0.01) + (0 if across else pad)
    length = width if across else height
    sides = {
        first: _placed(_ports(layout, entries, first, pad), length),
        last: _placed(_ports(layout, exits, last, pad), length),
    }
    if across:  # one row of cells per side, a column per stretch between ports
        grid = _grid(sides["n"] + sides["s"], width)
        middle = _cell("", width, max(height - 2, 1), f' COLSPAN="{len(grid)}"')
        rows = ["".join(_cells(sides["n"], grid, True)), middle]
        rows.append("".join(_cells(sides["s"], grid, True)))
        table = "".join(f"<TR>{row}</TR>" for row in rows)
    else:  # a column of cells per side, a row per stretch between ports
        grid = _grid(sides["w"] + sides["e"], height)
        middle = _cell("", max(width - 2, 1), height, f' ROWSPAN="{len(grid)}"')
        left, right = _cells(sides["w"], grid, False), _cells(sides["e"], grid, False)
        table = "".join(
            f"<TR>{a}{'' if k else middle}{b}</TR>"
            for k, (a, b) in enumerate(zip(left, right, strict=True))
        )
    inches = f"width={_inches(width)} height={_inches(height)}"
    return f"shape=plaintext style=invis margin=0 {inches} label=<{_TABLE}{table}</TABLE>>"


def _inches(points: int) -> str:
    """``points`` in inches, rounded up (a box a hair smaller than its table warns)."""
    return f"{math.ceil(points / 72 * 10_000) / 10_000:.4f}"


def point_offset(layout: GraphLayout, point: str, rankdir: str) -> float:
    """Where ``point`` lies across the rank direction in ``layout``, in points."""
    box = next(b for b in layout.nodes if b.id == point)
    return (box.x if SIDES[rankdir][0] in ("n", "s") else box.y) / PX_PER_PT


def chain_pads(links: Mapping[str, tuple[str, float, float]]) -> dict[str, int]:
    """Room (points) before each block so that blocks in a row meet on one line.

    ``links`` maps a block to the block that feeds its first entry point, with where
    that feeding block's exit point and this block's entry point lie across the rank
    direction. Graphviz stacks the boxes of a column flush on one side, so a block is
    moved over by the difference, from the first of its row on: the row becomes a
    staircase (as Graphviz lays such a row out when it has it whole) and every edge
    between two of its blocks is a straight line."""
    pads: dict[str, int] = {}
    roots: dict[str, str] = {}
    for start in links:
        chain = [start]
        while chain[-1] in links and links[chain[-1]][0] not in pads:
            feeder = links[chain[-1]][0]
            if feeder in chain:  # not expected: blocks feed one another in a circle
                break
            chain.append(feeder)
        for block in reversed(chain):
            link = links.get(block)
            if link is None or link[0] not in pads:
                pads[block], roots[block] = 0, block
            else:
                feeder, exit_at, entry_at = link
                pads[block] = pads[feeder] + round(exit_at - entry_at)
                roots[block] = roots[feeder]
    lowest: dict[str, int] = {}
    for block, pad in pads.items():
        lowest[roots[block]] = min(lowest.get(roots[block], 0), pad)
    return {block: pad - lowest[roots[block]] for block, pad in pads.items()}


def port_name(point: str) -> str:
    """The port for a block's entry or exit point: ``in_3`` -> ``i3``, ``out_7`` -> ``o7``."""
    kind, _, number = point.partition("_")
    return (IN_PORT if kind == "in" else OUT_PORT) + number


def _ports(
    layout: GraphLayout, points: Sequence[str], side: str, pad: int
) -> list[tuple[str, float]]:
    """(port name, offset in points along ``side``) for each of ``points``."""
    at = {box.id: box for box in layout.nodes}
    across = side in ("n", "s")
    found = []
    for point in points:
        box = at[point]
        found.append((port_name(point), pad + (box.x if across else box.y) / PX_PER_PT))
    return sorted(found, key=lambda p: p[1])


def _placed(ports: Sequence[tuple[str, float]], length: int) -> list[tuple[str, int]]:
    """Each port's one-point cell: where it starts along a side ``length`` points long
    (centred on the port's offset; ports never share a cell)."""
    placed: list[tuple[str, int]] = []
    at = 0
    for name, offset in ports:
        start = min(max(round(offset - 0.5), at), max(length - 1, at))
        placed.append((name, start))
        at = start + 1
    return placed


def _grid(ports: Sequence[tuple[str, int]], length: int) -> list[tuple[int, int]]:
    """(start, size) of the stretches a side is cut into by every port's cell."""
    cuts = sorted({0, length} | {s for _, s in ports} | {s + 1 for _, s in ports})
    return [(a, b - a) for a, b in itertools.pairwise(cuts) if b > a]


def _cells(
    ports: Sequence[tuple[str, int]], grid: Sequence[tuple[int, int]], across: bool
) -> list[str]:
    """A side's cells along ``grid``: a port's cell where it has one, spacers else."""
    at = {start: name for name, start in ports}
    cells = []
    for start, size in grid:
        name = at.get(start, "") if size == 1 else ""
        cells.append(_cell(name, size, 1) if across else _cell(name, 1, size))
    return cells


def _cell(port: str, width: int, height: int, span: str = "") -> str:
    named = f' PORT="{port}"' if port else ""
    return f'<TD{named}{span} WIDTH="{width}" HEIGHT="{height}" FIXEDSIZE="TRUE"></TD>'


def port_ref(node: str, port: str, side: str) -> str:
    """``node:port:side``, an edge's end at a port (DOT)."""
    return f"{node}:{port}:{side}"


def eased(path: EdgePath, first: bool, last: bool, vertical: bool) -> EdgePath:
    """``path`` with the control points of its first (``first``) and last (``last``)
    piece kept between that piece's ends along the rank direction. Graphviz leaves a
    port along the port side's normal with long handles: across a short gap to a
    port far to the side, that S overshoots both ends (up into one box, down into
    the other); kept between the ends it is an even S within the gap."""
    points = list(path.points)
    axis = 1 if vertical else 0
    pieces = ([0] if first else []) + ([len(points) - 4] if last else [])
    for start in pieces:
        low, high = sorted((points[start][axis], points[start + 3][axis]))
        for k in (start + 1, start + 2):
            moved = list(points[k])
            moved[axis] = min(max(moved[axis], low), high)
            points[k] = (moved[0], moved[1])
    return replace(path, points=tuple(points))


def join(parts: Sequence[EdgePath], vertical: bool) -> EdgePath:
    """One spline through ``parts`` (a block's exit route, the top-level route, a
    block's entry route: each ends where the next starts, at a port, or straight
    below it). At each joint both neighbouring control points are turned onto the
    rank direction, so the spline crosses the block's border straight, as Graphviz's
    own splines cross a module's box. The change depends on each part alone, so
    edges that share a part (an exit route, a top-level route to an entry point)
    still share it, and branch off smoothly where they part."""
    points = list(parts[0].points)
    for part in parts[1:]:
        following = list(part.points)
        points[-2] = _turned(points[-2], points[-1], points[-4], vertical)
        gap = math.dist(points[-1], following[0])
        if gap > SNAP_PX:  # not expected: the parts do not meet; keep the edge whole
            points += list(straight(points[-1], following[0]))[1:]
        else:  # a port is on whole points and an entry point a hair inside the border
            following[0] = points[-1]
        following[1] = _turned(following[1], following[0], following[3], vertical)
        points += following[1:]
    return replace(parts[-1], points=tuple(points))


def _turned(control: Point, joint: Point, far: Point, vertical: bool) -> Point:
    """``control`` (a handle of ``joint``, in the cubic piece from ``joint`` to
    ``far``) turned onto the rank direction, no longer than the piece is deep along
    it (a longer handle would overshoot the piece's other end)."""
    axis = 1 if vertical else 0
    depth = far[axis] - joint[axis]
    length = min(math.hypot(control[0] - joint[0], control[1] - joint[1]), abs(depth))
    moved = list(joint)
    moved[axis] += math.copysign(length, depth)
    return (moved[0], moved[1])


def straight(start: Point, end: Point) -> tuple[Point, Point, Point, Point]:
    """A straight cubic Bezier from ``start`` to ``end``."""
    (x0, y0), (x1, y1) = start, end
    third = ((x1 - x0) / 3, (y1 - y0) / 3)
    return (start, (x0 + third[0], y0 + third[1]), (x0 + 2 * third[0], y0 + 2 * third[1]), end)
