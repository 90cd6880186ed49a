"""Benchmarks: ``python -m bench.<name>`` from the repository root (see BENCHMARKS.md).

Graphviz's disk cache is off here unless ``GRAPHVIZ_APP_LAYOUT_CACHE`` says otherwise:
a benchmark times layouts, and a warm cache would time reading files. Set
``GRAPHVIZ_APP_LAYOUT_CACHE=DIR`` to time a warm cache on purpose (its child processes
inherit the setting).
"""

import os

os.environ.setdefault("GRAPHVIZ_APP_LAYOUT_CACHE", "off")
