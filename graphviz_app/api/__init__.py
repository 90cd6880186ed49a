"""The Python API: draw, walk through and watch live tensors from the user's own code.

``draw`` (a :class:`Drawing`), ``walkthrough`` (a :class:`Walkthrough`) and ``watch``
(a :class:`Watch`) need no Qt; ``show`` opens the desktop window and imports Qt only
when it is called. ``graphviz_app`` hands these names on lazily, and so does this
package: ``graphviz_app.draw`` imports the drawing module alone, not the window's
session or the walk-through's pages.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The public names and the module that defines each (imported when first used).
_NAMES = {
    "Drawing": "drawing",
    "draw": "drawing",
    "show": "show",
    "Walkthrough": "walkthrough",
    "walkthrough": "walkthrough",
    "Watch": "watch",
    "WatchRecord": "watch",
    "watch": "watch",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'graphviz_app.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"graphviz_app.api.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
