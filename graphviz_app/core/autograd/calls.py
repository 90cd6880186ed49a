"""One backward call of the user's own code, recorded as it really runs.

:func:`record_call` walks the graph rooted at the tensors the call differentiates,
captures it (parameters named after the user's own variables, see
:func:`find_variables`), then runs the call itself, with the user's arguments
(``gradient=``, ``retain_graph``, ``inputs``), under recording hooks: ``.grad``
afterwards is exactly what the user's code gets without the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import torch

from graphviz_app.core.autograd.backward import BackwardTrace, recording_backward
from graphviz_app.core.autograd.capture import CaptureOptions, capture_walk
from graphviz_app.core.autograd.intercept import BackwardCall
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import AutogradWalk, walk_autograd
from graphviz_app.core.runtime.user_code import is_user_file


@dataclass
class Variables:
    """The user's models and plain leaf tensors, by the names the user gave them.

    ``models`` maps a prefix to a root module: "" for the only model with
    parameters (its parameters are ``fc1.weight``), the variable name when several
    models have parameters (``G.fc1.weight``, ``D.fc1.weight``) and for models
    without any (a loss module: ``criterion``). ``leaves`` are tensors that require
    grad and belong to no model (``w1``, ``b``); ``optimizers`` the user's optimizers
    (``opt_g``), which tell whose parameters another backward trains. Holds live
    objects: worker side only.
    """

    models: dict[str, torch.nn.Module] = field(default_factory=dict)
    leaves: dict[str, torch.Tensor] = field(default_factory=dict)
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)

    def module_paths(self) -> dict[int, str]:
        """id of every module (roots and their submodules) -> its dotted path."""
        paths: dict[int, str] = {}
        for prefix, model in self.models.items():
            for name, module in model.named_modules():
                paths.setdefault(id(module), _join(prefix, name))
        return paths

    def parameters(self) -> dict[str, torch.Tensor]:
        """Every model's parameters by path (``fc1.weight``)."""
        named: dict[str, torch.Tensor] = {}
        for prefix, model in self.models.items():
            for name, param in model.named_parameters():
                named.setdefault(_join(prefix, name), param)
        return named

    def trained(self) -> dict[str, torch.Tensor]:
        """What the user's code trains: the parameters, then the plain leaves."""
        return {**self.parameters(), **self.leaves}

    def container(self) -> torch.nn.Module:
        """One module whose submodule paths are the paths the models were named by: the
        only model itself, or a holder of the prefixed models (and of the children of
        the one model named without a prefix)."""
        if list(self.models) == [""]:
            return self.models[""]
        holder = torch.nn.Module()
        for prefix, model in self.models.items():
            children = model.named_children() if not prefix else [(prefix, model)]
            for name, child in children:
                if name not in holder._modules:
                    holder.add_module(name, child)
        return holder


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def user_frames(frame: FrameType | None) -> Iterator[FrameType]:
    """The frames of ``frame``'s stack in the user's files, innermost first."""
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            yield frame
        frame = frame.f_back


def find_variables(
    frame: FrameType | None, extra_scopes: tuple[dict[str, Any], ...] = ()
) -> Variables:
    """The models and leaf tensors visible from the user's frames on ``frame``'s
    stack: each frame's locals (innermost first), then their globals, then
    ``extra_scopes`` (a script's own globals, when it has no frame on the stack)."""
    frames = list(user_frames(frame))
    scopes = [f.f_locals for f in frames] + [f.f_globals for f in frames] + list(extra_scopes)
    modules: list[tuple[str, torch.nn.Module]] = []
    leaves: dict[str, torch.Tensor] = {}
    optimizers: dict[str, torch.optim.Optimizer] = {}
    seen: set[int] = set()
    for scope in _unique(scopes):
        for name, value in list(scope.items()):
            if name.startswith("__") or id(value) in seen:
                continue
            kind = type(value)
            if issubclass(kind, torch.nn.Module):
                modules.append((name, value))
                seen.add(id(value))
            elif issubclass(kind, torch.Tensor) and value.requires_grad and value.is_leaf:
                leaves[name] = value
                seen.add(id(value))
            elif issubclass(kind, torch.optim.Optimizer):
                optimizers[name] = value
                seen.add(id(value))
    variables = _arrange(modules, leaves)
    variables.optimizers = optimizers
    return variables


def _unique(scopes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    ids: set[int] = set()
    for scope in scopes:
        if id(scope) not in ids:
            ids.add(id(scope))
            yield scope


def _arrange(
    modules: list[tuple[str, torch.nn.Module]], leaves: dict[str, torch.Tensor]
) -> Variables:
    inside = {id(sub) for _, m in modules for sub in m.modules() if sub is not m}
    roots = [(name, m) for name, m in modules if id(m) not in inside]
    with_params = [name for name, m in roots if next(m.parameters(), None) is not None]
    models = {("" if with_params == [name] else name): m for name, m in roots}
    owned = {id(p) for m in models.values() for p in m.parameters()}
    return Variables(models, {n: t for n, t in leaves.items() if id(t) not in owned})


def module_resolver(
    frame_of_call: Callable[[], FrameType | None], extra_scopes: tuple[dict[str, Any], ...] = ()
) -> Callable[[torch.nn.Module], dict[int, str]]:
    """A :class:`~graphviz_app.core.autograd.recorder.ForwardRecorder` ``resolve``
    function: names modules from the user's variables when one is first called."""

    def resolve(module: torch.nn.Module) -> dict[int, str]:
        return find_variables(frame_of_call(), extra_scopes).module_paths()

    return resolve


@dataclass
class RecordedCall:
    """One backward call, captured before and recorded while it ran (live walk)."""

    walk: AutogradWalk
    graph: AutogradGraph
    trace: BackwardTrace
    result: Any  # what the call returned to the user's code (autograd.grad's gradients)


#: Looks at the captured graph before the call runs (backward frees what nodes saved).
BeforeBackward = Callable[[AutogradWalk, AutogradGraph], None]


def record_call(
    call: BackwardCall,
    names: Variables,
    options: CaptureOptions,
    before: BeforeBackward | None = None,
) -> RecordedCall:
    """Capture the graph behind ``call.roots``, then run ``call`` itself, recorded
    (``before`` sees the walk and the graph in between).

    Raises :class:`~graphviz_app.core.graph.walk.CaptureError` (before running
    anything) when a root has no ``grad_fn``; what the call raises propagates, as it
    would in the user's code.
    """
    walk = walk_autograd(call.roots)
    with torch.no_grad():  # statistics of values: nothing to record
        graph = capture_walk(walk, names.parameters(), names.leaves, options)
        if before is not None:
            before(walk, graph)
    with recording_backward(walk, options.preview_limit) as recording:
        result = call.call()
    return RecordedCall(walk, graph, recording.trace(call.keeps_graph), result)
