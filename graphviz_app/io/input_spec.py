"""Input specs: the shape, dtype and value range of a model's inputs, as text.

Syntax (one tensor per part, several inputs separated by ``;``)::

    spec   := tensor (";" tensor)*
    tensor := dims [":" dtype] [range]
    dims   := int ("x" int)*          "1x3x32x32"; "scalar" for a 0-d tensor
    dtype  := float32 | float64 | float16 | bfloat16 | int64 | int32 | int16 | int8
              | uint8 | bool          (also float, double, half, long, int)
    range  := "[" low "," high ")"    integers: uniform in [low, high);
                                      floats: uniform in [low, high)

Examples: ``1x3x32x32:float32`` (random normal values), ``4x16:int64[0,1000)`` (token
ids for an embedding of 1,000 rows), ``8x10:float32; 8:int64[0,10)`` (two inputs).
An integer tensor without a range takes values in [0, 2). Values come from a fixed
seed, so the same spec always gives the same inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from graphviz_app.io.load_errors import InputSpecError

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float": torch.float32,
    "float64": torch.float64,
    "double": torch.float64,
    "float16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "long": torch.int64,
    "int32": torch.int32,
    "int": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_PART = re.compile(
    r"^(?P<dims>scalar|\d+(?:\s*x\s*\d+)*)\s*(?::\s*(?P<dtype>[a-z0-9]+))?\s*"
    r"(?:\[\s*(?P<low>-?[\d.e+-]+)\s*,\s*(?P<high>-?[\d.e+-]+)\s*\))?$"
)
SEED = 0
EXAMPLE = "1x3x32x32:float32"


@dataclass(frozen=True)
class TensorSpec:
    """One input: its shape, dtype and optional value range [low, high)."""

    shape: tuple[int, ...]
    dtype: torch.dtype = torch.float32
    low: float | None = None
    high: float | None = None

    def text(self) -> str:
        """This spec in the syntax it was parsed from."""
        dims = "x".join(str(d) for d in self.shape) or "scalar"
        name = str(self.dtype).removeprefix("torch.")
        bounds = f"[{self.low:g},{self.high:g})" if self.low is not None else ""
        return f"{dims}:{name}{bounds}"


def parse_input_spec(text: str) -> tuple[TensorSpec, ...]:
    """Parse ``text`` (see the module docstring); raises :class:`InputSpecError`."""
    parts = [p.strip() for p in text.strip().split(";")]
    if not text.strip() or not all(parts):
        raise InputSpecError(f"Empty input spec {text!r}: write e.g. {EXAMPLE!r}.")
    return tuple(_parse_part(part) for part in parts)


def _parse_part(part: str) -> TensorSpec:
    found = _PART.match(part.lower())
    if found is None:
        raise InputSpecError(
            f"Cannot read the input spec {part!r}: write dims then a dtype, e.g. "
            f"{EXAMPLE!r}, or an integer range for token ids, e.g. '4x16:int64[0,1000)'."
        )
    dims = found["dims"]
    shape = () if dims == "scalar" else tuple(int(d) for d in dims.split("x"))
    dtype_name = found["dtype"] or "float32"
    if dtype_name not in DTYPES:
        raise InputSpecError(
            f"Unknown dtype {dtype_name!r} in {part!r}; use one of: {', '.join(DTYPES)}."
        )
    low, high = _bounds(part, found["low"], found["high"])
    return TensorSpec(shape, DTYPES[dtype_name], low, high)


def _bounds(part: str, low: str | None, high: str | None) -> tuple[float | None, float | None]:
    if low is None or high is None:
        return None, None
    try:
        lo, hi = float(low), float(high)
    except ValueError as exc:
        raise InputSpecError(f"Cannot read the range in {part!r}: {exc}.") from exc
    if not lo < hi:
        raise InputSpecError(f"The range in {part!r} is empty: low must be below high.")
    return lo, hi


def make_inputs(
    specs: tuple[TensorSpec, ...], device: torch.device | str | None = None
) -> tuple[torch.Tensor, ...]:
    """Tensors for ``specs`` from a fixed seed (empty on the meta device: no values)."""
    if device is not None and torch.device(device).type == "meta":
        return tuple(torch.empty(s.shape, dtype=s.dtype, device="meta") for s in specs)
    generator = torch.Generator(device="cpu").manual_seed(SEED)
    inputs = tuple(_make(spec, generator) for spec in specs)
    return tuple(t.to(device) for t in inputs) if device is not None else inputs


def _make(spec: TensorSpec, generator: torch.Generator) -> torch.Tensor:
    if spec.dtype == torch.bool:
        return torch.randint(0, 2, spec.shape, generator=generator).bool()
    if not spec.dtype.is_floating_point:
        low = int(spec.low) if spec.low is not None else 0
        high = int(spec.high) if spec.high is not None else 2
        return torch.randint(low, high, spec.shape, generator=generator, dtype=spec.dtype)
    if spec.low is not None and spec.high is not None:
        values = torch.rand(spec.shape, generator=generator) * (spec.high - spec.low) + spec.low
    else:
        values = torch.randn(spec.shape, generator=generator)
    return values.to(spec.dtype)


def spec_of(inputs: tuple[torch.Tensor, ...]) -> str:
    """The spec that describes ``inputs`` (shapes and dtypes), e.g. to show the user."""
    return "; ".join(TensorSpec(tuple(t.shape), t.dtype).text() for t in inputs)
