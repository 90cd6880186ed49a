"""Exports are written atomically, with the permissions a plain open() would give."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from graphviz_app.io.export import ExportError, write_atomic


def test_a_new_file_gets_the_umask_permissions_not_a_private_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "g.svg"
    write_atomic(target, b"<svg/>")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert target.read_bytes() == b"<svg/>"


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "g.svg"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_bytes() == b"new"


def test_a_missing_folder_is_a_message_and_nothing_is_left_behind(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        write_atomic(tmp_path / "no" / "g.svg", b"x")
    assert list(tmp_path.iterdir()) == []
