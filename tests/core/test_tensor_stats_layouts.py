"""Statistics and histograms of expanded, transposed and sliced tensors equal those of
the same values laid out contiguously (they are computed without the copies)."""

from __future__ import annotations

import math

import pytest
import torch

from graphviz_app.core.graph.tensor_info import (
    distinct_values,
    histogram_of_tensor,
    tensor_stats,
)


def layouts() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    base = torch.randn(6, 5, generator=g)
    with_nan = base.clone()
    with_nan[1, 2], with_nan[4, 0] = float("nan"), float("inf")
    return {
        "expanded": torch.randn(1, 5, generator=g).expand(7, 5),
        "expanded middle": torch.randn(3, 1, 4, generator=g).expand(3, 6, 4),
        "scalar expanded": torch.tensor(2.5).expand(4, 3),
        "transposed": base.t(),
        "permuted": torch.randn(2, 3, 4, generator=g).permute(2, 0, 1),
        "sliced": base[:, ::2],
        "expanded with nan": with_nan[:1].expand(3, 5),
        "transposed with nan": with_nan.t(),
        "big transposed": torch.randn(300, 200, generator=g).t(),
        "bfloat16 transposed": base.to(torch.bfloat16).t(),
    }


@pytest.mark.parametrize(("name", "tensor"), list(layouts().items()))
def test_stats_equal_those_of_a_contiguous_copy(name: str, tensor: torch.Tensor) -> None:
    got, want = tensor_stats(tensor), tensor_stats(tensor.contiguous().reshape(-1))
    assert (got.numel, got.nan_count, got.inf_count) == (want.numel, want.nan_count, want.inf_count)
    for field in ("min", "max", "mean", "std", "norm"):
        a, b = getattr(got, field), getattr(want, field)
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(("name", "tensor"), list(layouts().items()))
def test_distinct_values_are_a_view_of_each_value_once(name: str, tensor: torch.Tensor) -> None:
    once, repeat = distinct_values(tensor)
    assert once.numel() * repeat == tensor.numel()
    assert once.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr()


def test_a_big_transposed_tensors_histogram_samples_in_row_major_order() -> None:
    tensor = torch.randn(400, 300, generator=torch.Generator().manual_seed(5)).t()
    stats = tensor_stats(tensor)
    got = histogram_of_tensor(tensor, stats)
    want = histogram_of_tensor(tensor.contiguous(), stats)
    assert got is not None and got == want and got.sampled
