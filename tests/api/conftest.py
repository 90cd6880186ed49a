"""Fixtures for the Python API's tests: torchviz's oracle helpers from tests/core."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))  # core_helpers


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)
