"""Python model files: the conventions (``build_model()``), or a class the user picks.

A file without ``build_model()`` is loaded by building ``request.class_name`` with
``request.init_args`` (see :func:`parse_init_args`) and inputs from
``request.input_spec`` (or the file's ``example_inputs()``). With
``request.definitions_only`` only the file's definitions run; with
``request.structure_only`` the model and inputs are built on the meta device.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from graphviz_app.core.autograd.forward import as_input_tuple
from graphviz_app.core.runtime.devices import made_on
from graphviz_app.io.input_spec import make_inputs, parse_input_spec
from graphviz_app.io.load_errors import ChoiceNeededError, ModelFileError
from graphviz_app.io.loaders.detect import FileFormat
from graphviz_app.io.loaders.registry import register
from graphviz_app.io.model_file import (
    ImportedFile,
    LoadedModel,
    check_module,
    import_file,
    required,
    run_user,
)
from graphviz_app.io.request import LoadRequest

CallArgs = tuple[tuple[Any, ...], dict[str, Any]]


def register_loaders() -> None:
    """Register this module's loader."""
    register(FileFormat.PYTHON.value, load_python)


def load_python(request: LoadRequest) -> LoadedModel:
    """Load a ``.py`` model file as ``request`` says (see the module docstring)."""
    path = Path(request.path).resolve()
    imported = import_file(path, request.definitions_only)
    model, inputs = build_from(imported, path, request)
    module = imported.module
    return LoadedModel(
        name=path.stem if not request.class_name else f"{path.stem}.{request.class_name}",
        path=path,
        model=model,
        inputs=inputs,
        loss_fn=getattr(module, "loss_fn", None),
        make_batch=None if request.structure_only else getattr(module, "make_batch", None),
        doc=(module.__doc__ or "").strip(),
        notes=imported.notes(),
        structure_only=request.structure_only,
        example_target=_example_target(module, path, request),
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


def build_from(
    imported: ImportedFile, path: Path, request: LoadRequest
) -> tuple[torch.nn.Module, tuple[torch.Tensor, ...]]:
    """The model and inputs of an imported file, as ``request`` says."""
    module = imported.module
    if request.class_name:
        build = _class_builder(module, path, request)
        what = f"{request.class_name}({request.init_args.strip(' ()')})"
    elif callable(getattr(module, "build_model", None)):
        build, what = required(module, path, "build_model"), "build_model()"
    else:
        raise ChoiceNeededError(_no_build_model(module, path))
    with made_on(_device(request)):
        model = check_module(path, what, _run_explained(imported, path, what, build))
    return model, _inputs(imported, path, request)


def _inputs(imported: ImportedFile, path: Path, request: LoadRequest) -> tuple[torch.Tensor, ...]:
    device = "meta" if request.structure_only else None
    if request.input_spec.strip():
        return make_inputs(parse_input_spec(request.input_spec), device)
    example = getattr(imported.module, "example_inputs", None)
    if not callable(example):
        raise ChoiceNeededError(
            f"{path.name} defines no example_inputs(): give an input spec such as "
            "'1x3x32x32:float32' (or '4x16:int64[0,1000)' for token ids)."
        )
    with made_on(_device(request)):
        value = _run_explained(imported, path, "example_inputs()", example)
    try:
        return as_input_tuple(value)
    except TypeError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from exc


def _device(request: LoadRequest) -> str:
    """The meta device for a structure-only load (no memory, no values)."""
    return "meta" if request.structure_only else "cpu"


def _class_builder(module: ModuleType, path: Path, request: LoadRequest) -> Any:
    cls = getattr(module, request.class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ChoiceNeededError(
            f"{path.name} defines no nn.Module class {request.class_name!r}. "
            + _classes_text(module)
        )
    args, kwargs = parse_init_args(request.init_args)
    return lambda: cls(*args, **kwargs)


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


def _no_build_model(module: ModuleType, path: Path) -> str:
    return f"{path.name} defines no build_model(): choose the class to build. " + _classes_text(
        module
    )


def _classes_text(module: ModuleType) -> str:
    names = module_class_names(module)
    if not names:
        return "It defines no nn.Module subclass either."
    return f"Its nn.Module classes: {', '.join(names)} (--class NAME on the command line)."


def module_class_names(module: ModuleType) -> list[str]:
    """The ``nn.Module`` subclasses defined in ``module`` itself (not imported ones)."""
    return [
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, torch.nn.Module)
        and value.__module__ == module.__name__
    ]


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
            f"dicts, True/False/None): {text!r} is not ({exc})."
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
