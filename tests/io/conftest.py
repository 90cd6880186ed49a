"""Fixtures for the loader tests (no Qt)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A path that corpus files write to when their code runs (it must stay absent)."""
    path = tmp_path / "marker.txt"
    monkeypatch.setenv("GRAPHVIZ_APP_TEST_MARKER", str(path))
    yield path
