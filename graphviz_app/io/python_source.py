"""What a Python model file holds, read with ``ast`` without running any of it.

Used before a file is executed (to build the class picker and its constructor form,
and to see whether the script does work at top level) and by the definitions-only
load, which executes only the statements :func:`is_definition` accepts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from graphviz_app.io.load_errors import ModelFileError

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
    """The file's conventions, classes and the statements a definitions-only load skips."""

    path: str
    has_build_model: bool
    has_example_inputs: bool
    classes: tuple[ModuleClass, ...]
    skipped: tuple[Statement, ...]
    doc: str = ""

    @property
    def follows_conventions(self) -> bool:
        """True when the file defines ``build_model()``."""
        return self.has_build_model

    @property
    def top_level_work(self) -> tuple[Statement, ...]:
        """Skipped statements that do work when the file runs (training loops, prints),
        leaving out the ``if __name__ == "__main__":`` block, which never runs here."""
        return tuple(s for s in self.skipped if not s.text.startswith("if __name__"))


def read_source(path: Path) -> str:
    """The file's text; an empty or binary file is a :class:`ModelFileError`."""
    data = path.read_bytes()
    if not data.strip():
        raise ModelFileError(
            f"{path.name} is empty: a model file defines build_model() or an nn.Module class."
        )
    if b"\x00" in data[:4096]:
        raise ModelFileError(f"{path.name} is not a Python file: it holds binary data (NUL bytes).")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(
            f"{path.name} is not a Python file: byte {exc.start} is not UTF-8 text."
        ) from exc


def parse_source(path: Path) -> ast.Module:
    """The file's syntax tree; a syntax error names ``file:line``."""
    text = read_source(path)
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        line = (exc.text or "").rstrip()
        raise ModelFileError(
            f"{path.name}:{exc.lineno}: syntax error at line {exc.lineno}, column "
            f"{exc.offset or 0}: {exc.msg}",
            f"{path}:{exc.lineno}\n    {line}\n    {' ' * max((exc.offset or 1) - 1, 0)}^",
        ) from exc


def summarize_source(path: Path) -> SourceSummary:
    """Read ``path`` (without running it): conventions, Module classes, skipped statements."""
    tree = parse_source(path)
    functions = {
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    text = path.read_text(encoding="utf-8")
    skipped = tuple(statement(node, text) for node in tree.body if not is_definition(node))
    return SourceSummary(
        path=str(path),
        has_build_model="build_model" in functions,
        has_example_inputs="example_inputs" in functions,
        classes=module_classes(tree),
        skipped=skipped,
        doc=(ast.get_docstring(tree) or "").strip(),
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
        ModuleClass(
            n.name, n.lineno, _init_params(n, classes), (ast.get_docstring(n) or "").strip()
        )
        for n in ordered
    )


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
