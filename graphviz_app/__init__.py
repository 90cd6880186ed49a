"""graphviz_app: see PyTorch autograd at work.

From Python and notebooks::

    import graphviz_app as gv
    gv.draw(loss, model=model)          # the autograd graph, shown in a notebook
    gv.walkthrough(loss, model=model)   # run backward for real, step through it
    with gv.watch(model) as w: ...      # record your own training loop
    gv.show(loss)                       # the desktop window on your live tensors

The names are imported on first use: ``import graphviz_app`` stays fast and loads
neither torch nor Qt (``__init__.pyi`` gives type checkers their real types).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: The public names and the module that defines each (imported when first used).
_API = {
    "draw": "graphviz_app.api.drawing",
    "Drawing": "graphviz_app.api.drawing",
    "walkthrough": "graphviz_app.api.walkthrough",
    "Walkthrough": "graphviz_app.api.walkthrough",
    "watch": "graphviz_app.api.watch",
    "Watch": "graphviz_app.api.watch",
    "WatchRecord": "graphviz_app.api.watch",
    "show": "graphviz_app.api.show",
}

__all__ = ["__version__", *_API]

def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'graphviz_app' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
