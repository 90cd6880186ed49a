"""Repeated modules of a drawn graph: which modules to lay out on their own, once per kind.

A *block* is a module whose insides match another module's box for box: the same
box heights, nesting and edges, and the same way edges enter and leave it (widths
may differ: a kind is drawn as wide as its widest instance). GPT-2's twelve blocks are
one kind, a ResNet stage's blocks nearly so. :func:`find_blocks` picks them, and
:func:`block_dot` writes one instance as a graph of its own, with an entry point per
outside source (all on its first rank, before the module's box) and an exit point per
member feeding outside (all on its last rank); laying the kinds out and putting the
picture together is :mod:`graphviz_app.core.layout.block_layout`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from graphviz_app.core.graph.records import AutogradGraph, Edge, Node, NodeKind, module_prefixes
from graphviz_app.core.layout.dot import (
    PT_PER_INCH,
    Marks,
    attr_list,
    box_module,
    dot_header,
    edge_id,
    emit_branch,
    module_tree,
    node_attrs,
    quote,
)
from graphviz_app.core.layout.style import GraphStyle, node_label_lines, node_size_pt

MIN_BLOCK_NODES = 8  # smaller repeats (a Linear's 4 nodes) are not worth their seams
MIN_SPARED_NODES = 60  # nodes Graphviz must be spared for blocks to be used at all
CHAIN_CHUNK = 48  # collapsed modules in a row laid out as one block of a chain
MAX_SINGLE_NODES = 150  # a module without a twin is laid out on its own up to this size
ENTRY, EXIT = "in_", "out_"  # names of a block's entry and exit points
RANKING = "ranking"  # the id of the invisible edges that only place those points
ENTRY_RANKS = 3  # ranks between the entry points and the first members
_POINT = 'shape=point width=0.01 height=0.01 label=""'


@dataclass(frozen=True)
class Block:
    """One instance of a repeated module: its nodes and how edges cross its border."""

    module: str
    members: tuple[str, ...]  # node ids, graph order
    signature: str
    entries: tuple[str, ...]  # outside sources, in the order of the block's entry points
    exits: tuple[int, ...]  # local indices of members that feed something outside
    widths: tuple[float, ...]  # the members' box widths in inches (not in the signature)

    @cached_property
    def local(self) -> dict[str, int]:
        """Node id -> position among the members."""
        return {node_id: i for i, node_id in enumerate(self.members)}

    @cached_property
    def entry_of(self) -> dict[str, int]:
        """Outside source -> its entry point."""
        return {source: k for k, source in enumerate(self.entries)}


# ------------------------------------------------------------------ finding the blocks


def find_blocks(graph: AutogradGraph, style: GraphStyle) -> list[Block]:
    """The outermost modules that have a twin elsewhere in ``graph`` (empty when too
    few nodes would be spared)."""
    if not style.clusters:
        return []
    found = _Signatures(graph, style)
    counts: dict[str, int] = {}
    for block in found.blocks.values():
        counts[block.signature] = counts.get(block.signature, 0) + 1
    order = sorted(found.blocks, key=lambda m: (m.count("."), m))
    chosen: dict[str, Block] = {}
    for module in order:
        count = counts[found.blocks[module].signature]
        if count < 2 or _overlaps(module, chosen):
            continue
        # A module repeated twice whose insides repeat eight times (a ResNet stage) is
        # better laid out by those insides: fewer and smaller kinds.
        inside = (b for m, b in found.blocks.items() if m.startswith(module + "."))
        if not any(counts[b.signature] >= 2 * count for b in inside):
            chosen[module] = found.blocks[module]
    taken = {m for b in chosen.values() for m in b.members}
    chosen.update((b.module, b) for b in _chain_chunks(graph, found, taken))
    kinds = {b.signature: len(b.members) for b in chosen.values()}
    spared = sum(len(b.members) for b in chosen.values()) - sum(kinds.values())
    if spared < MIN_SPARED_NODES:
        return []
    for module in order:  # the rest of the graph in blocks too, while they are small
        block = found.blocks[module]
        if len(block.members) <= MAX_SINGLE_NODES and not _overlaps(module, chosen):
            chosen[module] = block
    return list(chosen.values())


def _chain_chunks(graph: AutogradGraph, found: _Signatures, taken: set[str]) -> list[Block]:
    """Long chains of collapsed modules in one box (an opened fold: 1,149 ResNet
    blocks in a row), cut into blocks of :data:`CHAIN_CHUNK`: one kind, laid out once."""
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    collapsed = {n.id for n in graph.nodes if n.kind is NodeKind.MODULE and n.id not in taken}
    after: dict[str, str] = {}
    for source, outgoing in found.outgoing.items():
        if source in collapsed and len(outgoing) == 1:
            target = outgoing[0].target
            alone = len(found.incoming.get(target, ())) == 1
            if target in collapsed and alone and found.box[source] == found.box[target]:
                after[source] = target
    chunks: list[Block] = []
    for head in sorted(set(after) - set(after.values()), key=order.__getitem__):
        chain = [head]
        while chain[-1] in after:
            chain.append(after[chain[-1]])
        box = found.box[head]
        for k in range(len(chain) // CHAIN_CHUNK if len(chain) >= 2 * CHAIN_CHUNK else 0):
            ids = sorted(chain[k * CHAIN_CHUNK : (k + 1) * CHAIN_CHUNK], key=order.__getitem__)
            name = f"{box}.#{head}:{k}" if box else f"#{head}:{k}"  # no module is named so
            chunks.append(found._block(name, ids))
    return chunks


def _overlaps(module: str, chosen: Mapping[str, Block]) -> bool:
    """True when ``module`` is inside, or holds, a module in ``chosen``."""
    if any(p in chosen for p in module_prefixes(module)):
        return True
    inside = module + "."
    return any(m.startswith(inside) for m in chosen)


class _Signatures:
    """Every module with enough nodes, as a :class:`Block` with its signature."""

    def __init__(self, graph: AutogradGraph, style: GraphStyle) -> None:
        self.box = {n.id: box_module(n) for n in graph.nodes}
        self.sizes = {n.id: _box_size(n, style) for n in graph.nodes}
        self.outgoing: dict[str, list[Edge]] = {}
        self.incoming: dict[str, list[Edge]] = {}
        for edge in graph.edges:
            self.outgoing.setdefault(edge.source, []).append(edge)
            self.incoming.setdefault(edge.target, []).append(edge)
        members: dict[str, list[str]] = {}
        for node in graph.nodes:
            module = self.box[node.id]
            for path in module_prefixes(module) if module else ():  # "": the whole model
                members.setdefault(path, []).append(node.id)
        self.blocks = {
            m: self._block(m, ids) for m, ids in members.items() if len(ids) >= MIN_BLOCK_NODES
        }

    def _block(self, module: str, ids: list[str]) -> Block:
        local = {node_id: i for i, node_id in enumerate(ids)}
        inner: list[tuple[int, int, int]] = []
        entering: dict[str, list[tuple[int, int]]] = {}
        exits: set[int] = set()
        for i, node_id in enumerate(ids):
            for edge in self.outgoing.get(node_id, ()):
                j = local.get(edge.target)
                if j is None:
                    exits.add(i)
                else:
                    inner.append((i, j, edge.input_index))
            for edge in self.incoming.get(node_id, ()):
                if edge.source not in local:
                    entering.setdefault(edge.source, []).append((i, edge.input_index))
        entries = sorted(entering, key=lambda s: (sorted(entering[s]), s))
        digest = hashlib.sha256()
        for node_id in ids:  # box heights, not widths: a kind is drawn at its widest
            height = self.sizes[node_id][1]
            digest.update(f"{_relative(self.box[node_id], module)}|{height}\n".encode())
        digest.update(repr(sorted(inner)).encode())
        digest.update(repr([sorted(entering[s]) for s in entries]).encode())
        digest.update(repr(sorted(exits)).encode())
        widths = tuple(self.sizes[node_id][0] for node_id in ids)
        signature = digest.hexdigest()[:24]
        return Block(module, tuple(ids), signature, tuple(entries), tuple(sorted(exits)), widths)


def _relative(module: str | None, block: str) -> str:
    return (module or "")[len(block) :]


def _box_size(node: Node, style: GraphStyle) -> tuple[float, str]:
    """A node's box width (inches) and height (as in the DOT text) and whether it is a
    collapsed module (drawn differently, so never the twin of an op)."""
    width, height = node_size_pt(node_label_lines(node, style), style.font_size)
    return width / PT_PER_INCH, f"{height / PT_PER_INCH:.3f}|{node.kind is NodeKind.MODULE}"


def block_dot(
    graph: AutogradGraph, style: GraphStyle, block: Block, widths: tuple[float, ...]
) -> str:
    """One instance's insides (boxes ``widths`` inches wide), with an entry point per
    outside source, above the module's box, and an exit point per member that feeds
    outside, on the last rank: the top level meets them at ports of the block's box
    right there (:mod:`graphviz_app.core.layout.ports`), so an edge crosses the border
    where its route inside starts or ends."""
    nodes = [graph.node(i) for i in block.members]
    parent = block.module.rpartition(".")[0]
    skip = len(module_prefixes(parent)) if parent else 0
    lines = dot_header(style)
    entries = [f"{ENTRY}{k}" for k in range(len(block.entries))]
    exits = [f"{EXIT}{i}" for i in block.exits]
    wide = dict(zip(block.members, widths, strict=True))
    lines += [f"\t{name} [{_POINT}]" for name in entries + exits]
    if exits:
        lines.append(f"\t{{rank=sink; {'; '.join(exits)}}}")
    emit_branch(lines, module_tree(nodes, style, skip), lambda n: _line(n, style, wide[n.id]), 1)
    lines += _inner_edges(graph, block)
    lines += _ranking_edges(graph, block, entries)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _inner_edges(graph: AutogradGraph, block: Block) -> list[str]:
    """The edges inside ``block``, from its entry points and to its exit points."""
    keep, lines = set(block.members), []
    sources, local, left = block.entry_of, block.local, set(block.exits)
    for edge in graph.edges:
        inside_source, inside_target = edge.source in keep, edge.target in keep
        source, target = quote(edge.source), quote(edge.target)
        if inside_source and inside_target:
            lines.append(f"\t{source} -> {target} [id={quote(edge_id(edge))}]")
        elif inside_target:
            name = f"{ENTRY}{sources[edge.source]}"
            route = quote(f"{name}>{edge.target}#{edge.input_index}")
            lines.append(f"\t{name} -> {target} [id={route}]")
        elif inside_source and local[edge.source] in left:  # one exit route per member
            left.discard(local[edge.source])
            name = f"{EXIT}{local[edge.source]}"
            lines.append(f"\t{source} -> {name} [arrowhead=none minlen=2 id={name}]")
    return lines


def _ranking_edges(graph: AutogradGraph, block: Block, entries: list[str]) -> list[str]:
    """Invisible edges that put the entry points a few ranks before each member that
    nothing inside feeds (its parameters): above the module's box, with room for the
    routes from them to spread out. (``rank=source`` leaves many ranks of room, and
    one rank puts them beside the box.)"""
    keep = set(block.members)
    fed = {e.target for e in graph.edges if e.target in keep and e.source in keep}
    starts = [quote(m) for m in block.members if m not in fed]
    lead = f"style=invis minlen={ENTRY_RANKS} id={RANKING}"
    return [f"\t{e} -> {m} [{lead}]" for e in entries for m in starts]


def _line(node: Node, style: GraphStyle, width: float) -> str:
    attrs = node_attrs(node, style, Marks())
    attrs["width"] = f"{width:.3f}"
    label = attrs.pop("label")
    return f"{quote(node.id)} [{attr_list(attrs, label)}]"
