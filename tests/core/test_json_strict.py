"""The JSON export is strict JSON even when values are NaN or infinite."""

from __future__ import annotations

import json

import torch

from graphviz_app.core.autograd.capture import capture_graph


def reject_constant(name: str) -> None:
    raise AssertionError(f"non-standard JSON constant {name}")


def test_nan_and_inf_become_strings() -> None:
    x = torch.tensor([1.0, float("nan"), float("inf")], requires_grad=True)
    text = capture_graph((x * 2).sum(), inputs={"x": x}).to_json()
    data = json.loads(text, parse_constant=reject_constant)
    leaf = next(n for n in data["nodes"] if n["kind"] == "input")
    assert leaf["tensor"]["preview"] == [1.0, "NaN", "Infinity"]
    assert leaf["tensor"]["stats"]["nan_count"] == 1
