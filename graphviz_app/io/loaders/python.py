"""Python model files: the conventions (``build_model()``), or a class of the file.

A file without ``build_model()`` is loaded by building ``request.class_name`` (or the
file's model, found as :mod:`graphviz_app.io.loaders.class_file` says) with
``request.init_args`` (or guessed ones). Inputs come from ``request.input_spec``, the
file's ``example_inputs()``, or a guess that runs. Every guess is said in the loaded
model's ``guesses``. With ``request.definitions_only`` only the file's definitions run;
with ``request.structure_only`` the model and inputs are built on the meta device.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import torch

from graphviz_app.core.autograd.forward import as_input_tuple
from graphviz_app.core.runtime.devices import made_on
from graphviz_app.io.input_spec import make_inputs, parse_input_spec
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.loaders.class_file import ClassChoice, choose_class, guessed_inputs
from graphviz_app.io.loaders.detect import FileFormat
from graphviz_app.io.loaders.registry import register
from graphviz_app.io.model_file import (
    ImportedFile,
    LoadedModel,
    RanAlready,
    check_module,
    import_file,
    required,
    run_user,
)
from graphviz_app.io.python_source import summarize_source
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.source_facts import FileKind

CallArgs = tuple[tuple[Any, ...], dict[str, Any]]


def register_loaders() -> None:
    """Register this module's loader."""
    register(FileFormat.PYTHON.value, load_python)


@dataclasses.dataclass
class Built:
    """A file's model and inputs, the request that would build them again without
    guessing (``resolved``), and the guesses made."""

    model: torch.nn.Module
    inputs: tuple[torch.Tensor, ...]
    resolved: LoadRequest
    guesses: list[str]


def load_python(request: LoadRequest, ran: RanAlready | None = None) -> LoadedModel:
    """Load a ``.py`` model file as ``request`` says (see the module docstring); ``ran``:
    what the file's own run as a script did before it failed (not run again)."""
    path = Path(request.path).resolve()
    summary = summarize_source(path)
    if not request.class_name and summary.kind == FileKind.NO_AUTOGRAD.value:
        raise ModelFileError(no_autograd_text(path, summary.backward_lines))
    imported = _import(path, request, summary.kind == FileKind.CLASSES.value, ran)
    try:
        built = build_from(imported, path, request)
    except ModelFileError as exc:  # an import that failed may be why: say it
        failures = imported.failures()
        if not failures:
            raise
        raise type(exc)(f"{exc.summary} {' '.join(failures)}", exc.details) from exc
    module = imported.module
    class_name = built.resolved.class_name
    return LoadedModel(
        name=f"{path.stem}.{class_name}" if class_name else path.stem,
        path=path,
        model=built.model,
        inputs=built.inputs,
        loss_fn=getattr(module, "loss_fn", None),
        make_batch=None if request.structure_only else getattr(module, "make_batch", None),
        doc=(module.__doc__ or "").strip(),
        notes=imported.notes(),
        structure_only=request.structure_only,
        example_target=_example_target(module, path, request),
        guesses=tuple(built.guesses),
        resolved=built.resolved,
    )


def _import(
    path: Path, request: LoadRequest, class_file: bool, ran: RanAlready | None
) -> ImportedFile:
    """The file run as a module, once; in a class file, a top-level statement that
    fails (a dataset, a package only its data needs, ``sys.exit()``) is said and the
    rest of the file runs leniently."""
    resume = class_file and not (request.definitions_only or request.lenient)
    return import_file(path, request.definitions_only, request.lenient, resume, ran)


def no_autograd_text(path: Path, backward_lines: tuple[int, ...] = ()) -> str:
    """Why a file without modules or ``requires_grad`` that runs no backward has
    nothing to draw."""
    if backward_lines:
        lines = ", ".join(str(n) for n in backward_lines[:4])
        return (
            f"{path.name} calls backward (line {lines}) only inside functions it never runs "
            "and defines no nn.Module: there is nothing to run or draw here. Open the script "
            "that calls those functions. None of this file's code was run."
        )
    return (
        f"{path.name} does no autograd: it never calls backward() or torch.autograd.grad(), "
        "defines no nn.Module and never asks for requires_grad, so there is no autograd "
        "graph to draw (are its gradients computed by hand?). None of its code was run."
    )


def _example_target(module: Any, path: Path, request: LoadRequest) -> torch.Tensor | None:
    """The file's ``example_target()``, when it has one (and values are wanted)."""
    make = getattr(module, "example_target", None)
    if not callable(make) or request.structure_only:
        return None
    target = run_user(path, "example_target()", make)
    if not isinstance(target, torch.Tensor):
        raise ModelFileError(
            f"{path.name}: example_target() returned {type(target).__name__}, not a tensor."
        )
    return target


def build_from(imported: ImportedFile, path: Path, request: LoadRequest) -> Built:
    """The model and inputs of an imported file, as ``request`` says (guessing what it
    leaves open; a guessed string the class compares with is tried with each value
    until one builds a model that runs)."""
    module = imported.module
    if not request.class_name and callable(getattr(module, "build_model", None)):
        return _build(imported, path, request, None)
    choice = choose_class(module, path, request, summarize_source(path), parse_init_args)
    try:
        return _build(imported, path, request, choice)
    except ModelFileError as exc:
        if exc.kind == "too_large" or not (choice.by_name or choice.options):
            raise
        for variant in choice.variants():
            with contextlib.suppress(ModelFileError):
                return _build(imported, path, request, variant)
        raise choice.refused(path, imported.module, exc.summary) from exc


def _build(
    imported: ImportedFile, path: Path, request: LoadRequest, choice: ClassChoice | None
) -> Built:
    """Build ``choice`` (or the file's ``build_model()``) and find its inputs."""
    if choice is not None:
        cls, args, kwargs = choice.cls, choice.args, choice.kwargs
        build, what = (lambda: cls(*args, **kwargs)), f"{choice.name}({choice.init_text})"
    else:
        build, what = required(imported.module, path, "build_model"), "build_model()"
    with made_on(_device(request)):
        model = check_module(path, what, _run_explained(imported, path, what, build))
    guesses = list(choice.guesses) if choice else []
    inputs, spec = _inputs(imported, path, request, model, choice, guesses)
    resolved = dataclasses.replace(
        request,
        class_name=choice.name if choice else "",
        init_args=choice.init_text if choice else "",
        input_spec=spec,
    )
    return Built(model, inputs, resolved, guesses)


def _inputs(
    imported: ImportedFile,
    path: Path,
    request: LoadRequest,
    model: torch.nn.Module,
    choice: ClassChoice | None,
    guesses: list[str],
) -> tuple[tuple[torch.Tensor, ...], str]:
    """The inputs, and the spec the user gave or that was guessed ("" for the file's
    own ``example_inputs()``)."""
    device = "meta" if request.structure_only else None
    if request.input_spec.strip():
        return make_inputs(parse_input_spec(request.input_spec), device), request.input_spec
    example = getattr(imported.module, "example_inputs", None)
    if not callable(example):
        values = choice.values() if choice else {}
        name = choice.name if choice else ""
        with made_on(_device(request)):
            inputs, spec, origin = guessed_inputs(model, path, name, values, _device(request))
        guesses.append(f"input {spec} from {origin}")
        return inputs, spec
    with made_on(_device(request)):
        value = _run_explained(imported, path, "example_inputs()", example)
    try:
        return as_input_tuple(value), ""
    except TypeError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from exc


def _device(request: LoadRequest) -> str:
    """The meta device for a structure-only load (no memory, no values)."""
    return "meta" if request.structure_only else "cpu"


def _run_explained(imported: ImportedFile, path: Path, what: str, fn: Any) -> Any:
    """:func:`run_user`, adding which skipped import a NameError comes from."""
    try:
        return run_user(path, what, fn)
    except ModelFileError as exc:
        hint = _missing_import_hint(imported, exc.__cause__)
        if hint:
            raise ModelFileError(f"{exc.summary} {hint}", exc.details) from exc.__cause__
        raise


def _missing_import_hint(imported: ImportedFile, cause: BaseException | None) -> str:
    if not isinstance(cause, NameError):
        return ""
    for missing in imported.missing:
        if cause.name in missing.names:
            return f"It comes from an import that failed: {missing.describe()}."
    return ""


def parse_init_args(text: str) -> CallArgs:
    """Constructor arguments from text, every value a Python literal.

    ``"(1, 2)"`` (a tuple: positional arguments), ``"{'hidden': 16}"`` (a dict: keyword
    arguments), or call syntax ``"1, 2, hidden=16"``. A single tuple argument is
    written ``"((1, 2),)"``.
    """
    text = text.strip()
    if not text:
        return (), {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError as exc:
        raise ModelFileError(f"Cannot read the constructor arguments {text!r}: {exc.msg}.") from exc
    assert isinstance(call, ast.Call)
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except (ValueError, SyntaxError) as exc:
        raise ModelFileError(
            f"Constructor arguments must be Python literals (numbers, strings, tuples, lists, "
            f"dicts, True/False/None), the file's module-level names or calls of its classes: "
            f"{text!r} is not ({exc})."
        ) from exc
    if len(args) == 1 and not kwargs and text.startswith(("(", "{")):
        return _unpack_single(args[0])
    return tuple(args), kwargs


def _unpack_single(value: Any) -> CallArgs:
    if isinstance(value, tuple):
        return value, {}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return (), value
    return (value,), {}
