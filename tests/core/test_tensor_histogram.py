"""Histograms in tensor summaries: numpy's counts over the finite values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from graphviz_app.core.autograd.capture import capture_graph
from graphviz_app.core.graph.records import TensorInfo
from graphviz_app.core.graph.tensor_info import (
    HISTOGRAM_BINS,
    HISTOGRAM_SAMPLE,
    TensorSummary,
    describe_tensor,
)


def numpy_counts(values: np.ndarray, low: float, high: float) -> list[int]:
    finite = values[np.isfinite(values)]
    bins = min(HISTOGRAM_BINS, math.ceil(math.sqrt(finite.size)))
    return np.histogram(finite, bins=bins, range=(low, high))[0].tolist()


@pytest.mark.parametrize("numel", [7, 200, 3_000, HISTOGRAM_SAMPLE])
def test_counts_equal_numpys_over_every_value(numel: int) -> None:
    torch.manual_seed(numel)
    t = torch.randn(numel, dtype=torch.float64) * 3 + 1
    info = describe_tensor(t)
    assert isinstance(info, TensorSummary) and isinstance(info, TensorInfo)
    hist = info.histogram
    assert hist is not None and not hist.sampled
    assert (hist.low, hist.high) == (t.min().item(), t.max().item())
    assert list(hist.counts) == numpy_counts(t.numpy(), hist.low, hist.high)
    assert hist.total == numel
    bins = min(HISTOGRAM_BINS, math.ceil(math.sqrt(numel)))  # 7 values: 3 bins, not 24
    assert len(hist.edges()) == bins + 1 and hist.edges()[-1] == hist.high


@pytest.mark.parametrize("numel", [40, 4_000])  # the Python path and the torch path
def test_nan_and_inf_are_left_out(numel: int) -> None:
    t = torch.linspace(-1, 1, numel)
    t[::7] = float("nan")
    t[1::11] = float("inf")
    hist = describe_tensor(t).histogram
    assert hist is not None
    assert hist.total == int(torch.isfinite(t).sum())
    assert list(hist.counts) == numpy_counts(t.numpy().astype(np.float64), hist.low, hist.high)


def test_constant_and_all_nan_tensors() -> None:
    const = describe_tensor(torch.full((3, 400), 2.5)).histogram
    assert const is not None and const.counts == (1200,) and const.low == const.high == 2.5
    assert describe_tensor(torch.full((5,), float("nan"))).histogram is None
    assert describe_tensor(torch.full((500,), float("nan"))).histogram is None


def test_a_big_tensor_is_sampled_evenly_with_an_exact_range() -> None:
    torch.manual_seed(0)
    t = torch.rand(10 * HISTOGRAM_SAMPLE)
    hist = describe_tensor(t).histogram
    assert hist is not None and hist.sampled
    assert hist.total == t[::10].numel()
    assert (hist.low, hist.high) == (t.min().item(), t.max().item())
    # an even sample of a uniform tensor: every bin near 1/24 of the sample
    assert max(hist.counts) < 1.2 * hist.total / HISTOGRAM_BINS


def test_integer_and_non_contiguous_tensors() -> None:
    ints = torch.arange(1000).reshape(10, 100)
    hist = describe_tensor(ints.t()).histogram
    assert hist is not None
    assert list(hist.counts) == numpy_counts(ints.numpy().astype(np.float64), 0, 999)


def test_meta_tensors_have_no_histogram() -> None:
    info = describe_tensor(torch.empty(3, 4, device="meta"))
    assert info.stats is None and getattr(info, "histogram", None) is None


def test_captured_graphs_carry_histograms_into_json() -> None:
    x = torch.randn(300, requires_grad=True)
    graph = capture_graph((x * 2).sum(), inputs={"x": x})
    leaf = next(n for n in graph.nodes if n.leaf_name == "x")
    assert isinstance(leaf.tensor, TensorSummary) and leaf.tensor.histogram is not None
    data = json.loads(graph.to_json())
    tensor = next(n for n in data["nodes"] if n["leaf_name"] == "x")["tensor"]
    assert sum(tensor["histogram"]["counts"]) == 300
