"""The house keeps its shape: no import cycle, small rooms, small folders.

grimp (installed with import-linter) reads the imports statically, without importing
anything, so this runs without Qt or torch. import-linter's contracts (pyproject.toml)
check the layers; this checks what contracts cannot: that no cycle exists anywhere,
even inside one folder.
"""

from __future__ import annotations

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
