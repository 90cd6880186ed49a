"""``watch(model)``: record the user's own training loop, step by step.

While a :class:`Watch` is active, every ``backward()`` of this thread that reaches the
model's parameters is a step (seen through :mod:`graphviz_app.core.autograd.intercept`,
which runs torch's own call). Each step records the loss and every parameter's
gradient norm. Every ``every``-th step is captured too: its forward runs under the
recorder, its backward is recorded node by node (the graph coloured by gradient is
what the live views show), and once the parameters change (an optimizer's ``step()``,
or a manual update before the next backward) its update/weight ratios are measured.
The steps between cost little: the loss and one pass over the gradients. Leaving the
``with`` block removes every hook.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import weakref
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from graphviz_app.api.params import ParamTracker
from graphviz_app.core.autograd.backward import BackwardTrace, record_backward
from graphviz_app.core.autograd.capture import CaptureOptions, capture_walk
from graphviz_app.core.autograd.intercept import BackwardCall, intercept_backward
from graphviz_app.core.autograd.live import complete_graph
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import CaptureError, walk_autograd

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchRecord:
    """One step of the watched loop: a backward pass through the model's parameters.

    ``grad_norms``: parameter name -> norm of its ``.grad`` after that backward (with
    ``zero_grad()`` each step, the gradient this backward produced), equal to
    ``p.grad.norm()``. ``update_ratios``: name -> |update| / |weight| of the change
    that followed (filled once the parameters change; measured on every ``every``-th
    step, the captured ones, since it needs a copy of the parameters); ``weight_norms``
    the norms before it. ``captured``: this step's graph and backward were recorded.
    """

    step: int
    loss: float | None
    grad_norms: dict[str, float]
    update_ratios: dict[str, float] = field(default_factory=dict)
    weight_norms: dict[str, float] = field(default_factory=dict)
    captured: bool = False

    @property
    def update_ratio(self) -> float | None:
        """|update| / |weight| over all parameters together (None before the update)."""
        if not self.update_ratios:
            return None
        update = sum((r * self.weight_norms[n]) ** 2 for n, r in self.update_ratios.items())
        weight = sum(self.weight_norms[n] ** 2 for n in self.update_ratios)
        return (update / weight) ** 0.5 if weight else float("inf")


class WatchListener(Protocol):
    """Something that shows a watched loop live (the window, when ``show()`` is open)."""

    def captured(self, watch: Watch, graph: AutogradGraph, trace: BackwardTrace) -> None:
        """A captured step's graph and recorded backward."""

    def recorded(self, watch: Watch, record: WatchRecord) -> None:
        """A step's record, complete with its update ratios."""


_LISTENERS: list[WatchListener] = []


def add_listener(listener: WatchListener) -> None:
    """Tell ``listener`` about every watched step from now on."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def remove_listener(listener: WatchListener) -> None:
    """Stop telling ``listener``."""
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


def _tell(event: str, *args: Any) -> None:
    """Every listener's ``event``; one that fails is logged, never the user's loop's end."""
    for listener in list(_LISTENERS):
        try:
            getattr(listener, event)(*args)
        except Exception:
            logger.exception("a watch listener failed on %s", event)


class Watch:
    """A watched training loop (see :func:`watch`); a context manager and a handle.

    ``records`` holds one :class:`WatchRecord` per step; ``graph`` and ``trace`` are
    the latest captured step's graph and recorded backward. In a notebook the handle
    shows the loss and gradient-norm plots and the latest graph coloured by gradient,
    refreshed in place while the loop runs.
    """

    def __init__(self, model: torch.nn.Module, every: int = 1) -> None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"watch() takes an nn.Module, not {type(model).__name__}.")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number >= 1, not {every!r}.")
        self.model, self.every = model, every
        self.name = type(model).__name__
        self.records: list[WatchRecord] = []
        self.graph: AutogradGraph | None = None
        self.trace: BackwardTrace | None = None
        self.options = CaptureOptions()
        self._params = ParamTracker(model)
        self._pending: int | None = None  # the record whose update has not been seen yet
        self._recorder: ForwardRecorder | None = None
        self._hooks = contextlib.ExitStack()
        self._optimizers: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
        self._view: Any = None  # the notebook's live view (api.live_view), when shown
        #: The latest graph structure's picture (for the live view): key -> (svg, view).
        self.layouts: dict[str, Any] = {}
        self.active = False

    # --- starting and stopping ---------------------------------------------------
    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Watch:
        """Install the hooks (done by ``with``); returns the handle."""
        if self.active:
            raise RuntimeError("This watch is already active.")
        self._params = ParamTracker(self.model)  # parameters added since are seen too
        with contextlib.ExitStack() as hooks:  # all installed, or none
            hooks.enter_context(intercept_backward(self._on_backward))
            hooks.callback(register_optimizer_step_post_hook(self._on_optimizer_step).remove)
            hooks.callback(self.model.register_forward_pre_hook(self._on_forward).remove)
            done = self.model.register_forward_hook(self._on_forward_done, always_call=True)
            hooks.callback(done.remove)
            self._hooks, self.active = hooks.pop_all(), True
        from graphviz_app.api.live_view import open_view  # the notebook's, if any

        self._view = open_view(self)
        return self

    def stop(self) -> None:
        """Settle the last step's update, remove every hook, refresh the views last."""
        if not self.active:
            return
        try:
            self._settle_update()
        finally:
            self._end_forward()
            self._hooks.close()
            self.active = False
        self._refresh(force=True)

    # --- hooks ---------------------------------------------------------------------
    def _on_forward(self, module: torch.nn.Module, args: object) -> None:
        if self._recorder is None and torch.is_grad_enabled() and self._capturing_next():
            recorder = ForwardRecorder(self.model, True, self.options.preview_limit)
            recorder.__enter__()
            self._recorder = recorder

    def _on_forward_done(self, module: torch.nn.Module, args: object, output: object) -> None:
        self._end_forward()  # returns None: a forward hook's result would replace the output

    def _end_forward(self) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            recorder.__exit__(None, None, None)

    def _on_optimizer_step(self, optimizer: Any, args: object, kwargs: object) -> None:
        if self._pending is not None and self._touches(optimizer):
            self._settle_update()

    def _touches(self, optimizer: Any) -> bool:
        known = self._optimizers.get(optimizer)
        if known is None:
            ours = self._params.ids()
            groups = optimizer.param_groups
            known = any(id(p) in ours for group in groups for p in group["params"])
            self._optimizers[optimizer] = known
        return known

    def _on_backward(self, call: BackwardCall) -> Any:
        if call.kind != "backward":
            return call.call()  # autograd.grad leaves .grad alone: not a training step
        self._settle_update()  # parameters changed by hand since the last step
        before = self._params.grad_state()
        result, captured = self._run(call)
        if self._params.grad_state() == before:
            return result  # this backward did not reach the model's parameters
        if captured is not None:
            self.graph, self.trace = captured
            _tell("captured", self, *captured)
        self._add_record(call, captured is not None)
        return result

    def _capturing_next(self) -> bool:
        return len(self.records) % self.every == 0

    def _run(self, call: BackwardCall) -> tuple[Any, tuple[AutogradGraph, BackwardTrace] | None]:
        """Torch's call; recorded node by node on a captured step it can replay."""
        seeds = _implicit_seeds(call) if self._capturing_next() else None
        if seeds is None:
            return call.call(), None
        try:
            walk = walk_autograd(call.roots)
        except CaptureError:
            return call.call(), None  # torch raises its own error for it
        if not self._params.reached_by(walk.fns):
            return call.call(), None  # another graph (a twin model, a metric): not recorded
        graph = capture_walk(walk, self._params.named(), {}, self.options)
        graph = complete_graph(graph, walk, self.options)
        trace = record_backward(walk, seeds, call.keeps_graph, self.options.preview_limit)
        return None, (graph, trace)

    def _add_record(self, call: BackwardCall, captured: bool) -> None:
        measured = self._capturing_next()  # this step's update is measured too
        record = WatchRecord(len(self.records) + 1, _loss(call), self._params.grad_norms())
        self.records.append(dataclasses.replace(record, captured=captured))
        if measured:  # a copy of the parameters: the costly part, so only on these steps
            self._pending = len(self.records) - 1
            self._params.snapshot()
        self._refresh()

    def _settle_update(self) -> None:
        """The change since the pending step's backward is that step's update."""
        if self._pending is None:
            return
        index, self._pending = self._pending, None
        ratios, weights = self._params.update_ratios()
        record = dataclasses.replace(
            self.records[index], update_ratios=ratios, weight_norms=weights
        )
        self.records[index] = record
        _tell("recorded", self, record)
        self._refresh()

    def _refresh(self, force: bool = False) -> None:
        if self._view is not None:
            try:
                self._view.refresh(force)
            except Exception:  # a live view must never stop the user's loop
                logger.exception("the notebook view of %s could not be updated", self.name)

    # --- display ---------------------------------------------------------------------
    def _repr_html_(self) -> str | None:
        """The plots and the latest graph; as plain text (its repr) in the cell whose
        live view shows them already, so that the picture appears once."""
        from graphviz_app.api.live_view import watch_html

        view = self._view
        return None if view is not None and view.in_this_cell() else watch_html(self)

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return f"<Watch {self.name}: {len(self.records)} steps, {state}>"


def watch(model: torch.nn.Module, every: int = 1) -> Watch:
    """Watch the training loop of ``model``: use it as ``with watch(model) as w:``.

    Each backward through the model's parameters becomes a :class:`WatchRecord` in
    ``w.records`` (loss, gradient norms equal to torch's); every ``every``-th one is
    captured (its graph and recorded backward: ``w.graph``, ``w.trace``; and the update
    ratio after the optimizer's step). With the default ``every=1``, every step is. In
    a notebook a live view (latest graph coloured by gradient, loss and gradient-norm
    plots) updates in place; with a window open (:func:`graphviz_app.show`) its
    training plots and graph follow. Leaving the block removes every hook.

    >>> import torch, graphviz_app
    >>> model = torch.nn.Linear(3, 1)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> with graphviz_app.watch(model) as w:
    ...     for _ in range(3):
    ...         opt.zero_grad()
    ...         loss = model(torch.randn(4, 3)).pow(2).mean()
    ...         loss.backward()
    ...         opt.step()
    >>> len(w.records), sorted(w.records[0].grad_norms), w.records[0].update_ratio > 0
    (3, ['bias', 'weight'], True)
    """
    return Watch(model, every)


def _implicit_seeds(call: BackwardCall) -> list[torch.Tensor] | None:
    """The gradients torch seeds ``call`` with (ones for scalars), or None where the
    call is not a plain backward the recorder replays exactly (torch then runs it)."""
    if call.create_graph or call.inputs or not call.roots:
        return None
    given = call.seeds or (None,) * len(call.roots)
    if len(given) != len(call.roots):
        return None
    seeds = []
    for root, seed in zip(call.roots, given, strict=True):
        if seed is None and root.numel() != 1:
            return None  # torch's own error: gradient needed for a non-scalar root
        seeds.append(seed if seed is not None else torch.ones_like(root))
    return seeds


def _loss(call: BackwardCall) -> float | None:
    roots = call.roots
    if len(roots) != 1 or roots[0].numel() != 1 or roots[0].is_complex():
        return None
    return float(roots[0].detach())
