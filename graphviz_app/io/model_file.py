"""Load a model from a Python file that follows the app's conventions.

A model file defines ``build_model()`` (returns an ``nn.Module``) and
``example_inputs()`` (a tensor or a tuple of tensors); optionally
``loss_fn(output, *inputs)``, ``example_target()`` and ``make_batch(step)``.
The file is imported under a private module name, never as ``__main__``, so code
under ``if __name__ == "__main__":`` does not run. Importing still runs the file's
top-level code: the UI asks before it does so for a file the user has not trusted.
A definitions-only import (:func:`import_model_module` with ``definitions_only``)
runs only imports, call-free assignments, and function and class definitions.
"""

from __future__ import annotations
import __future__ as future  # feature flags: a file compiled one statement at a time

import ast
import contextlib
import hashlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.abc import Loader
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from graphviz_app.core.autograd.forward import as_input_tuple
from graphviz_app.core.runtime.user_code import ABORTS, describe_abort
from graphviz_app.io.load_errors import ModelFileError, ModelTooLargeError, first_line, where_in
from graphviz_app.io.python_source import (
    Statement,
    is_definition,
    parse_source,
    source_text,
    statement,
)
from graphviz_app.io.request import LoadRequest

__all__ = ["LoadedModel", "ModelFileError", "import_model_module", "load_model_file"]

_RESUMED = "The rest of its top level ran without loops, what failed skipped."
_MEMORY_WORDS = ("can't allocate memory", "not enough memory", "out of memory")


@dataclass
class LoadedModel:
    """A model ready to run. Holds live torch objects: keep it in the worker."""

    name: str
    path: Path
    model: torch.nn.Module
    inputs: tuple[torch.Tensor, ...]
    loss_fn: Callable[..., torch.Tensor] | None
    make_batch: Callable[[int], Any] | None
    doc: str
    format: str = "python"
    notes: tuple[str, ...] = field(default=())  # what the user should know: skipped code...
    structure_only: bool = False  # on the meta device: the graph, no values
    example_target: torch.Tensor | None = None  # what a chosen standard loss compares with
    guesses: tuple[str, ...] = ()  # what was guessed: "class Net (...)", "input 1x3x32x32..."
    resolved: LoadRequest | None = None  # the choices made, guesses included (to edit them)
    parameter_count: int | None = None  # when not the model's parameters (a script's)


@dataclass(frozen=True)
class MissingImport:
    """An import a definitions-only load could not run (the names stay undefined)."""

    statement: Statement
    error: str
    names: tuple[str, ...]

    def describe(self) -> str:
        """``line 3: import torchvision (No module named 'torchvision')``."""
        return f"{self.statement.describe()} ({self.error})"


@dataclass(frozen=True)
class RanAlready:
    """A script's own run that failed at top-level ``line`` (raising ``error``), and
    the variables it left: a lenient import after it starts from those variables and
    runs again, of the statements before that line, only the definitions (imports,
    classes, functions), so that none of the file's top-level code runs twice."""

    namespace: dict[str, Any]
    line: int
    error: str


@dataclass
class ImportedFile:
    """A user's file run as a module, and what a definitions-only run left out."""

    module: ModuleType
    skipped: tuple[Statement, ...] = ()
    missing: tuple[MissingImport, ...] = ()
    failed: tuple[tuple[Statement, str], ...] = ()  # lenient: statements that raised
    how: str = "definitions only"  # what the skipped statements were skipped by
    retried: str = ""  # why the rest of the file ran leniently: a statement failed so

    def notes(self) -> tuple[str, ...]:
        """Human lines about skipped statements and failed imports."""
        lines = [f"{self.retried} {_RESUMED}"] if self.retried else []
        lines += [f"Skipped ({self.how}) {s.describe()}" for s in self.skipped]
        lines += [f"Import failed, ignored: {m.describe()}" for m in self.missing]
        lines += [f"Failed, skipped: {s.describe()} ({error})" for s, error in self.failed]
        return tuple(lines)

    def failures(self) -> tuple[str, ...]:
        """The notes of what failed (imports, statements), each a sentence."""
        lines = [f"Import failed, ignored: {m.describe()}." for m in self.missing]
        lines += [f"Failed, skipped: {s.describe()} ({error})." for s, error in self.failed]
        return tuple(lines)


def load_model_file(path: str | Path) -> LoadedModel:
    """Import ``path`` and build its model and example inputs (see module docstring)."""
    path = Path(path).resolve()
    module = import_model_module(path)
    build = required(module, path, "build_model")
    example = required(module, path, "example_inputs")
    model = check_module(path, "build_model()", run_user(path, "build_model()", build))
    try:
        inputs = as_input_tuple(run_user(path, "example_inputs()", example))
    except TypeError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from exc
    return LoadedModel(
        name=path.stem,
        path=path,
        model=model,
        inputs=inputs,
        loss_fn=getattr(module, "loss_fn", None),
        make_batch=getattr(module, "make_batch", None),
        doc=(module.__doc__ or "").strip(),
    )


def import_model_module(path: Path) -> ModuleType:
    """Import a file under a private, content-unique name (not ``__main__``)."""
    return import_file(path).module


def import_file(
    path: Path,
    definitions_only: bool = False,
    lenient: bool = False,
    resume: bool = False,
    ran: RanAlready | None = None,
) -> ImportedFile:
    """Run ``path`` as a module under a private, content-unique name (not ``__main__``);
    with ``definitions_only``, run only its definitions (see :func:`is_definition`);
    ``lenient``: run its top level but its loops, skipping what fails (see
    :func:`_run_leniently`, after what ``ran`` already); ``resume``: run it whole, and
    once a statement fails, the rest leniently (each statement runs once)."""
    if not path.is_file():
        raise ModelFileError(f"No such model file: {path}")
    tree = parse_source(path)  # empty, binary and syntax errors, with file:line
    mode = "_defs" if definitions_only else "_lenient" if lenient else ""
    module, loader = _new_module(path, mode)
    name = module.__name__
    try:
        if definitions_only:
            return _run_definitions(path, tree, module)
        if lenient or resume:
            return _run_leniently(path, tree, module, resume, ran)
        loader.exec_module(module)
    except ModelFileError:
        sys.modules.pop(name, None)
        raise
    except ABORTS as exc:  # sys.exit(), exit(), os._exit(), KeyboardInterrupt at import
        sys.modules.pop(name, None)
        raise ModelFileError(
            f"Importing {path.name} {describe_abort(exc)}: the file tried to end the program.",
            traceback.format_exc(),
        ) from exc
    except Exception as exc:  # a user's file may raise anything while importing
        sys.modules.pop(name, None)
        raise ModelFileError(
            f"Importing {path.name} raised {type(exc).__name__}: {exc}{where_in(path, exc)}",
            traceback.format_exc(),
        ) from exc
    return ImportedFile(module)


def _new_module(path: Path, mode: str) -> tuple[ModuleType, Loader]:
    """An empty module for ``path`` under a private, content-unique name, registered in
    ``sys.modules`` (dataclasses and pickling look modules up by name)."""
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:12]
    name = f"graphviz_app_user_model_{digest}{mode}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelFileError(f"{path.name} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    return module, spec.loader


def _run_definitions(path: Path, tree: ast.Module, module: ModuleType) -> ImportedFile:
    text = source_text(path.read_bytes())
    skipped, missing = [], []
    for node in tree.body:
        if not is_definition(node):
            skipped.append(statement(node, text))
            continue
        code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec")
        try:
            exec(code, module.__dict__)  # the user agreed to run this file
        except ImportError as exc:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                raise
            missing.append(MissingImport(statement(node, text), str(exc), _bound_names(node)))
    return ImportedFile(module, tuple(skipped), tuple(missing))


def _run_leniently(
    path: Path,
    tree: ast.Module,
    module: ModuleType,
    resume: bool = False,
    ran: RanAlready | None = None,
) -> ImportedFile:
    """Every top-level statement but loops (a script's training), each on its own: one
    that raises (a dataset that is not there, a package that is missing, a name one of
    those would have defined) is skipped and said. It runs as ``python FILE`` would see
    it: ``sys.argv == [FILE]`` (argparse gets its defaults), in the file's folder.
    ``resume``: loops run too, until a statement fails (a class file imported once:
    what ran before the failure does not run again). ``ran``: see :class:`RanAlready`."""
    text, flags = source_text(path.read_bytes()), _future_flags(tree)
    done = _Lenient(text, resume)
    if ran is not None:
        module.__dict__.update(_values(ran.namespace))
    with _as_if_run(path):
        for node in tree.body:
            if ran is not None and node.lineno <= ran.line:
                failed_here = (node.end_lineno or node.lineno) >= ran.line
                if failed_here:
                    done.failed(node, None, ran.error)
                if failed_here or not is_definition(node):
                    continue  # it ran in the script already
            elif not done.resume and isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                done.skipped.append(statement(node, text))
                continue
            code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec", flags, True)
            try:
                exec(code, module.__dict__)  # the user agreed to run this file
            except (Exception, SystemExit, KeyboardInterrupt) as exc:  # said in the notes
                if done.resume:
                    done.retried, done.resume = _import_failure(path, exc), False
                done.failed(node, exc)
    return done.imported(module)


class _Lenient:
    """What a lenient run skipped and what failed in it, as it goes."""

    def __init__(self, text: str, resume: bool) -> None:
        self.text, self.resume, self.retried = text, resume, ""
        self.skipped: list[Statement] = []
        self.missing: list[MissingImport] = []
        self.failures: list[tuple[Statement, str]] = []

    def failed(self, node: ast.stmt, exc: BaseException | None, error: str = "") -> None:
        """``node`` raised ``exc`` (or, in the script's own run, ``error``: ``"Type: ..."``)."""
        said = statement(node, self.text)
        if exc is not None:
            error = f"{type(exc).__name__}: {first_line(exc)}"
        if isinstance(node, (ast.Import, ast.ImportFrom)) and (
            exc is None or isinstance(exc, ImportError)
        ):
            reason = error.partition(": ")[2] or error  # "No module named 'x'"
            self.missing.append(MissingImport(said, reason, _bound_names(node)))
        else:
            self.failures.append((said, error))

    def imported(self, module: ModuleType) -> ImportedFile:
        return ImportedFile(
            module,
            tuple(self.skipped),
            tuple(self.missing),
            tuple(self.failures),
            "a loop",
            self.retried,
        )


def _values(namespace: dict[str, Any]) -> dict[str, Any]:
    """A script's variables, without its modules, classes and functions (defined again
    in the module that takes them) and Python's own names."""
    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("__")
        and not (inspect.ismodule(value) or inspect.isclass(value) or inspect.isfunction(value))
    }


def _future_flags(tree: ast.Module) -> int:
    """The compiler flags of the file's ``from __future__ import ...`` (its statements
    are compiled one by one, and each must keep them: ``annotations``)."""
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(future, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def _import_failure(path: Path, exc: BaseException) -> str:
    """What importing ``path`` did instead of finishing, in words."""
    if isinstance(exc, ABORTS):
        return f"Importing {path.name} {describe_abort(exc)}: the file tried to end the program."
    raised = f"{type(exc).__name__}: {first_line(exc)}{where_in(path, exc)}"
    return f"Importing {path.name} raised {raised}"


@contextlib.contextmanager
def _as_if_run(path: Path) -> Iterator[None]:
    """``sys.argv == [FILE]``, the file's folder as working directory and on sys.path."""
    saved = os.getcwd(), list(sys.argv)
    sys.argv = [str(path)]
    sys.path.insert(0, str(path.parent))
    try:
        os.chdir(path.parent)
        yield
    finally:
        sys.argv = saved[1]
        with contextlib.suppress(ValueError):
            sys.path.remove(str(path.parent))
        with contextlib.suppress(OSError):
            os.chdir(saved[0])


def _bound_names(node: ast.Import | ast.ImportFrom) -> tuple[str, ...]:
    return tuple((a.asname or a.name).split(".")[0] for a in node.names)


def required(module: ModuleType, path: Path, name: str) -> Callable[[], Any]:
    """The module's function ``name``; a clear error when it is missing."""
    found = getattr(module, name, None)
    if not callable(found):
        raise ModelFileError(
            f"{path.name} does not define {name}(). A model file defines build_model() "
            "returning an nn.Module and example_inputs() returning its input tensor(s)."
        )
    return found  # type: ignore[no-any-return]


def check_module(path: Path, what: str, model: object) -> torch.nn.Module:
    """``model`` when it is an ``nn.Module``, else a clear error."""
    if not isinstance(model, torch.nn.Module):
        raise ModelFileError(
            f"{path.name}: {what} returned {type(model).__name__}, not a torch.nn.Module."
        )
    return model


def run_user(path: Path, what: str, fn: Callable[[], Any]) -> Any:
    """Call the user's ``fn``; what it raises becomes a :class:`ModelFileError` that
    names the user's line (or :class:`ModelTooLargeError` when memory ran out)."""
    try:
        return fn()
    except MemoryError as exc:
        raise _too_large(path, what, exc) from exc
    except ABORTS as exc:  # sys.exit(), exit(), os._exit(), KeyboardInterrupt
        raise ModelFileError(
            f"{path.name}: {what} {describe_abort(exc)}.", traceback.format_exc()
        ) from exc
    except Exception as exc:  # the user's code may raise anything: report, don't crash
        if isinstance(exc, RuntimeError) and any(w in str(exc) for w in _MEMORY_WORDS):
            raise _too_large(path, what, exc) from exc
        problem = f"{type(exc).__name__}: {first_line(exc)}{where_in(path, exc)}"
        details = traceback.format_exc()
        raise ModelFileError(f"{path.name}: {what} raised {problem}", details) from exc


def _too_large(path: Path, what: str, exc: BaseException) -> ModelTooLargeError:
    return ModelTooLargeError(
        f"{path.name}: {what} needs more memory than this machine has "
        f"({first_line(exc)}). Open it structure-only instead: the model is built "
        "on the meta device, so the graph is drawn without values (--structure-only on the "
        "command line).",
        traceback.format_exc(),
    )
