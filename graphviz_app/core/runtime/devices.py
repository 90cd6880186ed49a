"""Where a model runs and in which precision: list devices, move a training state.

Moving keeps the optimizer's state faithfully: ``Optimizer.load_state_dict`` casts
each state tensor (momentum buffers, Adam's moments) to its parameter's new device
and dtype, exactly as PyTorch does when a checkpoint is loaded elsewhere.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import torch

from graphviz_app.core.runtime.dtypes import DTYPE_NAMES

#: dtype name -> torch dtype, in the order the selector lists them.
DTYPES: dict[str, torch.dtype] = dict(
    zip(DTYPE_NAMES, (torch.float32, torch.float64, torch.bfloat16, torch.float16), strict=True)
)


class DeviceError(RuntimeError):
    """A device or dtype switch failed; the training state is back where it was."""

    def __init__(self, summary: str, details: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


@dataclass(frozen=True)
class DeviceInfo:
    """One device the selector lists; ``reason`` says why an unavailable one is."""

    name: str  # what torch calls it: "cpu", "cuda:0", "mps"
    label: str  # what the user reads: "cuda:0 (NVIDIA H100, 80 GB)"
    available: bool
    reason: str = ""
    memory_bytes: int = 0
    dtypes: tuple[str, ...] = ()  # the dtypes this device can train in


def list_devices() -> tuple[DeviceInfo, ...]:
    """CPU, every CUDA device (or why there is none) and MPS (or why not)."""
    cpu = DeviceInfo("cpu", "cpu", True, dtypes=supported_dtypes("cpu"))
    return (cpu, *_cuda_devices(), _mps_device())


def _cuda_devices() -> list[DeviceInfo]:
    if torch.version.cuda is None:
        return [DeviceInfo("cuda", "cuda", False, "this PyTorch build has no CUDA support")]
    if not torch.cuda.is_available():
        return [DeviceInfo("cuda", "cuda", False, "no CUDA GPU or driver was found")]
    devices = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        name = f"cuda:{index}"
        memory = int(props.total_memory)
        label = f"{name} ({props.name}, {memory / 2**30:.0f} GiB)"
        devices.append(DeviceInfo(name, label, True, "", memory, supported_dtypes(name)))
    return devices


def _mps_device() -> DeviceInfo:
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_built():
        return DeviceInfo("mps", "mps", False, "this PyTorch build has no MPS (Apple GPU) support")
    if not mps.is_available():
        return DeviceInfo("mps", "mps", False, "MPS needs an Apple-silicon Mac with macOS 12.3+")
    return DeviceInfo("mps", "mps (Apple GPU)", True, dtypes=supported_dtypes("mps"))


@functools.cache
def supported_dtypes(device: str) -> tuple[str, ...]:
    """The dtypes in which ``device`` runs a linear layer forward and backward."""
    return tuple(name for name, dtype in DTYPES.items() if _trains_in(device, dtype))


def _trains_in(device: str, dtype: torch.dtype) -> bool:
    """A tiny probe: does a matmul with backward run on ``device`` in ``dtype``?"""
    try:
        w = torch.ones(2, 2, device=device, dtype=dtype, requires_grad=True)
        (grad,) = torch.autograd.grad((w @ w).sum(), w)
        return bool(grad.shape == w.shape)
    except (RuntimeError, TypeError):  # unsupported dtype/device: torch raises these
        return False


def move_tensor(t: torch.Tensor, device: str, dtype: torch.dtype) -> torch.Tensor:
    """``t`` on ``device``; floating-point tensors also cast to ``dtype`` (class
    indices and masks keep theirs)."""
    if t.is_floating_point():
        return t.to(device=device, dtype=dtype)
    return t.to(device=device)


def move_model(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    device: str,
    dtype: torch.dtype,
) -> torch.optim.Optimizer | None:
    """Move ``model`` (parameters, buffers, ``.grad``) in place and return its
    optimizer rebuilt with the same hyperparameters and state, moved too."""
    state = optimizer.state_dict() if optimizer is not None else None
    model.to(device=device, dtype=dtype)
    if optimizer is None or state is None:
        return None
    rebuilt = type(optimizer)(model.parameters(), **optimizer.defaults)
    rebuilt.load_state_dict(state)  # casts the state to each parameter's device/dtype
    return rebuilt


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says a device ran out of memory (CUDA, MPS or the CPU allocator)."""
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc)


def free_device_memory() -> None:
    """Give CUDA's caching allocator's unused blocks back (after a failed attempt)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]
        torch.cuda.empty_cache()


def explain_device_error(exc: BaseException, device: str, dtype: str) -> str:
    """A plain message for a failure while running on ``device`` in ``dtype``."""
    if is_out_of_memory(exc):
        return (
            f"{device} ran out of memory for this model in {dtype}. Try a smaller batch, "
            "a smaller dtype, or the CPU."
        )
    return f"Running on {device} in {dtype} failed: {type(exc).__name__}: {exc}"


def made_on(device: str) -> contextlib.AbstractContextManager[object]:
    """Where tensors that code creates without a device go: ``device`` (the CPU is
    torch's default already)."""
    return torch.device(device) if device != "cpu" else contextlib.nullcontext()


def parse_dtype(name: str) -> torch.dtype:
    """The torch dtype called ``name`` (``float64``)."""
    if name not in DTYPES:
        raise DeviceError(f"Unknown dtype {name!r}; choose one of {', '.join(DTYPES)}.")
    return DTYPES[name]
