"""How many threads torch's intra-op pool gets in this app."""

from __future__ import annotations

import os

import torch

THREADS_ENV = "GRAPHVIZ_APP_TORCH_THREADS"


def configure_torch_threads() -> int:
    """Give torch's intra-op pool fewer threads than cores, and return the count.

    On a 2-core machine torch's default pool fights the GUI thread and Graphviz:
    a deep conv net's forward took 39 s with 2 threads and 0.4 s with 1 while
    another process held a core. Leaving one core free keeps the window responsive.
    ``GRAPHVIZ_APP_TORCH_THREADS`` overrides the choice.
    """
    wanted = os.environ.get(THREADS_ENV, "")
    threads = (
        int(wanted) if wanted.isdigit() and int(wanted) > 0 else max(1, (os.cpu_count() or 2) - 1)
    )
    torch.set_num_threads(threads)
    return threads
