"""``show()``: the desktop window on live tensors, a model and its inputs, or a drawing.

Like ``matplotlib.pyplot.show()``: a plain script blocks until the window closes; in
IPython or Jupyter with Qt's event loop integrated (``%gui qt``, switched on here when
no other loop runs) it returns at once and the window stays live. Later calls reuse
the window. Qt is imported only when ``show()`` is called.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import torch

from graphviz_app.api.drawing import Drawing
from graphviz_app.api.tensors import as_roots, caller_leaves, parameter_names, user_frame
from graphviz_app.api.walkthrough import Walkthrough
from graphviz_app.api.watch import Watch, WatchRecord, add_listener
from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.training.trainer import ParamUpdate, TrainRecord
from graphviz_app.session.live import LiveModel, live_graph, live_model, live_tensors


def show(
    obj: Any = None,
    *,
    model: torch.nn.Module | None = None,
    inputs: Any = None,
    block: bool | None = None,
) -> Any:
    """Open the window on ``obj`` (a tensor or tensors, a :class:`Drawing` or a
    :class:`Walkthrough`), or on ``model`` run on ``inputs``.

    Everything in the window works on the live objects: backward (F6) runs from your
    tensors and accumulates into your ``.grad``; with a model and inputs, the Training
    dock trains your model. ``model`` with a tensor only names its parameters.
    ``block``: wait until the window closes (default: in a plain script yes; in
    IPython/Jupyter no). Returns the window when it does not block, else None.

    >>> import torch, graphviz_app
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> graphviz_app.show(model=model, inputs=torch.randn(16, 4))  # doctest: +SKIP
    """
    live = _live(obj, model, inputs)
    from graphviz_app.ui.window import live as window_live  # Qt: only now

    window_live.application()  # without a display: a clear error, before IPython's loop
    if block is None:
        block = not _ipython_event_loop()
    add_listener(_WINDOW_LISTENER)  # watched loops report to the window from now on
    window = window_live.show_live(live)
    if block:
        window_live.run_until_closed()
        return None
    return window


def _live(obj: Any, model: torch.nn.Module | None, inputs: Any) -> LiveModel:
    if isinstance(obj, Drawing):
        return live_graph(obj.graph, "drawing")
    if isinstance(obj, Walkthrough):
        return live_graph(obj.graph, obj.title, obj.trace)
    if isinstance(obj, torch.nn.Module) and model is None:
        obj, model = None, obj
    if obj is None:
        if model is None or inputs is None:
            raise TypeError(
                "show() needs something to show: a tensor (show(loss)), a drawing, or a "
                "model with its inputs (show(model=model, inputs=x))."
            )
        return live_model(model, inputs)
    roots = as_roots([obj])
    if not roots:
        raise TypeError(f"show() cannot show {type(obj).__name__}: pass a tensor or a model.")
    leaves = caller_leaves(user_frame(2))
    return live_tensors(roots, parameter_names(model, None), leaves, model)


def _ipython_event_loop() -> bool:
    """True in IPython/Jupyter with Qt's event loop running between cells (switched
    on here when IPython runs no other loop); False in a plain Python script."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    loop = getattr(shell, "active_eventloop", None)
    if not loop:
        try:
            shell.enable_gui("qt")  # as napari does: %gui qt
        except Exception:  # an IPython that cannot: show() blocks instead
            return False
        loop = getattr(shell, "active_eventloop", None)
    return bool(loop) and str(loop).startswith("qt")


class _WindowListener:
    """Hands a watched loop's steps to the window show() opened, while it is open."""

    def captured(self, watch: Watch, graph: AutogradGraph, trace: BackwardTrace) -> None:
        feed = _feed()
        if feed is not None:
            feed.captured(_key(watch), watch.name, graph, trace)

    def recorded(self, watch: Watch, record: WatchRecord) -> None:
        feed = _feed()
        if feed is not None:
            feed.recorded(_key(watch), train_record(record))


_WINDOW_LISTENER = _WindowListener()


def _feed() -> Any:
    window_live = sys.modules.get("graphviz_app.ui.window.live")  # loaded by show()
    return window_live.current_feed() if window_live is not None else None


def _key(watch: Watch) -> str:
    return f"watch {watch.name} {id(watch):x}"


def train_record(record: WatchRecord) -> TrainRecord:
    """A watched step as the window's Training dock plots it."""
    params = tuple(
        ParamUpdate(
            name=name,
            grad_norm=norm,
            update_norm=record.update_ratios.get(name, 0.0) * record.weight_norms.get(name, 0.0),
            weight_norm=record.weight_norms.get(name, 0.0),
        )
        for name, norm in record.grad_norms.items()
    )
    loss = record.loss if record.loss is not None else math.nan
    return TrainRecord(record.step, loss, params, batch="your loop")
