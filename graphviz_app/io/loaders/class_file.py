"""Build the model of a file without ``build_model()``: a class, its arguments and an
input, each given (``--class``, ``--args``, ``--input``, ``example_inputs()``) or
guessed, and every guess said.

See :mod:`graphviz_app.io.loaders.guess` (class and arguments) and
:mod:`graphviz_app.io.loaders.input_guess` (the input).
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from graphviz_app.core.runtime.failures import plain_text
from graphviz_app.io.load_errors import ChoiceNeededError, ModelFileError
from graphviz_app.io.loaders.guess import (
    Arguments,
    Given,
    constructor_parameters,
    describe_parameters,
    evaluate_arguments,
    example_arguments,
    guess_arguments,
)
from graphviz_app.io.loaders.input_guess import Candidate, guess_input
from graphviz_app.io.python_source import SourceSummary, parse_source
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.source_facts import (
    class_calls,
    classes_built_by_classes,
    compared_strings,
    constants,
    passed_input_spec,
)

CallArgs = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass
class ClassChoice:
    """The class to build, how, and what was guessed (said to the user)."""

    cls: type[torch.nn.Module]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    init_text: str
    guesses: list[str] = field(default_factory=list)
    by_name: tuple[inspect.Parameter, ...] = ()  # sizes chosen by name: asked if they fail
    #: A string guessed from the class's comparisons -> its other values (tried when the
    #: first does not build a model that runs: ``'LSTM'`` needs a tuple of states).
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    given: str = ""  # the arguments the user gave (--args, the form's fields)

    def refused(self, path: Path, module: ModuleType, problem: str) -> ChoiceNeededError:
        """The values guessed (sizes by name, strings the class compares with) did not
        make a model that runs: ask for them, the guesses as the example."""
        strings: dict[str, tuple[str, ...]] = {n: (str(self.kwargs[n]),) for n in self.options}
        asked = [p for p in constructor_parameters(self.cls) if p.name in strings]
        text = _missing_text(path, self.cls, (*asked, *self.by_name), strings, self.given)
        return ChoiceNeededError(
            f"{text} {classes_text(module)} (The values guessed for them did not work: {problem})",
            _forms(self.cls),
        )

    def variants(self) -> list[ClassChoice]:
        """This choice with each other value of its guessed strings, for when this one
        did not build a model that runs (said in the variant's guesses)."""
        found = []
        for param, others in self.options.items():
            first = repr(self.kwargs[param])
            for other in others:
                kwargs = {**self.kwargs, param: other}
                old, new = f"{param}={first}", f"{param}={other!r}"
                guesses = [g.replace(old, new) for g in self.guesses]
                guesses.append(f"{old} was tried first and did not build a model that runs")
                text = self.init_text.replace(old, new)
                variant = ClassChoice(self.cls, self.args, kwargs, text, guesses, self.by_name)
                variant.given = self.given
                found.append(variant)
        return found

    @property
    def name(self) -> str:
        """The class's name."""
        return self.cls.__name__

    def values(self) -> dict[str, Any]:
        """The constructor's arguments by name, defaults included (for input guesses)."""
        try:
            bound = inspect.signature(self.cls).bind_partial(*self.args, **self.kwargs)
        except (TypeError, ValueError):
            return dict(self.kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)


def module_class_names(module: ModuleType) -> list[str]:
    """The ``nn.Module`` subclasses defined in ``module`` itself (not imported ones)."""
    return [
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, torch.nn.Module)
        and value.__module__ == module.__name__
    ]


def classes_text(module: ModuleType) -> str:
    """``Its nn.Module classes: A, B (--class NAME on the command line).``"""
    names = module_class_names(module)
    if not names:
        return "It defines no nn.Module subclass either."
    return f"Its nn.Module classes: {', '.join(names)} (--class NAME on the command line)."


def choose_class(
    module: ModuleType,
    path: Path,
    request: LoadRequest,
    summary: SourceSummary,
    parse_literals: Any,
) -> ClassChoice:
    """The class ``request`` names, or the file's model; its arguments as given, else
    guessed. Raises :class:`ChoiceNeededError` naming what is missing."""
    name = request.class_name or summary.model_class
    cls = vars(module).get(name) if name else None
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        what = f"no nn.Module class {name!r}" if name else "no build_model()"
        raise ChoiceNeededError(f"{path.name} defines {what}. {classes_text(module)}")
    tree = parse_source(path)
    guesses = [] if request.class_name else [f"class {name} ({_why(tree, summary, name)})"]
    given = _given(request.init_args, module, parse_literals)
    strings = compared_strings(tree, name)
    found = guess_arguments(module, cls, class_calls(tree, {name}), constants(tree), strings, given)
    if found.missing:
        said = _missing_text(path, cls, found.missing, strings, given.text if given else "")
        text = f"{said} {classes_text(module)}"
        raise ChoiceNeededError(text, _forms(cls))
    if found.sources:
        guesses.append(f"{name}({found.text}){_reasons(found)}")
    choice = ClassChoice(cls, found.args, found.kwargs, found.text, guesses, found.by_name)
    choice.options, choice.given = found.options, given.text.strip() if given else ""
    return choice


def _reasons(found: Arguments) -> str:
    """`` (ntoken, nhid chosen by their names: the file gives none; rnn_type='LSTM' (its
    code compares it with 'LSTM', 'GRU'))``: the guesses that are not the file's own."""
    named = ", ".join(p.name for p in found.by_name)
    said = [f"{named} chosen by their names: the file gives none"] if named else []
    said += [s for s in found.sources if s.split("=")[0] in found.options]
    return f" ({'; '.join(said)})" if said else ""


def _why(tree: ast.Module, summary: SourceSummary, name: str) -> str:
    """Why ``name`` was chosen, and the other classes that could have been (not the
    layers the model builds)."""
    names = [c.name for c in summary.classes]
    built = classes_built_by_classes(tree, set(names))
    others = ", ".join(n for n in names if n != name and n not in built)
    return f"{summary.model_reason}; the others: {others}" if others else summary.model_reason


def _given(text: str, module: ModuleType, parse_literals: Any) -> Given | None:
    """The arguments ``--args`` (or the form's filled fields) gives, or None."""
    if not text.strip():
        return None
    args, kwargs = _given_arguments(text, module, parse_literals)
    return Given(args, kwargs, text)


def _given_arguments(text: str, module: ModuleType, parse_literals: Any) -> CallArgs:
    try:
        parsed: CallArgs = parse_literals(text)
        return parsed
    except ModelFileError:
        pass  # not literals: the file's own names and classes may still make them
    try:
        return evaluate_arguments(text, module)
    except ValueError as exc:
        raise ModelFileError(f"Cannot read the constructor arguments {text!r}: {exc}.") from exc


def _missing_text(
    path: Path,
    cls: type,
    missing: tuple[inspect.Parameter, ...],
    strings: dict[str, tuple[str, ...]] | None = None,
    given: str = "",
) -> str:
    names = ", ".join(p.name for p in missing)
    one = len(missing) == 1
    besides = f" besides the {given.strip()} given" if given.strip() else ""
    example = ", ".join(p for p in (given.strip(), example_arguments(missing, strings)) if p)
    return (
        f"{path.name}: {cls.__name__}({describe_parameters(cls)}) needs {names}{besides}, "
        f"and nothing in the file gives {'it' if one else 'them'}: give "
        f"{'it' if one else 'them'} with --class {cls.__name__} --args "
        f'"{example}" (the window asks for each).'
    )


def _forms(cls: type) -> str:
    doc = inspect.getdoc(cls.__init__) or inspect.getdoc(cls) or ""  # type: ignore[misc]
    return f"{cls.__name__}({describe_parameters(cls)})\n\n{doc}".strip()


def guessed_inputs(
    model: torch.nn.Module, path: Path, class_name: str, values: dict[str, Any], device: str
) -> tuple[tuple[torch.Tensor, ...], str, str]:
    """An input a forward of ``model`` accepts (see :mod:`.input_guess`): the tensors,
    their spec and where the guess comes from. :class:`ChoiceNeededError` when none runs."""
    passed = passed_input_spec(parse_source(path), class_name) if class_name else None
    candidate = Candidate(passed[0], f"the tensor line {passed[1]} passes it") if passed else None
    guess = guess_input(model, candidate, values, device)
    if guess.inputs is None:
        tried = ", ".join(guess.tried[:6]) + (", ..." if len(guess.tried) > 6 else "")
        last = _raised(guess.problems)
        raise ChoiceNeededError(
            f"{path.name} defines no example_inputs(), and no input shape ran a forward "
            f"({tried or 'no layer says what the model takes'}): give an input spec such "
            f"as '1x3x32x32:float32' (or '4x16:int64[0,1000)' for token ids) with --input."
            f"{last}"
        )
    return guess.inputs, guess.spec, guess.origin


def _raised(problems: tuple[tuple[str, str], ...], shown: int = 3) -> str:
    """`` What the forwards raised: 1x1:float32: RuntimeError: mat1 and mat2 must have
    the same dtype ...``: each different error once (its first line, whole), the spec
    that met it first."""
    first: dict[str, str] = {}
    for spec, problem in problems:
        line = plain_text(problem).strip().splitlines()[0] if problem.strip() else problem
        first.setdefault(line.rstrip(".") + ".", spec)
    listed = [f"{spec}: {line}" for line, spec in list(first.items())[:shown]]
    more = len(first) - len(listed)
    if not listed:
        return ""
    tail = f" (and {more} other error{'s' if more > 1 else ''})" if more else ""
    return f" What the forwards raised: {' '.join(listed)}{tail}"
