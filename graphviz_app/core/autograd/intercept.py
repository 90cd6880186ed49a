"""See every backward call a user's own code makes: ``loss.backward()``,
``torch.autograd.backward(...)`` and ``torch.autograd.grad(...)``.

``Tensor.backward`` calls ``torch.autograd.backward`` by module attribute at call time,
so replacing the two functions on ``torch.autograd`` while the user's code runs sees
every call (a name bound earlier with ``from torch.autograd import grad`` is not seen).
Only calls made on the thread that installed the interception are handed to the
handler; other threads (the app's own worker, autograd's threads) pass straight
through, and so do calls the handler itself makes (it usually runs the real backward,
recorded). Interceptions nest: the innermost handler sees a call first.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

_ORIGINAL_BACKWARD = torch.autograd.backward
_ORIGINAL_GRAD = torch.autograd.grad


@dataclass(frozen=True)
class BackwardCall:
    """One call of ``torch.autograd.backward`` (``kind == "backward"``) or
    ``torch.autograd.grad`` (``kind == "grad"``), with its arguments as torch got them.

    ``roots`` are the tensors differentiated (``tensors`` / ``outputs``), ``seeds`` the
    ``grad_tensors`` / ``grad_outputs`` given (None: torch's default, ones for scalars),
    ``inputs`` what ``grad`` differentiates with respect to (or ``backward(inputs=...)``).
    ``call()`` runs the real torch function with exactly these arguments.
    """

    kind: str
    roots: tuple[torch.Tensor, ...]
    seeds: tuple[torch.Tensor | None, ...] | None
    retain_graph: bool | None
    create_graph: bool
    inputs: tuple[torch.Tensor, ...]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def call(self) -> Any:
        """Run the intercepted torch function itself, as the user's code asked."""
        original = _ORIGINAL_BACKWARD if self.kind == "backward" else _ORIGINAL_GRAD
        return original(*self.args, **self.kwargs)

    @property
    def keeps_graph(self) -> bool:
        """Whether the graph survives the call (retain_graph, or create_graph's default)."""
        return bool(self.retain_graph if self.retain_graph is not None else self.create_graph)


#: Gets the call; returns what the user's code receives (usually ``call.call()``'s
#: result, possibly run under recording hooks).
BackwardHandler = Callable[[BackwardCall], Any]


class _Interceptions(threading.local):
    def __init__(self) -> None:
        self.handlers: list[BackwardHandler] = []
        self.busy = 0  # > 0 while a handler runs: its own backward calls pass through


_STATE = _Interceptions()
_INSTALL_LOCK = threading.Lock()
_installed = 0  # interceptions active on any thread (the patch stays while > 0)


@contextlib.contextmanager
def intercept_backward(handler: BackwardHandler) -> Iterator[None]:
    """Hand every backward / grad call made on this thread inside the block to
    ``handler``; everything is restored on leaving, also after an exception."""
    _install()
    _STATE.handlers.append(handler)
    try:
        yield
    finally:
        _STATE.handlers.remove(handler)
        _uninstall()


def _install() -> None:
    global _installed
    with _INSTALL_LOCK:
        if _installed == 0:
            torch.autograd.backward = _backward
            torch.autograd.grad = _grad
        _installed += 1


def _uninstall() -> None:
    global _installed
    with _INSTALL_LOCK:
        _installed -= 1
        if _installed == 0:
            torch.autograd.backward = _ORIGINAL_BACKWARD
            torch.autograd.grad = _ORIGINAL_GRAD


def _dispatch(call: BackwardCall) -> Any:
    if not _STATE.handlers or _STATE.busy:
        return call.call()
    _STATE.busy += 1
    try:
        return _STATE.handlers[-1](call)
    finally:
        _STATE.busy -= 1


def _backward(*args: Any, **kwargs: Any) -> Any:
    bound = _bind(("tensors", "grad_tensors", "retain_graph", "create_graph"), args, kwargs)
    return _dispatch(
        BackwardCall(
            "backward",
            _tensors(bound.get("tensors")),
            _seeds(bound.get("grad_tensors")),
            bound.get("retain_graph"),
            bool(bound.get("create_graph", False)),
            _tensors(bound.get("inputs")),
            args,
            kwargs,
        )
    )


def _grad(*args: Any, **kwargs: Any) -> Any:
    names = ("outputs", "inputs", "grad_outputs", "retain_graph", "create_graph")
    bound = _bind(names, args, kwargs)
    return _dispatch(
        BackwardCall(
            "grad",
            _tensors(bound.get("outputs")),
            _seeds(bound.get("grad_outputs")),
            bound.get("retain_graph"),
            bool(bound.get("create_graph", False)),
            _tensors(bound.get("inputs")),
            args,
            kwargs,
        )
    )


def _bind(names: Sequence[str], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    bound = dict(zip(names, args, strict=False))  # positional ones; the rest by keyword
    bound.update(kwargs)
    return bound


def _tensors(value: object) -> tuple[torch.Tensor, ...]:
    if value is None:
        return ()
    if isinstance(value, torch.Tensor):
        return (value,)
    return tuple(t for t in value if isinstance(t, torch.Tensor))  # type: ignore[attr-defined]


def _seeds(value: object) -> tuple[torch.Tensor | None, ...] | None:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return (value,)
    return tuple(v if isinstance(v, torch.Tensor) else None for v in value)  # type: ignore[attr-defined]
