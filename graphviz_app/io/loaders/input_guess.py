"""An example input for a model whose file gives none, tried until a forward runs.

Candidates, in order: the tensors the file itself builds and passes to the model
(``net(torch.randn(1, 1, 32, 32))``); the sizes its constructor arguments name
(``image_size`` and ``channels``); then what the first layers that consume an input
take: ``Conv1d/2d/3d`` in_channels with a few common sizes, ``Linear`` in_features,
``Embedding`` token ids in ``[0, num_embeddings)`` (as many as ``block_size`` allows),
``RNN/LSTM/GRU`` input_size (batch_first honoured). Each candidate runs one forward
under ``no_grad``; buffers (batch-norm statistics) are put back afterwards. The bytes
of every op's output are counted on the way: a model whose forward (with its default
sizes) would keep more than half the free memory for backward is refused before its
real forward runs, with the offer of a structure-only picture.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from graphviz_app.core.runtime.memory import available_bytes
from graphviz_app.core.runtime.user_code import ABORTS
from graphviz_app.io.input_spec import make_inputs, parse_input_spec, spec_of
from graphviz_app.io.load_errors import ModelTooLargeError

SIZES_2D = (32, 28, 64, 224, 256, 96, 128, 16)
SIZES_1D = (64, 32, 128, 256, 16, 1000)
SIZES_3D = (16, 32, 8)
SEQUENCE = 8  # tokens (at most block_size) or time steps: short, so RNNs stay readable
MAX_TRIES = 40
BATCH_STATISTICS = "more than 1 value per channel"  # batch norm's error on one sample
TIME_BUDGET_S = 30.0
_IMAGE_WORDS = ("image_size", "img_size", "input_size", "resolution", "image_res")
_CHANNEL_WORDS = ("channels", "in_channels", "in_chans", "num_channels", "input_channels")
_NOT_ONE_TENSOR = (
    "it returns {} tensors (an LSTM's (h, c) pair), and an input here is one tensor: "
    "give the model a forward that makes its own state, or use a GRU"
)
_STATE_MAKERS = ("init_hidden", "initHidden", "init_state", "begin_state")
_LENGTH_WORDS = ("block_size", "max_seq_len", "seq_len", "max_len", "context_length", "n_ctx")


@dataclass(frozen=True)
class Candidate:
    """An input spec to try and where it comes from (said to the user)."""

    spec: str
    origin: str


@dataclass(frozen=True)
class InputGuess:
    """The input that ran, or what was tried."""

    inputs: tuple[torch.Tensor, ...] | None
    spec: str
    origin: str
    tried: tuple[str, ...]
    problems: tuple[tuple[str, str], ...] = ()  # (spec, what its forward raised) when none ran


def guess_input(
    model: nn.Module, passed: Candidate | None, values: dict[str, Any], device: str = "cpu"
) -> InputGuess:
    """The first candidate (see the module docstring) a forward of ``model`` accepts;
    ``values`` are the constructor's arguments by name (with defaults); inputs are
    made on ``device`` (the meta device for a structure-only load)."""
    tried: list[str] = []
    problems: list[tuple[str, str]] = []
    deadline = time.monotonic() + TIME_BUDGET_S
    saved = {name: b.detach().clone() for name, b in model.named_buffers()}
    try:
        found = _with_state(model, _candidates(model, passed, values), problems)
        for candidate in _unique(found):
            if len(tried) >= MAX_TRIES or time.monotonic() > deadline:
                break
            tried.append(candidate.spec)
            spec = candidate.spec
            problem, kept = _problem(model, make_inputs(parse_input_spec(spec), device))
            if BATCH_STATISTICS in problem and spec.startswith("1x"):
                spec = "2x" + spec[2:]  # batch norm in train mode needs two samples
                problem, kept = _problem(model, make_inputs(parse_input_spec(spec), device))
            if not problem:
                _check_fits(kept, spec)
                inputs = make_inputs(parse_input_spec(spec), device)
                return InputGuess(inputs, spec, candidate.origin, tuple(tried))
            problems.append((spec, problem))
    finally:
        _restore(model, saved)
    return InputGuess(None, "", "", tuple(tried), tuple(problems))


def _problem(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[str, int]:
    """What a forward on ``inputs`` raised ("" when it ran), and the bytes its ops made."""
    counting = _OutputBytes()
    try:
        with torch.no_grad(), counting:
            model(*inputs)
    except ABORTS:
        raise
    except Exception as exc:  # a wrong shape: try the next candidate
        return f"{type(exc).__name__}: {exc}".rstrip(": "), counting.total
    return "", counting.total


class _OutputBytes(TorchFunctionMode):
    """Counts the bytes of every tensor the ops return (what a forward with autograd
    would keep for backward, at most)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        result = func(*args, **(kwargs or {}))
        if isinstance(result, torch.Tensor) and not result.is_meta:
            self.total += result.numel() * result.element_size()
        return result


def _check_fits(kept: int, spec: str) -> None:
    """Refuse a forward that would keep more than half the free memory for backward."""
    free = available_bytes()
    if free is not None and kept > free // 2:
        raise ModelTooLargeError(
            f"With the input {spec} (its sizes as the file gives them), the forward would "
            f"keep about {kept / 2**30:.1f} GiB for backward, more than this machine can "
            "spare. Open it structure-only (the graph without values, no memory), or give "
            "smaller sizes (--args) or a smaller input (--input)."
        )


def _restore(model: nn.Module, saved: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name in saved and saved[name].shape == buffer.shape:
                buffer.copy_(saved[name])


def _unique(candidates: Iterator[Candidate]) -> Iterator[Candidate]:
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.spec not in seen:
            seen.add(candidate.spec)
            yield candidate


def _with_state(
    model: nn.Module, candidates: Iterator[Candidate], problems: list[tuple[str, str]]
) -> Iterator[Candidate]:
    """Each candidate; and when ``forward`` takes more tensors than it gives
    (``forward(input, hidden)``) and the model makes its own state
    (``init_hidden(bsz)``), the candidate with that state, for each batch size its
    first two dimensions could be (``seq x batch``, or ``batch x seq``). A state that
    is not one tensor is said in ``problems``."""
    makers = (getattr(model, n, None) for n in _STATE_MAKERS)
    make = next((m for m in makers if callable(m)), None)
    for candidate in candidates:
        yield candidate
        specs = parse_input_spec(candidate.spec)
        if make is None or _required_inputs(model) <= len(specs):
            continue
        for batch in dict.fromkeys(specs[0].shape[:2]):
            state = _state(make, batch)
            called = f"{make.__name__}({batch})"
            if isinstance(state, torch.Tensor):
                spec = f"{candidate.spec}; {spec_of((state,))}"
                yield Candidate(spec, f"{candidate.origin}, its state from {called}")
            elif isinstance(state, (tuple, list)):
                problems.append((called, _NOT_ONE_TENSOR.format(len(state))))


def _state(make: Any, batch: int) -> object:
    """What ``make(batch)`` returns (None when it raises: not a batch size it takes)."""
    try:
        with torch.no_grad():
            return make(batch)
    except ABORTS:
        raise
    except Exception:  # the model's own code: not a state this batch size fits
        return None


def _required_inputs(model: nn.Module) -> int:
    """How many positional arguments ``model.forward`` needs (1 when unknown)."""
    try:
        params = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)


def _candidates(
    model: nn.Module, passed: Candidate | None, values: dict[str, Any]
) -> Iterator[Candidate]:
    if passed is not None:
        yield passed
    yield from _from_arguments(model, values)
    for name, layer in _consumers(model):
        yield from _from_layer(name, layer, model, values)


def _from_arguments(model: nn.Module, values: dict[str, Any]) -> Iterator[Candidate]:
    size = _named(model, values, _IMAGE_WORDS)
    if size is None:
        return
    channels = _named(model, values, _CHANNEL_WORDS) or 3
    height, width = size if isinstance(size, (tuple, list)) else (size, size)
    if all(isinstance(v, int) for v in (channels, height, width)):
        words = f"{_word(values, _IMAGE_WORDS)}={size}, channels={channels}"
        yield Candidate(f"1x{channels}x{height}x{width}:float32", words)


def _named(model: nn.Module, values: dict[str, Any], words: tuple[str, ...]) -> Any:
    """The first of ``words`` among the constructor's values, the model's attributes
    or a config object's fields."""
    sources = [values, vars(model)]
    sources += [vars(v) for v in values.values() if hasattr(v, "__dict__") and not callable(v)]
    for source in sources:
        for word in words:
            if isinstance(source.get(word), (int, tuple, list)):
                return source[word]
    return None


def _word(values: dict[str, Any], words: tuple[str, ...]) -> str:
    return next((w for w in words if w in values), words[0])


def _consumers(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """Layers that may take a model's input: those ``forward`` uses first come first
    (a subclass of ``nn.Transformer`` registers its encoder's Linear layers before the
    ``self.input_emb`` its forward starts with), then in the order they were registered."""
    kinds = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear, nn.Embedding, nn.RNNBase, nn.RNNCellBase)
    layers = [(n, layer) for n, layer in model.named_modules() if isinstance(layer, kinds)]
    mentions = _forward_mentions(model)
    rank = {name: index for index, name in enumerate(mentions)}
    layers.sort(key=lambda named: rank.get(named[0].split(".")[0], len(rank)))  # stable
    yield from layers[:6]


def _forward_mentions(model: nn.Module) -> list[str]:
    """The ``self.<name>`` attributes ``forward`` uses, in the order it calls them
    (``self.decoder(self.encoder(self.emb(x)))`` calls ``emb`` first); empty when the
    source cannot be read (a compiled or generated forward)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(type(model).forward)))
    except (OSError, TypeError, SyntaxError):
        return []
    order = _CallOrder()
    order.visit(tree)
    return list(dict.fromkeys(order.names))


class _CallOrder(ast.NodeVisitor):
    """Collects ``self.<name>`` in evaluation order: a call's arguments before the call."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Call(self, node: ast.Call) -> None:
        for argument in [*node.args, *node.keywords]:
            self.visit(argument)
        self.visit(node.func)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            self.names.append(node.attr)


def _from_layer(
    name: str, layer: nn.Module, model: nn.Module, values: dict[str, Any]
) -> Iterator[Candidate]:
    origin = f"{name} = {_short(layer)}"
    if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        channels = layer.in_channels
        dims = 1 if isinstance(layer, nn.Conv1d) else 2 if isinstance(layer, nn.Conv2d) else 3
        sizes = {1: SIZES_1D, 2: SIZES_2D, 3: SIZES_3D}[dims]
        for size in sizes:
            shape = "x".join(["1", str(channels), *[str(size)] * dims])
            yield Candidate(f"{shape}:float32", origin)
    elif isinstance(layer, nn.Linear):
        features = layer.in_features
        for shape in (f"1x{features}", f"2x{features}", f"1x{SEQUENCE}x{features}"):
            yield Candidate(f"{shape}:float32", origin)
    elif isinstance(layer, nn.Embedding):
        length = _named(model, values, _LENGTH_WORDS)
        tokens = min(length, SEQUENCE) if isinstance(length, int) and length > 0 else SEQUENCE
        yield Candidate(f"1x{tokens}:int64[0,{layer.num_embeddings})", origin)
    elif isinstance(layer, nn.RNNBase):
        size = layer.input_size
        for length in (5, size):  # a sequence; or as many steps as features (rows of an image)
            steps = f"1x{length}" if layer.batch_first else f"{length}x1"
            yield Candidate(f"{steps}x{size}:float32", origin)
    elif isinstance(layer, nn.RNNCellBase):  # stepped by hand: one step, or a series
        yield Candidate(f"1x{layer.input_size}:float32", origin)
        yield Candidate(f"1x5x{layer.input_size}:float32", origin)


def _short(layer: nn.Module) -> str:
    text = repr(layer)
    return text if len(text) <= 60 else text[:57] + "..."
