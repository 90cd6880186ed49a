"""A class file opened with no flags: which class to build, and with what arguments.

The class is the file's model as :func:`~graphviz_app.io.source_facts.choose_model_class`
finds it. Each constructor parameter without a default is filled, in this order,
from: the file's own call of the class (``model = Net(10, hidden=32)``), a config
class of the file its annotation or name points at (``config: GPTConfig``, built with
its defaults), a module-level constant of the same name (``n_embd = 64``). What is
still missing is a small size chosen by the parameter's name (see :mod:`.sizes`), or
listed, with an example ``--args``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from graphviz_app.io.loaders.sizes import size_for
from graphviz_app.io.source_facts import ClassCall

#: Parameter names that usually take a config object.
CONFIG_NAMES = frozenset({"config", "cfg", "conf", "args", "hparams", "params", "opt", "options"})
_CONFIG_SUFFIXES = ("Config", "Configuration", "Args", "Params", "Hparams", "Options", "Cfg")


@dataclass(frozen=True)
class Arguments:
    """A constructor call the loader will make, and how it was found."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    text: str  # as --args would write it (``config=GPTConfig()``), for notes and forms
    missing: tuple[inspect.Parameter, ...] = ()  # required, and nothing filled them
    sources: tuple[str, ...] = ()  # "config=GPTConfig() (its defaults)" ...
    by_name: tuple[inspect.Parameter, ...] = ()  # filled with small sizes by their names
    #: A string guessed from the class's comparisons -> its other values, to try next.
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Given:
    """Arguments the user gave (``--args``, the form's filled fields) and their text."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    text: str


def constructor_parameters(cls: type) -> list[inspect.Parameter]:
    """``cls.__init__``'s parameters without ``self`` and ``*args``/``**kwargs``."""
    try:
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p for p in list(signature.parameters.values())[1:] if p.kind not in kinds]


def guess_arguments(
    module: ModuleType,
    cls: type,
    calls: tuple[ClassCall, ...],
    constants: dict[str, object],
    strings: dict[str, tuple[str, ...]] | None = None,
    given: Given | None = None,
) -> Arguments:
    """The arguments to build ``cls`` with (see the module docstring). ``strings``: the
    string literals the class's code compares each name with (the first is guessed).
    ``given`` wins, and the file's own call is not used then; what it leaves out is
    guessed as for no arguments at all."""
    if given is None:
        args, kwargs, texts, sources = _from_file_call(module, calls)
    else:
        args, kwargs, texts, sources = list(given.args), dict(given.kwargs), [], []
        texts = argument_parts(given.text)
    filled = _positional_names(cls, len(args)) | set(kwargs)
    missing, by_name, options = [], [], {}
    for param in constructor_parameters(cls):
        if param.name in filled or param.default is not inspect.Parameter.empty:
            continue
        found, rest = _guess_one(module, param, constants, strings or {})
        if found is None:
            missing.append(param)
            continue
        value, text, why = found
        if rest is not None:
            options[param.name] = rest
        if why == BY_NAME:
            by_name.append(param)
        kwargs[param.name] = value
        texts.append(f"{param.name}={text}")
        sources.append(f"{param.name}={text} ({why})")
    text = ", ".join(texts)
    return Arguments(
        tuple(args), kwargs, text, tuple(missing), tuple(sources), tuple(by_name), options
    )


BY_NAME = "by its name"  # the reason a size guessed from the parameter's name gives


def _guess_one(
    module: ModuleType,
    param: inspect.Parameter,
    constants: dict[str, object],
    strings: dict[str, tuple[str, ...]],
) -> tuple[tuple[object, str, str] | None, tuple[str, ...] | None]:
    """One parameter's guess as (value, its text, why), or None; and, for a string the
    class compares it with, the other strings to try after it."""
    found = _known_value(module, param, constants)
    if found is not None:
        return found, None  # the file's own values never give BY_NAME as their reason
    choices = string_choices(param, strings)
    if choices:
        return (
            choices[0],
            repr(choices[0]),
            f"its code compares it with {_listed(choices)}",
        ), choices[1:]
    size = size_for(param)
    if size is not None:
        return (size, repr(size), BY_NAME), None
    return None, None


def _known_value(
    module: ModuleType, param: inspect.Parameter, constants: dict[str, object]
) -> tuple[Any, str, str] | None:
    """What the file itself gives ``param``: a config class, a variable, a constant."""
    return (
        _config_for(module, param)
        or _variable_for(module, param)
        or _constant_for(constants, param)
    )


def string_choices(
    param: inspect.Parameter, strings: dict[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """The strings the class compares ``param`` with, when it may be a string (no type
    hint, or ``str``)."""
    hint = param.annotation
    name = hint if isinstance(hint, str) else getattr(hint, "__name__", "")
    if hint is not inspect.Parameter.empty and name != "str":
        return ()
    return strings.get(param.name, ())


def _listed(choices: tuple[str, ...]) -> str:
    shown = ", ".join(repr(c) for c in choices[:4])
    return shown + (", ..." if len(choices) > 4 else "")


def argument_parts(text: str) -> list[str]:
    """``"3, hidden=16"`` -> ``["3", "hidden=16"]``; the tuple and dict forms of
    ``--args`` (``"(3, 16)"``, ``"{'hidden': 16}"``) as call syntax too."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        return [text.strip()] if text.strip() else []
    assert isinstance(call, ast.Call)
    args, keywords = list(call.args), list(call.keywords)
    if len(args) == 1 and not keywords and text.strip().startswith(("(", "{")):
        single = args[0]
        if isinstance(single, ast.Tuple):
            args = list(single.elts)
        elif isinstance(single, ast.Dict):
            return _dict_parts(single) or [ast.unparse(single)]
    parts = [ast.unparse(a) for a in args]
    for keyword in keywords:
        value = ast.unparse(keyword.value)
        parts.append(f"{keyword.arg}={value}" if keyword.arg else f"**{value}")
    return parts


def _dict_parts(node: ast.Dict) -> list[str]:
    """``{'hidden': 16}`` -> ``["hidden=16"]``; [] when a key is not a name's string."""
    parts = []
    for key, value in zip(node.keys, node.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return []
        parts.append(f"{key.value}={ast.unparse(value)}")
    return parts


def _positional_names(cls: type, count: int) -> set[str]:
    return {p.name for p in constructor_parameters(cls)[:count]}


def _from_file_call(
    module: ModuleType, calls: tuple[ClassCall, ...]
) -> tuple[list[Any], dict[str, Any], list[str], list[str]]:
    """The first call of the class in the file whose arguments evaluate (literals, the
    file's constants and classes): its values, their texts, and where it is."""
    for call in calls:
        node = ast.parse(call.text, mode="eval").body
        assert isinstance(node, ast.Call)
        try:
            args, kwargs = evaluate_call(node, module)
        except _Unknown:
            continue
        texts = [ast.unparse(a) for a in node.args]
        texts += [f"{k.arg}={ast.unparse(k.value)}" for k in node.keywords]
        return args, kwargs, texts, [f"{call.text} (as line {call.line} builds it)"]
    return [], {}, [], []


def evaluate_call(node: ast.Call, module: ModuleType) -> tuple[list[Any], dict[str, Any]]:
    """The values of a call's arguments (see :func:`_evaluate`); ``**options`` is
    :class:`_Unknown`."""
    if any(k.arg is None for k in node.keywords):
        raise _Unknown
    args = [_evaluate(a, module) for a in node.args]
    return args, {str(k.arg): _evaluate(k.value, module) for k in node.keywords}


def evaluate_arguments(text: str, module: ModuleType) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``--args`` text evaluated with the file's names: literals, its constants and
    calls of its classes (``config=GPTConfig(n_layer=2)``). Raises ValueError with
    the reason."""
    try:
        node = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError as exc:
        raise ValueError(exc.msg) from exc
    assert isinstance(node, ast.Call)
    try:
        args, kwargs = evaluate_call(node, module)
    except _Unknown as exc:
        raise ValueError(
            "only literals, the file's module-level names and calls of its classes work"
        ) from exc
    return tuple(args), kwargs


class _Unknown(Exception):  # noqa: N818 (a control-flow signal)
    """An argument the file computes at run time: not guessed."""


def _evaluate(node: ast.expr, module: ModuleType) -> Any:
    """A literal, a module-level name, or a call of one of the file's classes with
    such arguments (``GPTConfig(n_layer=2)``); :class:`_Unknown` for anything else."""
    if isinstance(node, ast.Starred):
        raise _Unknown
    if isinstance(node, ast.Name):
        if node.id in vars(module):
            return vars(module)[node.id]
        raise _Unknown
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        cls = vars(module).get(node.func.id)
        if isinstance(cls, type) and cls.__module__ == module.__name__:
            args, kwargs = evaluate_call(node, module)
            return cls(*args, **kwargs)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise _Unknown from exc


def _config_for(module: ModuleType, param: inspect.Parameter) -> tuple[Any, str, str] | None:
    """An instance of the file's config class the parameter points at, with defaults."""
    cls = _annotated_class(module, param) or _named_config_class(module, param.name)
    if cls is None:
        return None
    try:
        value = cls()
    except Exception:  # a config class with required fields: not guessed
        return None
    return value, f"{cls.__name__}()", "its defaults"


def _annotated_class(module: ModuleType, param: inspect.Parameter) -> type | None:
    hint = param.annotation
    name = hint if isinstance(hint, str) else getattr(hint, "__name__", "")
    found = vars(module).get(str(name).strip("'\""))
    return found if _is_file_class(module, found) else None


def _named_config_class(module: ModuleType, name: str) -> type | None:
    """``config`` -> the file's only config-like class; ``gpt_config`` -> ``GPTConfig``."""
    classes = [v for v in vars(module).values() if _is_file_class(module, v)]
    squashed = name.replace("_", "").lower()
    exact: list[type] = [c for c in classes if c.__name__.lower() == squashed]
    if exact:
        return exact[0]
    if name.lower() not in CONFIG_NAMES and not name.lower().endswith(("config", "cfg")):
        return None
    configs: list[type] = [
        c for c in classes if c.__name__.endswith(_CONFIG_SUFFIXES) or dataclasses.is_dataclass(c)
    ]
    return configs[0] if len(configs) == 1 else None


def _is_file_class(module: ModuleType, value: object) -> bool:
    import torch  # here: the summary side of this module needs no torch

    return (
        isinstance(value, type)
        and value.__module__ == module.__name__
        and not issubclass(value, torch.nn.Module)
    )


def _variable_for(module: ModuleType, param: inspect.Parameter) -> tuple[Any, str, str] | None:
    """A module-level variable of the file named like the parameter (``ngpu``, ``args``:
    a value the file computed at its top level, not a module, class or function)."""
    for name, value in vars(module).items():
        if name.startswith("__") or name.lower() != param.name.lower():
            continue
        if inspect.ismodule(value) or inspect.isclass(value) or callable(value):
            continue
        text = name if not isinstance(value, (int, float, str, bool)) else repr(value)
        return value, text, f"the file's variable {name}"
    return None


def _constant_for(
    constants: dict[str, object], param: inspect.Parameter
) -> tuple[Any, str, str] | None:
    """A module-level constant named like the parameter (``n_embd``, ``N_EMBD``)."""
    for name, value in constants.items():
        if name == param.name or name.lower() == param.name.lower():
            return value, repr(value), f"the file's constant {name}"
    return None


def example_arguments(
    missing: tuple[inspect.Parameter, ...], strings: dict[str, tuple[str, ...]] | None = None
) -> str:
    """An ``--args`` example for the parameters still missing, each a value of a
    plausible type: ``"rnn_type='LSTM', ntoken=100, activation='relu'"``."""
    return ", ".join(f"{p.name}={_placeholder(p, strings or {})}" for p in missing)


#: The last word of a parameter's name that says it takes a string, and an example.
_TEXT_WORDS = {
    **dict.fromkeys(("activation", "nonlinearity", "act"), "relu"),
    **dict.fromkeys(("type", "mode", "name", "kind", "method", "norm", "pooling"), "..."),
}


def _placeholder(param: inspect.Parameter, strings: dict[str, tuple[str, ...]]) -> str:
    hint = param.annotation
    name = str(hint if isinstance(hint, str) else getattr(hint, "__name__", ""))
    name = "" if hint is inspect.Parameter.empty else name
    choices = string_choices(param, strings)
    if choices:
        return repr(choices[0])
    text = _TEXT_WORDS.get(param.name.lower().rpartition("_")[2])
    if name == "str" or (text is not None and not name):
        return repr(text or "...")
    size = size_for(param)
    if size is not None:
        return repr(size)
    return {"float": "0.1", "bool": "True"}.get(name, "16")


def describe_parameters(cls: type) -> str:
    """``in_features: int, out_features: int, hidden: int = 16``."""
    parts = []
    for param in constructor_parameters(cls):
        hint = param.annotation
        text = param.name
        if hint is not inspect.Parameter.empty:
            text += f": {hint if isinstance(hint, str) else getattr(hint, '__name__', hint)}"
        if param.default is not inspect.Parameter.empty:
            text += f" = {param.default!r}"
        parts.append(text)
    return ", ".join(parts)
