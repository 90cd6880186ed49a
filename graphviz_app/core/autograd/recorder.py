"""The forward recorder: annotate each new ``grad_fn`` while the forward pass runs.

A :class:`~torch.overrides.TorchFunctionMode` sees every torch call made from
Python; global module hooks keep the current ``nn.Module`` path. Each output's
``grad_fn`` gets an :class:`Annotation` in its ``metadata`` dict (which lives and
dies with the node, so nothing here keeps a tensor alive). Everything installed is
removed on exit, also when the forward raises.

Besides, it notes what explains a parameter without gradient: the ops that cut the
graph (``.detach()``, ``.data``, ``.item()``, ops under ``no_grad``; see
:mod:`~graphviz_app.core.autograd.cuts`) and the modules that ran; and it marks the
nodes a ``create_graph=True`` backward made (:mod:`~graphviz_app.core.autograd.higher_order`).
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, cast

import torch
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

from graphviz_app.core.autograd.cuts import CUT_FUNCS, CutRecorder, RawCut, in_optimizer_step
from graphviz_app.core.autograd.higher_order import BACKWARD_FUNCS, run_marking
from graphviz_app.core.graph.records import SourceLocation, TensorInfo
from graphviz_app.core.graph.tensor_info import (
    DEFAULT_PREVIEW,
    describe_flagging_non_finite,
    describe_tensor,
)
from graphviz_app.core.runtime.gc_pause import gc_paused
from graphviz_app.core.runtime.memory import MemoryBudget

METADATA_KEY = "graphviz_app"
MEMORY_CHECK_EVERY = 64  # ops between two looks at the process's memory (~10 us each)
_SKIP_BY_FILE: dict[str, bool] = {}  # filename -> not the user's code (cached: ~20 us/op)
_UPDATES: dict[Any, bool] = {}  # torch function -> writes into its first argument (cached)
_NO_VALUES = frozenset([torch.Tensor.grad.__get__])  # type: ignore[union-attr]
_BINARY_DUNDERS = frozenset(
    [
        "add",
        "sub",
        "mul",
        "matmul",
        "truediv",
        "floordiv",
        "mod",
        "pow",
        "and",
        "or",
        "xor",
        "lshift",
        "rshift",
        "div",
    ]
)

_TORCH_DIR = os.path.dirname(torch.__file__)
# graphviz_app/, two folders up from core/autograd/recorder.py.
_PACKAGE_DIR = str(Path(__file__).resolve().parents[2])
# The app's own code (session.py, cli.py, core/, ...) is never "the user's line";
# built-in models are, also when an installed wheel ships them inside the package.
_SKIPPED_DIRS = (_TORCH_DIR + os.sep, _PACKAGE_DIR + os.sep)
_BUILTIN_MODELS_DIR = os.path.join(_PACKAGE_DIR, "_builtin_models") + os.sep


@dataclass(frozen=True)
class ForwardNotes:
    """What the recorder noted that explains a parameter without gradient: the ops that
    cut the graph (with their tensors, live until resolved) and the module paths that
    ran, in the order they first ran (a module that never ran is one reason)."""

    cuts: list[RawCut]
    modules_run: tuple[str, ...]


@dataclass(frozen=True)
class Annotation:
    """What the recorder learned about one autograd node during forward."""

    op: str
    module: str | None
    source: SourceLocation | None
    tensor: TensorInfo
    view_base_fn: int | None = None  # id() of the base tensor's grad_fn, for views


class ForwardRecorder:
    """Context manager that annotates autograd nodes created while it is active.

    Parameters
    ----------
    model:
        Optional root module, used to name modules by their qualified path.
    with_values:
        Record value statistics and previews of each op's output.
    preview_limit:
        Maximum number of elements kept in a value preview.
    resolve:
        Optional: names a module ``model`` does not (a script's own models, found
        when first called): id of each module -> its path, or {} when unknown.
    flag_non_finite:
        Without values, still give an output holding NaN or Inf its statistics (one
        sum per output finds them), so that a picture can flag it.

    Module hooks are global, so calls made on other threads than the one that
    entered the recorder are ignored (the torch function mode is per thread).
    """

    def __init__(
        self,
        model: torch.nn.Module | None = None,
        with_values: bool = True,
        preview_limit: int = DEFAULT_PREVIEW,
        resolve: Callable[[torch.nn.Module], dict[int, str]] | None = None,
        flag_non_finite: bool = False,
    ) -> None:
        self._names = {id(m): name for name, m in model.named_modules()} if model else {}
        self._resolve = resolve
        self._unresolved: set[int] = set()  # ids the resolver did not know (asked once)
        self._thread = 0
        self._budget = MemoryBudget()
        self._stack: list[str] = []
        self._with_values = with_values
        self._flag_non_finite = flag_non_finite and not with_values
        self._preview_limit = preview_limit
        self._mode = _AnnotatingMode(self)
        self._handles: list[Any] = []
        self._gc = gc_paused()
        self.grad_enabled_seen = False  # any op ran with grad mode on
        self.op_count = 0
        self.cuts = CutRecorder()
        self.modules_run: dict[str, None] = {}  # module paths in the order they first ran

    def __enter__(self) -> ForwardRecorder:
        self._thread = threading.get_ident()
        self._budget = MemoryBudget()
        # One annotation per op: the collector would run mid-forward (see gc_pause).
        self._gc = gc_paused()
        self._gc.__enter__()
        self._handles = [
            register_module_forward_pre_hook(self._push),
            register_module_forward_hook(self._pop, always_call=True),
        ]
        try:
            self._mode.__enter__()  # type: ignore[no-untyped-call]
        except BaseException:
            self._remove_hooks()
            self._gc.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._mode.__exit__(exc_type, exc, tb)  # type: ignore[no-untyped-call]
        finally:
            self._remove_hooks()
            self._gc.__exit__(None, None, None)

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._stack.clear()

    def _push(self, module: torch.nn.Module, args: object) -> None:
        if threading.get_ident() != self._thread:
            return
        name = self._names.get(id(module))
        if name is None and self._resolve is not None and id(module) not in self._unresolved:
            self._names.update(self._resolve(module))
            name = self._names.get(id(module))
            if name is None:
                self._unresolved.add(id(module))
        if name is None:
            parent = self._stack[-1] if self._stack else ""
            name = f"{parent}.<{type(module).__name__}>" if parent else type(module).__name__
        self._stack.append(name)
        self.modules_run.setdefault(name)

    def take_notes(self) -> ForwardNotes:
        """The cuts noted since the last take (a script's forward between two backward
        calls; they start afresh: the recorder lets their tensors go) and the modules
        that ran so far."""
        notes = ForwardNotes(self.cuts.raw, tuple(self.modules_run))
        self.cuts = CutRecorder()
        return notes

    def _pop(self, module: torch.nn.Module, args: object, output: object) -> None:
        # A forward hook must return None, or it would replace the module's output.
        if self._stack and threading.get_ident() == self._thread:
            self._stack.pop()

    def annotate(self, func: Any, result: object, args: tuple[Any, ...] = ()) -> None:
        """Tag the ``grad_fn`` of every tensor in ``result`` not tagged yet; with grad
        mode off, note the inputs (``args``) that required grad: the op cut them off."""
        self.op_count += 1
        if self.op_count % MEMORY_CHECK_EVERY == 0:
            self._budget.check()  # MemoryError before the machine runs out
        if not torch.is_grad_enabled():
            if args and not _updates(func):
                self._note_no_grad(func, args, result)
            return
        self.grad_enabled_seen = True
        source: SourceLocation | None = None
        for tensor in _tensors(result):
            targets = (tensor, _copy_slices_base(tensor))
            for target in targets:
                if target is None or target.grad_fn is None:
                    continue
                metadata = node_metadata(target.grad_fn)
                if METADATA_KEY not in metadata:
                    source = source or user_source_location()
                    metadata[METADATA_KEY] = self._annotation(func, target, source)

    def _note_no_grad(self, func: Any, args: tuple[Any, ...], result: object) -> None:
        """An op ran with grad mode off on tensors that require grad: a cut when its
        result carries their values on, and no optimizer's step ran it (it reads
        parameters to update them). ``.grad``, ``.size()`` and the like carry none."""
        cut = self.cuts.no_grad_inputs(args)
        if not cut or func in _NO_VALUES or next(_tensors(result), None) is None:
            return
        if not in_optimizer_step():
            self.cuts.no_grad(op_name(func), cut, self.where())

    def where(self) -> tuple[str | None, SourceLocation | None]:
        """The module running now and the user's line."""
        return (self._stack[-1] if self._stack else None), user_source_location()

    def special(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``func``, one of the few ops that cut the graph or run backward."""
        cut = CUT_FUNCS.get(func)
        if cut is not None:
            if torch.is_grad_enabled() and args:
                self.cuts.cut(cut, args[0], self.where())
            return func(*args, **kwargs)
        return run_marking(func, args, kwargs, user_source_location)

    def _annotation(
        self, func: Any, tensor: torch.Tensor, source: SourceLocation | None
    ) -> Annotation:
        if self._flag_non_finite:
            info = describe_flagging_non_finite(tensor, self._preview_limit)
        else:
            info = describe_tensor(tensor, self._preview_limit, self._with_values)
        base_fn = None
        if tensor._is_view() and tensor._base is not None and tensor._base.grad_fn is not None:
            base_fn = id(tensor._base.grad_fn)
        module = self._stack[-1] if self._stack else None
        return Annotation(op_name(func), module, source, info, base_fn)


_SPECIAL = frozenset(CUT_FUNCS) | frozenset(BACKWARD_FUNCS)


class _AnnotatingMode(TorchFunctionMode):
    def __init__(self, recorder: ForwardRecorder) -> None:
        super().__init__()
        self._recorder = recorder

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        if func in _SPECIAL:  # a cut (detach, .data...) or a backward: rare, noted
            result = self._recorder.special(func, args, kwargs or {})
        else:
            result = func(*args, **(kwargs or {}))
        # __setitem__ returns None but gives its target (args[0]) a new CopySlices node.
        changed = args[0] if result is None and args else result
        self._recorder.annotate(func, changed, args)
        return result


def _copy_slices_base(tensor: torch.Tensor) -> torch.Tensor | None:
    """The base of a view that an in-place op just rewrote (its grad_fn is CopySlices).

    Only then is the base's node new; any other base node was made by an earlier op,
    which this one must not label.
    """
    base = tensor._base if tensor._is_view() else None
    if base is not None and type(base.grad_fn).__name__ == "CopySlices":
        return base
    return None


def _updates(func: Any) -> bool:
    """An in-place op (``add_``, ``w -= ...``, ``x[i] = v``): under ``no_grad`` it
    updates a tensor (a training step by hand) rather than carry its values on."""
    found = _UPDATES.get(func)
    if found is None:
        name = op_name(func)
        found = _UPDATES[func] = name == "setitem" or (
            name.endswith("_") and not name.endswith("__")
        )
    return found


def node_metadata(fn: Any) -> dict[str, Any]:
    """The per-node ``metadata`` dict autograd keeps on every ``grad_fn``."""
    return cast(dict[str, Any], fn.metadata)


def _tensors(result: object) -> Iterator[torch.Tensor]:
    if isinstance(result, torch.Tensor):
        yield result
        return
    for leaf in tree_leaves(result):
        if isinstance(leaf, torch.Tensor):
            yield leaf


def op_name(func: Any) -> str:
    """A readable forward-op name: ``Tensor.__add__`` -> ``add``, ``__iadd__`` -> ``add_``,
    ``Tensor.add_`` -> ``add_``, the ``Tensor.T`` property -> ``T``."""
    name = str(getattr(func, "__name__", None) or func)
    if name == "__get__":  # a property such as Tensor.T reaches the mode as its getter
        name = str(getattr(getattr(func, "__self__", None), "__name__", name))
    if not (name.startswith("__") and name.endswith("__")) or len(name) <= 4:
        return name
    inner = name[2:-2]
    if inner.startswith("i") and inner[1:] in _BINARY_DUNDERS:
        return inner[1:] + "_"
    if inner.startswith("r") and inner[1:] in _BINARY_DUNDERS:
        return inner[1:]
    return inner


def user_source_location(frame: FrameType | None = None) -> SourceLocation | None:
    """The innermost stack frame outside torch and this package: the user's line."""
    current: FrameType | None = frame or sys._getframe(1)
    while current is not None:
        filename = current.f_code.co_filename
        skipped = _SKIP_BY_FILE.get(filename)
        if skipped is None:
            skipped = _SKIP_BY_FILE[filename] = _is_skipped(filename)
        if not skipped:
            line = current.f_lineno
            text = linecache.getline(filename, line).strip()
            return SourceLocation(filename, line, current.f_code.co_name, text)
        current = current.f_back
    return None


def is_library_file(filename: str) -> bool:
    """True for torch's and this app's own files: never "the user's line"."""
    skipped = _SKIP_BY_FILE.get(filename)
    if skipped is None:
        skipped = _SKIP_BY_FILE[filename] = _is_skipped(filename)
    return skipped


def _is_skipped(filename: str) -> bool:
    if filename.startswith(_BUILTIN_MODELS_DIR):
        return False
    return filename.startswith(_SKIPPED_DIRS) or filename.startswith("<frozen")
