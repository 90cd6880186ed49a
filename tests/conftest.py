"""Test-wide settings.

Qt runs offscreen (set before any Qt application exists). With
``GRAPHVIZ_APP_FORBID_QT=1`` (CI runs ``tests/core`` that way) the run fails if
anything imported PySide6: the core must work without Qt.
"""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("GRAPHVIZ_APP_FORBID_QT") != "1":
        return
    qt_modules = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    if qt_modules:
        print(f"\nQt was imported by code under test: {qt_modules[:5]}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/core/golden instead of comparing",
    )
