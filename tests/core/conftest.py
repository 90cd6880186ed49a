"""Fixtures for the Qt-free core tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from graphviz_app.core.layout import engine as engine_module
from graphviz_app.core.layout.engine import GraphvizEngine, find_engine


@pytest.fixture(autouse=True)
def _seeded() -> None:
    """Every test sees the same random numbers, whatever ran before it."""
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def engine() -> GraphvizEngine:
    """The default Graphviz engine (graphviz-pure), found once per session."""
    return find_engine()


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    """Forget probed engines before and after a test that changes what is on disk or in env."""
    engine_module._probe.cache_clear()
    yield
    engine_module._probe.cache_clear()
