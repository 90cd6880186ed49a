"""Inspector rows that once showed nonsense: empty saved tensors, AccumulateGrad's number."""

from __future__ import annotations

from graphviz_app.core.graph.records import SavedValue, TensorInfo
from graphviz_app.ui.panels.inspector import _saved_table, _sequence_text


def test_an_empty_saved_tensor_says_empty_not_nan() -> None:
    empty = TensorInfo(shape=(0,), dtype="float32", device="cpu")
    html = _saved_table((SavedValue("result1", empty),))
    assert "empty (no elements)" in html and "nan" not in html.lower()


def test_accumulate_grad_has_no_sequence_number() -> None:
    assert _sequence_text(2**64 - 1) == "none (runs when ready)"
    assert _sequence_text(12) == "12"
    assert _sequence_text(None) is None
