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

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from graphviz_app.core.layout.dot import PX_PER_PT, EdgePath, GraphLayout, Point

#: rankdir -> (the side edges come in by, the side they go out by), as compass points.
SIDES = {"TB": ("n", "s"), "BT": ("s", "n"), "LR": ("w", "e"), "RL": ("e", "w")}
IN_PORT, OUT_PORT = "i", "o"  # a port's name: i3 (entry point in_3), o7 (exit point out_7)
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
    sides = {first: _ports(layout, entries, first, pad), last: _ports(layout, exits, last, pad)}
    if across:
        top, bottom = _strip(sides["n"], width, True), _strip(sides["s"], width, True)
        middle = _cell("", width, max(height - 2, 1))
        table = f"<TR><TD>{top}</TD></TR><TR>{middle}</TR><TR><TD>{bottom}</TD></TR>"
    else:
        left, right = _strip(sides["w"], height, False), _strip(sides["e"], height, False)
        middle = _cell("", max(width - 2, 1), height)
        table = f"<TR><TD>{left}</TD>{middle}<TD>{right}</TD></TR>"
    return (
        f"shape=plaintext style=invis margin=0 width={width / 72:.4f} "
        f"height={height / 72:.4f} label=<{_TABLE}{table}</TABLE>>"
    )


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


def _strip(ports: Sequence[tuple[str, float]], length: int, across: bool) -> str:
    """A row (``across``) or column of one-point cells, ``length`` points long, with a
    port cell centred on each port's offset (the rest are spacers)."""
    cells: list[str] = []
    at = 0
    for name, offset in ports:
        start = min(max(round(offset - 0.5), at), max(length - 1, at))
        if start > at:
            cells.append(_cell("", start - at, 1) if across else _cell("", 1, start - at))
        cells.append(_cell(name, 1, 1))
        at = start + 1
    if at < length:
        cells.append(_cell("", length - at, 1) if across else _cell("", 1, length - at))
    if across:
        return f"{_TABLE}<TR>{''.join(cells)}</TR></TABLE>"
    return _TABLE + "".join(f"<TR>{c}</TR>" for c in cells) + "</TABLE>"


def _cell(port: str, width: int, height: int) -> str:
    named = f' PORT="{port}"' if port else ""
    return f'<TD{named} WIDTH="{width}" HEIGHT="{height}" FIXEDSIZE="TRUE"></TD>'


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
        if following[0] != points[-1]:  # an entry point a little inside the border
            points += list(_straight_piece(points[-1], following[0]))[1:]
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


def _straight_piece(start: Point, end: Point) -> tuple[Point, Point, Point, Point]:
    (x0, y0), (x1, y1) = start, end
    dx, dy = (x1 - x0) / 3, (y1 - y0) / 3
    return (start, (x0 + dx, y0 + dy), (x0 + 2 * dx, y0 + 2 * dy), end)
