"""The house keeps its shape: no import cycle, small rooms, small folders, short functions.

grimp (installed with import-linter) reads the imports statically, without importing
anything, so this runs without Qt or torch. import-linter's contracts (pyproject.toml)
check the layers; this checks what contracts cannot: that no cycle exists anywhere,
even inside one folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "graphviz_app"
MAX_MODULES_PER_FOLDER = 12
MAX_LINES = 400


def _import_graph() -> nx.DiGraph:
    imports = grimp.build_graph("graphviz_app", include_external_packages=False)
    graph = nx.DiGraph()
    for module in imports.modules:
        graph.add_node(module)
        for imported in imports.find_modules_directly_imported_by(module):
            graph.add_edge(module, imported)
    return graph


def test_no_import_cycle_in_the_package() -> None:
    cycles = list(nx.simple_cycles(_import_graph()))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_a_cycle_would_be_found() -> None:
    graph = _import_graph()
    graph.add_edge("graphviz_app.core.graph.records", "graphviz_app.ui.window.main_window")
    assert list(nx.simple_cycles(graph))


def test_no_folder_holds_more_than_a_dozen_modules() -> None:
    crowded = {
        str(folder.relative_to(PACKAGE.parent)): count
        for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir())]
        if (count := len([f for f in folder.glob("*.py") if f.name != "__init__.py"]))
        > MAX_MODULES_PER_FOLDER
    }
    assert not crowded, crowded


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


MAX_FUNCTION_LINES = 40  # a function's code, from its first statement after the docstring


def _code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = function.body
    first = body[0]
    has_docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    if has_docstring and isinstance(first.value.value, str) and len(body) > 1:
        first = body[1]
    return (function.end_lineno or first.lineno) - first.lineno + 1


def long_functions(source: str) -> dict[str, int]:
    """Each function of ``source`` whose code runs over :data:`MAX_FUNCTION_LINES`."""
    return {
        node.name: lines
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (lines := _code_lines(node)) > MAX_FUNCTION_LINES
    }


def test_no_function_runs_over_40_lines() -> None:
    roots = [PACKAGE, *(PACKAGE.parent / name for name in ("bench", "tools", "tests"))]
    long = {
        f"{path.relative_to(PACKAGE.parent)}:{name}": lines
        for root in roots
        for path in root.rglob("*.py")
        if "data" not in path.relative_to(PACKAGE.parent).parts
        for name, lines in long_functions(path.read_text(encoding="utf-8")).items()
    }
    assert not long, long


def test_a_long_function_would_be_found() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    source = f'def f() -> None:\n    """Doc."""\n{body}\n\n\ndef g() -> None:\n    pass\n'
    assert long_functions(source) == {"f": MAX_FUNCTION_LINES + 1}
