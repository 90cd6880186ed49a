"""The dtypes a model can train in, by name: what the window lists before torch loads."""

from __future__ import annotations

#: In the order the selector lists them (``devices.DTYPES`` maps them to torch's).
DTYPE_NAMES = ("float32", "float64", "bfloat16", "float16")
