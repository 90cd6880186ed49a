"""Find queries: words and predicates over a graph's nodes (no Qt here).

A query is a list of terms that must all hold. A term is a word matched in the node's
searchable text (class name, parameter name, forward op, module path, shape, dtype),
or a predicate over its numbers::

    grad is nan        the gradient that reached the node holds NaN or Inf
    value is nan       the node's values hold NaN or Inf (so does the word "nan")
    grad > 1e3         the gradient's norm (also <, >=, <=, =)
    value < 1e-6       the norm of the node's tensor; max, min, mean, std likewise
    module:fc1         the module path starts with fc1
    shape:(16, 8)      the tensor's shape (spaces optional)
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from graphviz_app.core.graph.records import AutogradGraph, Node, TensorInfo, TensorStats
from graphviz_app.core.layout.style import has_non_finite, shape_line

Predicate = Callable[[Node, "TensorInfo | None"], bool]
_COMPARE = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}
_COMPARE |= {"=": operator.eq, "==": operator.eq}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
_TERM = re.compile(
    rf"(?P<field>grad|value|norm|max|min|mean|std)\s*(?P<op>>=|<=|==|>|<|=)\s*"
    rf"(?P<number>{_NUMBER})"
    r"|(?P<what>grad|value)\s+is\s+(?P<kind>nan|inf|finite|zero)"
    r"|module:(?P<module>\S+)"
    r"|shape:\s*(?P<shape>\(?[\d,\s]*\)?)",
    re.IGNORECASE,
)


class QueryError(ValueError):
    """A query that cannot be understood (its message says why)."""


@dataclass(frozen=True)
class Query:
    """A parsed query: words to find in the node's text, and predicates."""

    words: tuple[str, ...]
    predicates: tuple[Predicate, ...]

    @property
    def empty(self) -> bool:
        """True when the query asks for nothing."""
        return not self.words and not self.predicates


def search_text(node: Node) -> str:
    """Everything a query word can match for ``node``, in lower case."""
    parts = [node.name, node.leaf_name or "", node.op or "", node.module or ""]
    if node.tensor is not None:
        parts.append(shape_line(node.tensor))
    if has_non_finite(node):
        parts.append("nan inf non-finite")
    return " ".join(parts).lower()


def parse_query(text: str) -> Query:
    """Split ``text`` into predicates and plain words."""
    predicates: list[Predicate] = []
    rest = text
    for match in _TERM.finditer(text):
        predicates.append(_predicate(match))
        rest = rest.replace(match.group(0), " ", 1)
    words = tuple(rest.lower().split())
    return Query(words, tuple(predicates))


def find_nodes(
    graph: AutogradGraph, text: str, grads: Mapping[str, TensorInfo] | None = None
) -> list[str]:
    """Ids of the nodes matching every term of ``text``, in graph order.

    ``grads`` maps a node id to the gradient that reached it (after backward).
    """
    query = parse_query(text)
    if query.empty:
        return []
    grads = grads or {}
    return [
        n.id
        for n in graph.nodes
        if all(w in search_text(n) for w in query.words)
        and all(p(n, grads.get(n.id)) for p in query.predicates)
    ]


def _predicate(match: re.Match[str]) -> Predicate:
    if match.group("module"):
        prefix = match.group("module").lower()
        return lambda n, g: (
            n.module is not None
            and (n.module.lower() == prefix or n.module.lower().startswith(prefix + "."))
        )
    if match.group("shape") is not None:
        wanted = tuple(int(d) for d in re.findall(r"\d+", match.group("shape")))
        return lambda n, g: n.tensor is not None and n.tensor.shape == wanted
    if match.group("what"):
        return _state_predicate(match.group("what").lower(), match.group("kind").lower())
    return _compare_predicate(
        match.group("field").lower(), match.group("op"), match.group("number")
    )


def _stats(field: str, node: Node, grad: TensorInfo | None) -> TensorStats | None:
    info = grad if field == "grad" else node.tensor
    return info.stats if info is not None else None


def _state_predicate(what: str, kind: str) -> Predicate:
    def holds(node: Node, grad: TensorInfo | None) -> bool:
        stats = _stats(what, node, grad)
        if stats is None:
            return False
        if kind == "nan":
            return stats.has_non_finite
        if kind == "inf":
            return stats.inf_count > 0
        if kind == "zero":
            return not stats.has_non_finite and stats.norm == 0.0
        return not stats.has_non_finite

    return holds


def _compare_predicate(field: str, op: str, number: str) -> Predicate:
    try:
        bound = float(number)
    except ValueError as exc:  # the pattern only lets numbers through; be safe
        raise QueryError(f"not a number: {number}") from exc
    compare = _COMPARE[op]
    attribute = "norm" if field in ("grad", "value", "norm") else field

    def holds(node: Node, grad: TensorInfo | None) -> bool:
        stats = _stats("grad" if field == "grad" else "value", node, grad)
        if stats is None:
            return False
        value = float(getattr(stats, attribute))
        return not math.isnan(value) and bool(compare(value, bound))

    return holds
