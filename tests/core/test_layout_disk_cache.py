"""Graphviz's outputs on disk: a new process lays out what one laid out before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphviz_app.core.layout import disk_cache
from graphviz_app.core.layout.engine import GraphvizEngine, find_engine

DOT = 'digraph G { a -> b; b -> c; a -> c [label="x"]; }'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "layouts"
    monkeypatch.setenv(disk_cache.ENV, str(folder))
    return folder


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many Graphviz processes ran, per call of the process runner."""
    runs: list[int] = []
    real = GraphvizEngine._run_processes

    def counting(self, texts, *args):  # type: ignore[no-untyped-def]
        runs.append(len(texts))
        return real(self, texts, *args)

    monkeypatch.setattr(GraphvizEngine, "_run_processes", counting)
    return runs


def test_a_second_layout_of_the_same_text_runs_no_graphviz(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _counting(monkeypatch)
    engine = find_engine()
    first = engine.run(DOT, "json0")
    assert runs == [1] and len(list(cache.glob("*/*"))) == 1
    assert engine.run(DOT, "json0") == first and runs == [1]
    other = engine.run(DOT, "svg")  # another format is another output
    assert runs == [1, 1] and other != first


def test_run_many_lays_out_only_the_texts_it_has_not_seen(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _counting(monkeypatch)
    engine = find_engine()
    known = engine.run(DOT, "json0")
    new = DOT.replace("c;", "d;")
    outputs = engine.run_many([new, DOT], "json0")
    assert runs == [1, 1]  # the known text came from disk
    assert outputs[1] == known and outputs[0] == engine.run(new, "json0")


def test_a_new_process_finds_the_layout(cache: Path) -> None:
    script = (
        "from graphviz_app.core.layout.engine import GraphvizEngine, find_engine\n"
        "runs = []\nreal = GraphvizEngine._run_processes\n"
        "GraphvizEngine._run_processes = lambda self, t, *a: runs.append(1) or real(self, t, *a)\n"
        f"find_engine().run({DOT!r}, 'json0')\nprint(len(runs))\n"
    )
    env = {**os.environ, disk_cache.ENV: str(cache)}
    counts = [
        subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert counts == ["1", "0"]


def test_off_unwritable_and_broken_folders_only_cost_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = find_engine()
    expected = engine.run(DOT, "json0")  # the suite runs with the cache off
    assert disk_cache.cache_dir() is None
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setenv(disk_cache.ENV, str(blocker / "layouts"))
    assert engine.run(DOT, "json0") == expected  # nothing written, no error
    folder = tmp_path / "layouts"
    monkeypatch.setenv(disk_cache.ENV, str(folder))
    key = disk_cache.cache_key(engine.version, "json0", (), DOT)
    (folder / key[:2]).mkdir(parents=True)
    (folder / key[:2] / key).write_bytes(b"")  # an empty file is not an output
    assert engine.run(DOT, "json0") == expected


def test_the_oldest_files_are_pruned(tmp_path: Path) -> None:
    folder = tmp_path / "layouts"
    for index in range(5):
        path = folder / f"{index:02d}" / f"{index:02d}key"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        os.utime(path, (1_000 + index, 1_000 + index))
    assert disk_cache.prune(folder, keep=2) == 3
    assert sorted(p.name for p in folder.glob("*/*")) == ["03key", "04key"]


def test_the_key_holds_engine_format_arguments_and_text() -> None:
    base = disk_cache.cache_key("dot 2.43", "json0", (), DOT)
    assert base != disk_cache.cache_key("dot 9.0", "json0", (), DOT)
    assert base != disk_cache.cache_key("dot 2.43", "svg", (), DOT)
    assert base != disk_cache.cache_key("dot 2.43", "json0", ("-Gdpi=96",), DOT)
    assert base != disk_cache.cache_key("dot 2.43", "json0", (), DOT + " ")
