"""Turn a live tensor into a small, immutable :class:`TensorInfo` record.

Only summaries, a bounded preview and a histogram are kept, so a record never keeps
a tensor alive and stays a few hundred bytes whatever the tensor's size.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from graphviz_app.core.graph.records import GradMeta, TensorInfo, TensorStats
from graphviz_app.core.graph.records import Histogram as Histogram  # handed on: its home was here

DEFAULT_PREVIEW = 64
HISTOGRAM_BINS = 24
#: Values a histogram counts at most: a bigger tensor is sampled at an even stride
#: (counting all of a 1M-value tensor costs ~12 ms, ten times its statistics; 4,096
#: values, ~170 a bin, cost 19 us where 16,384 cost 62: a ResNet-50 backward describes
#: 500 gradients).
HISTOGRAM_SAMPLE = 4_096
CANCELLATION = 1e-3  # variance / mean^2 below which std is recomputed directly
#: Up to this many elements, statistics are computed in Python: measured crossover ~40
#: (16 values: 14 us in Python, 22 in torch; 256 values: 100 us against 25).
SMALL_TENSOR = 32


@dataclass(frozen=True)
class TensorSummary(TensorInfo):
    """A :class:`TensorInfo` with the histogram of all its finite values.

    The histogram is computed where the tensor lives (the worker), over every
    value, so that a window can plot it without the tensor.
    """

    histogram: Histogram | None = None


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``float32``."""
    return str(dtype).removeprefix("torch.")


def describe_tensor(
    t: torch.Tensor,
    preview_limit: int = DEFAULT_PREVIEW,
    with_values: bool = True,
    histogram: bool = True,
) -> TensorInfo:
    """Shape, dtype and device of ``t``, plus statistics and a preview when values exist.

    Meta tensors, sparse tensors and ``with_values=False`` give a record without
    values. The preview is the first ``preview_limit`` elements in row-major order;
    the histogram (about sqrt(n) bins, at most :data:`HISTOGRAM_BINS`) covers all finite
    values (``histogram=False``: none, for tensors whose histogram is never drawn)."""
    shape = tuple(int(d) for d in t.shape)
    base = {
        "shape": shape,
        "dtype": dtype_name(t.dtype),
        "device": str(t.device),
        "requires_grad": bool(t.requires_grad),
    }
    if not with_values or not _has_values(t):
        return TensorInfo(**base)  # type: ignore[arg-type]
    real = _as_real(t.detach())
    stats, preview, counts = _values_of(real, max(preview_limit, 0), histogram)
    return TensorSummary(
        **base,  # type: ignore[arg-type]
        stats=stats,
        preview=tuple(preview),
        preview_truncated=real.numel() > len(preview),
        histogram=counts,
    )


def _values_of(
    real: torch.Tensor, limit: int, histogram: bool
) -> tuple[TensorStats, list[float], Histogram | None]:
    """Statistics, the first ``limit`` values and the histogram of a real tensor."""
    if real.numel() <= SMALL_TENSOR:
        # Small tensors (most of a teaching model's): one copy to Python beats the
        # fixed overhead of several torch reductions.
        values = [float(v) for v in real.reshape(-1).tolist()]
        stats = stats_of_values(values)
        return stats, values[:limit], histogram_of_values(values, stats) if histogram else None
    stats = tensor_stats(real)
    preview = [float(v) for v in leading_values(real, limit).tolist()]
    if not histogram:
        return stats, preview, None
    bins = bins_for(stats.numel - stats.nan_count - stats.inf_count)  # as the Python path
    return stats, preview, histogram_of_tensor(real, stats, bins)


def describe_flagging_non_finite(
    t: torch.Tensor, preview_limit: int = DEFAULT_PREVIEW
) -> TensorInfo:
    """Shape, dtype and device of ``t``, with statistics (no histogram) only when it may
    hold a NaN or an infinity: what a picture needs (its labels flag those), for one
    sum per tensor instead of full statistics. A finite sum proves every value finite;
    a sum that overflowed to infinity only costs the full statistics, which then say
    there is nothing to flag."""
    inexact = t.is_floating_point() or t.is_complex()
    if _has_values(t) and t.numel() and inexact and not bool(t.detach().sum().isfinite()):
        return describe_tensor(t, preview_limit, with_values=True, histogram=False)
    return describe_tensor(t, preview_limit, with_values=False)


def non_finite_flags(tensors: Sequence[torch.Tensor]) -> list[bool]:
    """For each of ``tensors``, whether it holds a NaN or an infinity.

    One sum per tensor (a finite sum proves every value finite, and reading each value
    once is the least any check can do; no boolean copy), the sums then checked all
    at once, and only a non-finite sum (a NaN, an Inf, or an overflow) confirmed value
    by value. Tensors without values (meta, sparse, integer, empty) hold neither."""
    flags = [False] * len(tensors)
    checked = [i for i, t in enumerate(tensors) if _may_hold_non_finite(t)]
    if not checked:
        return flags
    with torch.no_grad():
        sums = [tensors[i].detach().sum() for i in checked]
        real = [(s.abs() if s.is_complex() else s).to("cpu", torch.float32) for s in sums]
        suspects = (~torch.isfinite(torch.stack(real))).nonzero().flatten().tolist()
        for k in suspects:
            flags[checked[k]] = not bool(torch.isfinite(tensors[checked[k]].detach()).all())
    return flags


def non_finite_flags_soon(tensors: Sequence[torch.Tensor]) -> Callable[[], list[bool]]:
    """:func:`non_finite_flags` started on a thread of its own; call what it returns to
    wait for the flags. Torch reads the values without holding the GIL, so the check
    overlaps whatever the caller does meanwhile that does not need the GIL either
    (waiting for Graphviz, above all)."""
    outcome: list[list[bool] | BaseException] = []

    def check() -> None:
        try:
            outcome.append(non_finite_flags(tensors))
        except BaseException as exc:  # raised where the caller waits
            outcome.append(exc)

    thread = threading.Thread(target=check, name="non-finite check", daemon=True)
    thread.start()

    def wait() -> list[bool]:
        thread.join()
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    return wait


def _may_hold_non_finite(t: torch.Tensor) -> bool:
    return _has_values(t) and bool(t.numel()) and (t.is_floating_point() or t.is_complex())


def bins_for(count: int) -> int:
    """Bins for ``count`` values: about the square root (8 values in 24 bins would be
    mostly empty bars), at most :data:`HISTOGRAM_BINS`."""
    return max(1, min(HISTOGRAM_BINS, math.ceil(math.sqrt(count))))


def histogram_of_values(
    values: list[float], stats: TensorStats, bins: int | None = None
) -> Histogram | None:
    """The histogram of the finite ``values`` over [stats.min, stats.max], in Python
    (``bins`` defaults to :func:`bins_for` their count)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    low, high = stats.min, stats.max
    if high <= low:
        return Histogram(low, high, (len(finite),))
    bins = bins or bins_for(len(finite))
    counts = [0] * bins
    scale = bins / (high - low)
    for v in finite:
        counts[min(int((v - low) * scale), bins - 1)] += 1
    return Histogram(low, high, tuple(counts))


def histogram_of_tensor(
    values: torch.Tensor, stats: TensorStats, bins: int = HISTOGRAM_BINS
) -> Histogram | None:
    """The histogram of a real tensor's finite values over [stats.min, stats.max]
    (of an evenly strided sample when it holds more than :data:`HISTOGRAM_SAMPLE`).

    ``torch.histc`` ignores NaN and values outside the range, so infinities and NaN
    drop out without a mask.
    """
    finite_count = stats.numel - stats.nan_count - stats.inf_count
    if finite_count <= 0:
        return None
    low, high = stats.min, stats.max
    numel = values.numel()
    stride = -(-numel // HISTOGRAM_SAMPLE)
    if values.is_contiguous() or stride == 1:
        flat = values.reshape(-1)  # a view, or a copy of at most HISTOGRAM_SAMPLE values
        sample = flat[::stride] if stride > 1 else flat
    else:  # transposed or expanded: gather the sample, never copy the whole tensor
        index = torch.arange(0, numel, stride, device=values.device)
        sample = torch.take(values, index)
    wide = sample if sample.dtype == torch.float64 else sample.to(torch.float32)
    if high <= low:
        return Histogram(low, high, (int(torch.isfinite(wide).sum()),), stride > 1)
    counts = torch.histc(wide, bins=bins, min=low, max=high)
    return Histogram(low, high, tuple(int(c) for c in counts.tolist()), stride > 1)


def leading_values(t: torch.Tensor, count: int) -> torch.Tensor:
    """The first ``count`` elements in row-major order, copying only what they need
    (a non-contiguous tensor's ``reshape(-1)`` would copy all of it)."""
    if t.dim() == 0:
        return t.reshape(1)[:count]
    if t.dim() == 1:
        return t[:count]
    if t.is_contiguous():
        return t.reshape(-1)[:count]
    per_row = math.prod(t.shape[1:])
    if per_row >= count:
        return leading_values(t[0], count)
    rows = -(-count // per_row)
    return t[:rows].reshape(-1)[:count]


def stats_of_values(values: list[float]) -> TensorStats:
    """:func:`tensor_stats` for a short list of floats, in plain Python."""
    finite = [v for v in values if math.isfinite(v)]
    nan_count = sum(1 for v in values if math.isnan(v))
    inf_count = len(values) - len(finite) - nan_count
    if not finite:
        nan = float("nan")
        norm = 0.0 if not values else nan
        return TensorStats(len(values), nan, nan, nan, nan, norm, nan_count, inf_count)
    mean = math.fsum(finite) / len(finite)
    variance = math.fsum((v - mean) ** 2 for v in finite) / max(len(finite) - 1, 1)
    return TensorStats(
        numel=len(values),
        min=min(finite),
        max=max(finite),
        mean=mean,
        std=math.sqrt(variance) if len(finite) > 1 else 0.0,
        norm=math.sqrt(math.fsum(v * v for v in finite)),
        nan_count=nan_count,
        inf_count=inf_count,
    )


def grad_meta(shape: object, dtype: torch.dtype, device: object) -> GradMeta:
    """A :class:`GradMeta` from the pieces autograd exposes on ``_input_metadata``."""
    dims = tuple(int(d) for d in shape) if isinstance(shape, (tuple, list, torch.Size)) else ()
    return GradMeta(shape=dims, dtype=dtype_name(dtype), device=str(device))


def tensor_stats(values: torch.Tensor) -> TensorStats:
    """Statistics over the finite values of a real tensor (any shape), plus NaN/Inf counts.

    Sums are accumulated in float64. The common all-finite case costs one ``aminmax``,
    one sum and one norm; only a tensor with NaN or Inf pays for masking.
    """
    numel = values.numel()
    if numel == 0:
        nan = float("nan")
        return TensorStats(0, nan, nan, nan, nan, 0.0, 0, 0)
    if not values.is_floating_point():
        values = values.to(torch.float64)
    once, repeat = distinct_values(values)
    stats = _stats(once)
    return stats if repeat == 1 else _repeated(stats, repeat)


def distinct_values(t: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``t``'s values without the copies broadcasting made, in memory order (a view),
    and how many times each one appears in ``t``.

    Gradients are often expanded (the gradient of a mean is one value broadcast to the
    input's shape) or transposed (a weight's gradient through ``TBackward``); reducing
    over them as they are walks the copies, or memory out of order, several times
    slower. Statistics do not depend on the order, and copies only scale the counts.
    """
    repeat = 1
    if 0 in t.stride():
        keep = []
        for size, stride in zip(t.shape, t.stride(), strict=True):
            broadcast = stride == 0 and size > 1
            repeat *= size if broadcast else 1
            keep.append(slice(0, 1) if broadcast else slice(None))
        t = t[tuple(keep)]
    if not t.is_contiguous() and t.dim() > 1:
        order = sorted(range(t.dim()), key=lambda d: (t.shape[d] != 1, t.stride(d)), reverse=True)
        permuted = t.permute(order)  # a permutation of a dense block becomes contiguous
        if permuted.is_contiguous():
            t = permuted
    return (t.reshape(-1) if t.is_contiguous() else t), repeat


def _repeated(stats: TensorStats, repeat: int) -> TensorStats:
    """The statistics of ``repeat`` copies of values whose statistics are ``stats``."""
    finite = stats.numel - stats.nan_count - stats.inf_count
    squares = stats.std * stats.std * max(finite - 1, 0)  # about the mean, which stays
    total = finite * repeat
    std = math.sqrt(repeat * squares / (total - 1)) if total > 1 else 0.0
    return TensorStats(
        stats.numel * repeat,
        stats.min,
        stats.max,
        stats.mean,
        std,
        stats.norm * math.sqrt(repeat),
        stats.nan_count * repeat,
        stats.inf_count * repeat,
    )


def _stats(values: torch.Tensor) -> TensorStats:
    numel = values.numel()
    low, high = (float(v) for v in torch.aminmax(values))
    if math.isfinite(low) and math.isfinite(high):
        return _moments(values, numel, low, high)
    finite_mask = torch.isfinite(values)
    finite = values[finite_mask]
    nan_count = int(torch.isnan(values).sum())
    inf_count = numel - finite.numel() - nan_count
    if finite.numel() == 0:
        nan = float("nan")
        return TensorStats(numel, nan, nan, nan, nan, nan, nan_count, inf_count)
    low, high = (float(v) for v in torch.aminmax(finite))
    stats = _moments(finite, finite.numel(), low, high)
    return TensorStats(
        numel, stats.min, stats.max, stats.mean, stats.std, stats.norm, nan_count, inf_count
    )


def _moments(values: torch.Tensor, count: int, low: float, high: float) -> TensorStats:
    # float32 and float64 reduce in their own dtype, as torch's own .sum()/.norm() do
    # (so the numbers match what a user computes) and ten times faster than upcasting;
    # half types accumulate in float32 so that they do not overflow.
    accumulate = None if values.dtype in (torch.float32, torch.float64) else torch.float32
    total = float(values.sum(dtype=accumulate))
    norm = float(torch.linalg.vector_norm(values, dtype=accumulate))
    mean = total / count
    variance = max(norm * norm - count * mean * mean, 0.0) / max(count - 1, 1)
    if count > 1 and variance < CANCELLATION * mean * mean:
        # The shortcut loses the variance to rounding when |mean| >> std: do it properly.
        variance = float(values.to(accumulate or values.dtype).var())
    std = math.sqrt(variance) if count > 1 else 0.0
    return TensorStats(count, low, high, mean, std, norm, 0, 0)


def _has_values(t: torch.Tensor) -> bool:
    return t.device.type != "meta" and t.layout == torch.strided and not t.is_nested


def _as_real(t: torch.Tensor) -> torch.Tensor:
    if t.is_complex():
        return t.abs()
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    return t
