"""Hold Python's cycle collector off while a burst of small records is made.

Capturing a graph and laying it out allocate tens of thousands of small objects
(records, tuples, strings) and free few. Each allocation burst lets the collector
run, and a full collection walks every object of the process: after importing torch
and building a model that is 50-100 ms, paid at a random moment, often twice in one
picture (a fresh process's ResNet-50 capture took 12 ms once and 95 ms the next
time). Nothing in these bursts makes reference cycles that need collecting, so the
collector waits until the burst is over.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cycle collector inside the block (nested blocks are fine); it is
    enabled again on leaving if it was enabled on entering."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
