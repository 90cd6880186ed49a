"""Stop a forward pass before it takes the machine's memory.

A model opened with its default sizes (a ViT-B at 224x224, a GPT-2 on a long context)
can need far more memory than there is; the kernel then swaps or kills the process,
and the window with it. :class:`MemoryBudget` reads the process's resident size (on
Linux, from ``/proc``) and raises ``MemoryError`` once the forward has taken most of
what was available when it started: a clear "too large" message instead.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARE = 0.6  # of the memory available at the start that a forward may take


def resident_bytes() -> int | None:
    """The process's resident memory, or None where ``/proc`` is not there."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def available_bytes() -> int | None:
    """Memory the system can give without swapping (``MemAvailable``), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class MemoryBudget:
    """The resident size a forward may grow to; :meth:`check` raises past it."""

    def __init__(self, share: float = SHARE) -> None:
        now, free = resident_bytes(), available_bytes()
        self.limit = now + int(share * free) if now is not None and free is not None else None

    def check(self) -> None:
        """Raise ``MemoryError`` when the process has grown past the budget."""
        if self.limit is None:
            return
        now = resident_bytes()
        if now is not None and now > self.limit:
            raise MemoryError(
                f"the forward pass took {now / 2**30:.1f} GiB, most of the memory this "
                "machine had free, and was stopped"
            )
