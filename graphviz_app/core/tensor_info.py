"""Turn a live tensor into a small, immutable :class:`TensorInfo` record.

Only summaries and a bounded preview are kept, so a record never keeps a tensor
alive and stays a few hundred bytes whatever the tensor's size.
"""

from __future__ import annotations

import math

import torch

from graphviz_app.core.graph import GradMeta, TensorInfo, TensorStats

DEFAULT_PREVIEW = 64
_WIDE_ENOUGH = (torch.float32, torch.float64)


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``float32``."""
    return str(dtype).removeprefix("torch.")


def describe_tensor(
    t: torch.Tensor, preview_limit: int = DEFAULT_PREVIEW, with_values: bool = True
) -> TensorInfo:
    """Shape, dtype and device of ``t``, plus statistics and a preview when values exist.

    Meta tensors, sparse tensors and ``with_values=False`` give a record without
    values. The preview is the first ``preview_limit`` elements in row-major order.
    """
    shape = tuple(int(d) for d in t.shape)
    base = {
        "shape": shape,
        "dtype": dtype_name(t.dtype),
        "device": str(t.device),
        "requires_grad": bool(t.requires_grad),
    }
    if not with_values or not _has_values(t):
        return TensorInfo(**base)  # type: ignore[arg-type]
    flat = _as_real(t.detach()).reshape(-1)
    preview = flat[:preview_limit].tolist() if preview_limit > 0 else []
    return TensorInfo(
        **base,  # type: ignore[arg-type]
        stats=tensor_stats(flat),
        preview=tuple(float(v) for v in preview),
        preview_truncated=flat.numel() > len(preview),
    )


def grad_meta(shape: object, dtype: torch.dtype, device: object) -> GradMeta:
    """A :class:`GradMeta` from the pieces autograd exposes on ``_input_metadata``."""
    dims = tuple(int(d) for d in shape) if isinstance(shape, (tuple, list, torch.Size)) else ()
    return GradMeta(shape=dims, dtype=dtype_name(dtype), device=str(device))


def tensor_stats(flat: torch.Tensor) -> TensorStats:
    """Statistics over the finite values of a 1-D real tensor, plus NaN/Inf counts."""
    numel = flat.numel()
    if numel == 0:
        nan = float("nan")
        return TensorStats(0, nan, nan, nan, nan, 0.0, 0, 0)
    values = flat if flat.is_floating_point() else flat.to(torch.float64)
    finite = torch.isfinite(values)
    finite_count = int(finite.sum())
    nan_count = int(torch.isnan(values).sum()) if finite_count < numel else 0
    inf_count = numel - finite_count - nan_count
    if finite_count < numel:
        values = values[finite]
    return _finite_stats(values, numel, nan_count, inf_count)


def _finite_stats(values: torch.Tensor, numel: int, nan_count: int, inf_count: int) -> TensorStats:
    if values.numel() == 0:
        nan = float("nan")
        return TensorStats(numel, nan, nan, nan, nan, nan, nan_count, inf_count)
    # Half types overflow when summed: reduce them in float64. float32 stays as is
    # (a copy of every activation would double the recorder's cost).
    wide = values if values.dtype in _WIDE_ENOUGH else values.to(torch.float64)
    low, high = torch.aminmax(wide)
    std = float(wide.std()) if wide.numel() > 1 else 0.0
    return TensorStats(
        numel=numel,
        min=float(low),
        max=float(high),
        mean=float(wide.mean()),
        std=std if math.isfinite(std) else float("nan"),
        norm=float(torch.linalg.vector_norm(wide)),
        nan_count=nan_count,
        inf_count=inf_count,
    )


def _has_values(t: torch.Tensor) -> bool:
    return t.device.type != "meta" and t.layout == torch.strided and not t.is_nested


def _as_real(t: torch.Tensor) -> torch.Tensor:
    if t.is_complex():
        return t.abs()
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    return t
