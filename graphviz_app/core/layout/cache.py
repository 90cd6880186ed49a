"""Remember layouts, so a step that keeps the graph's structure draws without Graphviz."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Generic, TypeVar

from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.style import GraphStyle, node_label_lines

V = TypeVar("V")
Key = tuple[str, str]


class LayoutCache(Generic[V]):
    """A small least-recently-used map from a picture's key to its layout."""

    def __init__(self, capacity: int = 16) -> None:
        self._items: OrderedDict[Key, V] = OrderedDict()
        self._capacity = capacity

    @staticmethod
    def key(dot_text: str, engine: GraphvizEngine) -> Key:
        """The key of a DOT text laid out by ``engine``."""
        return hashlib.sha256(dot_text.encode("utf-8")).hexdigest(), engine.path

    @staticmethod
    def picture_key(graph: AutogradGraph, style: GraphStyle, engine: GraphvizEngine) -> Key:
        """The key of everything the DOT text of ``graph`` in ``style`` depends on.

        Structure, labels and style, but not values unless they are on the labels: two
        forward passes of one model share a key, so the second needs no DOT text and
        no Graphviz run (making the DOT text alone costs ~40 ms on ResNet-50).
        """
        digest = hashlib.sha256(repr(style).encode("utf-8"))
        digest.update(graph.structure_key().encode("ascii"))
        for node in graph.nodes:
            digest.update("\x1f".join(node_label_lines(node, style)).encode("utf-8"))
            digest.update(b"\x1e")
        return digest.hexdigest(), engine.path

    def get(self, key: Key) -> V | None:
        """The cached value for ``key``, marking it recently used."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Key, value: V) -> None:
        """Store ``value``, dropping the least recently used beyond capacity."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        self._items.clear()
