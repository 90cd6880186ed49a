"""A running layout stops promptly when cancelled, and on its timeout."""

from __future__ import annotations

import json
import threading
import time

import pytest

from graphviz_app.core.layout.engine import EngineError, GraphvizEngine, find_engine
from graphviz_app.core.runtime.cancel import Cancelled, CancelToken


def big_dot(nodes: int = 2500) -> str:
    edges = "\n".join(
        f"n{i} -> n{(i * 7 + 3) % nodes}; n{i} -> n{i + 1};" for i in range(nodes - 1)
    )
    return f"digraph {{ {edges} }}"


def test_cancel_kills_the_engine_and_raises_cancelled() -> None:
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        find_engine().run(big_dot(), "json", timeout=120, cancel=token)
    # The layout itself takes many seconds; a cancel is honoured within a poll or two.
    assert time.monotonic() - start < 5


def test_timeout_is_an_engine_error_with_advice() -> None:
    with pytest.raises(EngineError, match="did not finish within"):
        find_engine().run(big_dot(), "json", timeout=0.2)


def test_a_syntax_error_in_dot_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="failed"):
        find_engine().run("digraph { a -> }", "json")


def test_several_layouts_run_side_by_side_and_come_back_in_order(engine: GraphvizEngine) -> None:
    texts = [f"digraph g{i} {{ a{i} -> b{i} }}" for i in range(3)]
    outputs = engine.run_many(texts, "json0")
    assert [json.loads(out)["name"] for out in outputs] == ["g0", "g1", "g2"]


def test_a_failing_layout_among_several_is_reported(engine: GraphvizEngine) -> None:
    with pytest.raises(EngineError, match="failed"):
        engine.run_many(["digraph ok { a -> b }", "digraph broken { a -> }"], "json0")
