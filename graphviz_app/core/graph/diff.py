"""What changed between the graphs of two forward passes.

Every forward pass builds a new autograd graph. Usually it has the same structure
as the previous one (only the numbers differ) and the layout is reused; a dynamic
model (a random number of layers) builds a different one, and this says how.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from graphviz_app.core.graph.records import AutogradGraph


@dataclass(frozen=True)
class StructureChange:
    """The difference between two graphs' structures, counted by node name.

    ``added``/``removed`` hold ``(name, count)`` pairs, such as
    ``("AddmmBackward0", 2)``; a node's name is its backward class (or the
    parameter's name for leaves). ``rewired`` is set when the same nodes are
    connected differently.
    """

    changed: bool
    added: tuple[tuple[str, int], ...] = ()
    removed: tuple[tuple[str, int], ...] = ()
    rewired: bool = False
    nodes_before: int = 0
    nodes_after: int = 0

    def describe(self) -> str:
        """One sentence for the status bar ("" when nothing changed)."""
        if not self.changed:
            return ""
        parts = []
        if self.added:
            parts.append("added " + _counts(self.added))
        if self.removed:
            parts.append("removed " + _counts(self.removed))
        if self.rewired and not parts:
            parts.append("same nodes, connected differently")
        return (
            f"The graph changed ({self.nodes_before} -> {self.nodes_after} nodes): "
            + "; ".join(parts)
            + "."
        )


def structure_change(before: AutogradGraph | None, after: AutogradGraph) -> StructureChange:
    """How ``after``'s structure differs from ``before``'s (no change when ``before``
    is None: there is nothing to compare with)."""
    if before is None or before.structure_key() == after.structure_key():
        size = len(after.nodes)
        return StructureChange(False, nodes_before=size, nodes_after=size)
    old, new = _names(before), _names(after)
    added, removed = new - old, old - new
    return StructureChange(
        changed=True,
        added=tuple(sorted(added.items())),
        removed=tuple(sorted(removed.items())),
        rewired=not added and not removed,
        nodes_before=len(before.nodes),
        nodes_after=len(after.nodes),
    )


def _names(graph: AutogradGraph) -> Counter[str]:
    return Counter(node.title for node in graph.nodes)


def _counts(items: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{count} x {name}" for name, count in items)


def counterpart(before: AutogradGraph, node_id: str, after: AutogradGraph) -> str | None:
    """The node of ``after`` that plays the role ``node_id`` played in ``before``.

    Node ids are per graph, so a selection must be carried over by role: the same
    parameter (by name), else the same backward class in the same module, the k-th
    such node in both graphs (in capture order). None when ``after`` has no such node.
    """
    if node_id not in before:
        return None
    old = before.node(node_id)
    if old.leaf_name:
        return next((n.id for n in after.nodes if n.leaf_name == old.leaf_name), None)
    role = (old.name, old.module)
    same_role_before = [n.id for n in before.nodes if (n.name, n.module) == role]
    same_role_after = [n.id for n in after.nodes if (n.name, n.module) == role]
    index = same_role_before.index(node_id)
    return same_role_after[index] if index < len(same_role_after) else None
