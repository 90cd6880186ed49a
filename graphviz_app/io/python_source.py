"""What a Python model file holds, read with ``ast`` without running any of it.

Used before a file is executed (to build the class picker and its constructor form,
and to see whether the script does work at top level) and by the definitions-only
load, which executes only the statements :func:`is_definition` accepts.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.source_facts import (
    FileKind,
    backward_lines,
    choose_model_class,
    file_kind,
)

#: Base classes (their last dotted name) that make a class an ``nn.Module``.
MODULE_BASES = frozenset(
    {"Module", "Sequential", "ModuleList", "ModuleDict", "Transformer", "RNNBase"}
)
_NO_CALLS = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)


@dataclass(frozen=True)
class InitParam:
    """One constructor parameter: name, type hint and default as source text."""

    name: str
    annotation: str = ""  # "" when the parameter has no hint
    default: str | None = None  # source text; None when the parameter is required
    keyword_only: bool = False


@dataclass(frozen=True)
class ModuleClass:
    """An ``nn.Module`` subclass the file defines."""

    name: str
    line: int
    params: tuple[InitParam, ...]
    doc: str = ""


@dataclass(frozen=True)
class Statement:
    """A top-level statement: where it is and its first line of text."""

    line: int
    end_line: int
    text: str

    def describe(self) -> str:
        """``line 12: train(model)`` (``lines 12-20`` for a block)."""
        where = (
            f"line {self.line}"
            if self.end_line == self.line
            else f"lines {self.line}-{self.end_line}"
        )
        return f"{where}: {self.text}"


@dataclass(frozen=True)
class SourceSummary:
    """The file's conventions, classes and the statements a definitions-only load skips,
    how it opens (``kind``, a :class:`~graphviz_app.io.source_facts.FileKind` value)
    and, without ``build_model()``, the class that is its model and why."""

    path: str
    has_build_model: bool
    has_example_inputs: bool
    classes: tuple[ModuleClass, ...]
    skipped: tuple[Statement, ...]
    doc: str = ""
    kind: str = FileKind.CLASSES.value
    backward_lines: tuple[int, ...] = ()
    model_class: str = ""
    model_reason: str = ""

    @property
    def is_script(self) -> bool:
        """True for a file that runs as ``python FILE`` and is paused at its backward
        calls."""
        return self.kind == FileKind.SCRIPT.value

    @property
    def follows_conventions(self) -> bool:
        """True when the file defines ``build_model()``."""
        return self.has_build_model

    @property
    def top_level_work(self) -> tuple[Statement, ...]:
        """Skipped statements that do work when the file runs (training loops, prints),
        leaving out the ``if __name__ == "__main__":`` block, which never runs here."""
        return tuple(s for s in self.skipped if not s.text.startswith("if __name__"))


def read_source(path: Path) -> bytes:
    """The file's bytes; an empty or binary file, or text that is not in its encoding
    (UTF-8 unless a coding cookie says otherwise), is a :class:`ModelFileError`."""
    data = path.read_bytes()
    if not data.strip():
        raise ModelFileError(
            f"{path.name} is empty: a model file defines build_model() or an nn.Module class."
        )
    if b"\x00" in data[:4096]:
        raise ModelFileError(f"{path.name} is not a Python file: it holds binary data (NUL bytes).")
    try:
        source_text(data)
    except (UnicodeDecodeError, SyntaxError) as exc:
        where = f"byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else "its coding line"
        raise ModelFileError(
            f"{path.name} is not a Python file: {where} does not decode as text ({exc})."
        ) from exc
    return data


def source_text(data: bytes) -> str:
    """The text Python itself reads from ``data``: a UTF-8 byte-order mark dropped, a
    coding cookie honoured, CRLF and CR-only line ends made newlines."""
    return importlib.util.decode_source(data)


def parse_source(path: Path) -> ast.Module:
    """The file's syntax tree, parsed from its bytes as Python does; a syntax error
    names ``file:line``."""
    data = read_source(path)
    try:
        return ast.parse(data, filename=str(path))
    except SyntaxError as exc:
        line = (exc.text or "").rstrip()
        raise ModelFileError(
            f"{path.name}:{exc.lineno}: syntax error at line {exc.lineno}, column "
            f"{exc.offset or 0}: {exc.msg}",
            f"{path}:{exc.lineno}\n    {line}\n    {' ' * max((exc.offset or 1) - 1, 0)}^",
        ) from exc


def summarize_source(path: Path) -> SourceSummary:
    """Read ``path`` (without running it): conventions, Module classes, skipped
    statements, how it opens and which class is its model."""
    tree = parse_source(path)
    functions = {
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    text = source_text(path.read_bytes())
    skipped = tuple(statement(node, text) for node in tree.body if not is_definition(node))
    classes = module_classes(tree)
    has_build_model = "build_model" in functions
    chosen = choose_model_class(tree, [c.name for c in classes])
    return SourceSummary(
        path=str(path),
        has_build_model=has_build_model,
        has_example_inputs="example_inputs" in functions,
        classes=classes,
        skipped=skipped,
        doc=(ast.get_docstring(tree) or "").strip(),
        kind=file_kind(has_build_model, bool(skipped), len(classes), tree).value,
        backward_lines=backward_lines(tree),
        model_class=chosen[0] if chosen else "",
        model_reason=chosen[1] if chosen else "",
    )


def module_classes(tree: ast.Module) -> tuple[ModuleClass, ...]:
    """Classes whose bases make them ``nn.Module`` subclasses (directly or through
    another class of the file), with their constructor parameters."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    found: dict[str, ast.ClassDef] = {}
    changed = True
    while changed:  # a class may derive from a module class defined later in the file
        changed = False
        for name, node in classes.items():
            if name not in found and any(_is_module_base(b, found) for b in node.bases):
                found[name] = node
                changed = True
    ordered = sorted(found.values(), key=lambda n: n.lineno)
    return tuple(
        ModuleClass(n.name, n.lineno, _init_params(n, classes), _class_doc(n)) for n in ordered
    )


def _class_doc(node: ast.ClassDef) -> str:
    """The class's docstring and its ``__init__``'s (where parameters are documented)."""
    init = next(
        (i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"), None
    )
    parts = [ast.get_docstring(node) or "", ast.get_docstring(init) or "" if init else ""]
    return "\n\n".join(p.strip() for p in parts if p.strip())


def _is_module_base(base: ast.expr, known: dict[str, ast.ClassDef]) -> bool:
    name = ast.unparse(base).split("[")[0].split(".")[-1]
    return name in MODULE_BASES or name in known


def _init_params(node: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> tuple[InitParam, ...]:
    """``__init__``'s parameters, from the class or the nearest base in the file."""
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            return _params(item.args)
    for base in node.bases:
        parent = classes.get(ast.unparse(base))
        if parent is not None and parent is not node:
            return _init_params(parent, classes)
    return ()


def _params(args: ast.arguments) -> tuple[InitParam, ...]:
    positional = [*args.posonlyargs, *args.args][1:]  # drop self
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    params = [_param(a, d, False) for a, d in zip(positional, defaults, strict=True)]
    params += [_param(a, d, True) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return tuple(params)


def _param(arg: ast.arg, default: ast.expr | None, keyword_only: bool) -> InitParam:
    hint = ast.unparse(arg.annotation) if arg.annotation is not None else ""
    text = ast.unparse(default) if default is not None else None
    return InitParam(arg.arg, hint, text, keyword_only)


def is_definition(node: ast.stmt) -> bool:
    """True for what a definitions-only load runs: imports, function and class
    definitions, the docstring, assignments of call-free expressions, and ``try``
    blocks made only of those (``try: import x / except ImportError: x = None``)."""
    if isinstance(
        node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    ):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return node.value is not None and _call_free(node.value)
    if isinstance(node, ast.Try):
        blocks = [*node.body, *node.orelse, *node.finalbody]
        blocks += [s for handler in node.handlers for s in handler.body]
        return all(is_definition(s) or isinstance(s, ast.Pass) for s in blocks)
    return False


def _call_free(value: ast.expr) -> bool:
    return not any(isinstance(n, _NO_CALLS) for n in ast.walk(value))


def statement(node: ast.stmt, text: str) -> Statement:
    """``node`` as a :class:`Statement` (its first source line, shortened)."""
    segment = (ast.get_source_segment(text, node) or "").strip().splitlines()
    first = segment[0] if segment else type(node).__name__
    return Statement(node.lineno, node.end_lineno or node.lineno, first[:80])
