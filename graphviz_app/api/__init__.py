"""The Python API: draw, walk through and watch live tensors from the user's own code.

``draw`` (a :class:`Drawing`), ``walkthrough`` (a :class:`Walkthrough`) and ``watch``
(a :class:`Watch`) need no Qt; ``show`` opens the desktop window and imports Qt only
when it is called. ``graphviz_app`` hands these names on lazily.
"""

from graphviz_app.api.drawing import Drawing, draw
from graphviz_app.api.show import show
from graphviz_app.api.walkthrough import Walkthrough, walkthrough
from graphviz_app.api.watch import Watch, WatchRecord, watch

__all__ = [
    "Drawing",
    "Walkthrough",
    "Watch",
    "WatchRecord",
    "draw",
    "show",
    "walkthrough",
    "watch",
]
