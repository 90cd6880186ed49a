"""Paths of the test data for the loader tests."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = DATA / "bad_models"
MODELS = DATA / "models"
