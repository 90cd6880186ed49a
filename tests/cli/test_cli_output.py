"""What the command line writes, and where: ``-o -`` puts the file on stdout and the
model's own prints on stderr; its notes are its own one-line messages (never the
log's format); it says what of a file it runs; and what it guesses it applies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli

from graphviz_app.cli.export import check_stdout
from graphviz_app.io.export import ExportError

DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPTS, CLASSES, HOSTILE = DATA / "scripts", DATA / "classes", DATA / "hostile"


def test_dash_writes_the_svg_to_stdout_and_no_file_named_dash(tmp_path: Path) -> None:
    done = run_cli("export", str(CLASSES / "conv_net.py"), "-o", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<?xml") and done.stdout.rstrip().endswith("</svg>")
    assert not (tmp_path / "-").exists()
    assert "wrote the graph to stdout (svg, " in done.stderr


def test_what_a_script_prints_goes_to_stderr_while_the_file_goes_to_stdout(
    tmp_path: Path,
) -> None:
    args = ("export", str(SCRIPTS / "sequential_loop.py"), "-o", "-", "--format", "json")
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = {n.get("leaf_name") or n["name"] for n in json.loads(done.stdout)["nodes"]}
    assert "MseLossBackward0" in names  # stdout is the JSON alone: it parses
    assert done.stderr.startswith("0 7482.3433\n")  # the script's own print


def test_a_class_files_top_level_print_does_not_mix_into_the_dot_text(tmp_path: Path) -> None:
    args = ("export", str(HOSTILE / "usage_exit.py"), "-o", "-", "--format", "dot")
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("digraph autograd {")
    assert "usage: run me interactively" not in done.stdout
    assert done.stderr.count("usage: run me interactively") == 1  # run once, on stderr


def test_a_binary_format_is_refused_to_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    with pytest.raises(ExportError, match=r"PNG is binary: written to the terminal"):
        check_stdout("png")
    check_stdout("svg")  # text: fine on a terminal
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    check_stdout("pdf")  # a pipe or a file: fine


def test_definitions_only_says_only_the_definitions_run(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    done = run_cli("export", "--definitions-only", str(CLASSES / "conv_net.py"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "graphviz-app: running only the definitions in conv_net.py" in done.stderr
    assert "top-level code too" not in done.stderr
    plain = run_cli("export", str(CLASSES / "conv_net.py"), "-o", str(out))
    assert "graphviz-app: running conv_net.py (its top-level code too)" in plain.stderr


def test_threads_left_running_are_one_note_in_the_commands_own_words(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    done = run_cli("export", str(HOSTILE / "class_file_thread.py"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.exists()
    assert (
        "graphviz-app: note: the model's code left 1 thread running (heartbeat); "
        "ending it with the command." in done.stderr.splitlines()
    )
    assert "INFO" not in done.stderr and "threads" not in done.stderr


def test_an_rnn_class_opens_with_no_flags_and_with_only_some_arguments(tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    done = run_cli("export", str(CLASSES / "rnn_model.py"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "RNNModel(rnn_type='GRU', ntoken=100, ninp=64, nhid=128, nlayers=2)" in done.stderr
    names = {n["name"] for n in json.loads(out.read_text())["nodes"]}
    assert {"EmbeddingBackward0", "LogSoftmaxBackward0"} <= names
    given = run_cli(
        "export", str(CLASSES / "rnn_model.py"), "-o", str(out), "--args", "rnn_type='GRU'"
    )
    assert given.returncode == 0, given.stderr  # the sizes left out are guessed


def test_a_script_that_fails_at_import_says_the_import_and_the_forward_errors(
    tmp_path: Path,
) -> None:
    done = run_cli("export", str(SCRIPTS / "plot_import_fails.py"), "-o", str(tmp_path / "g.svg"))
    assert done.returncode == 1
    assert "No module named 'graphviz_app_no_such_plot_package' (at plot_import_fails.py:5)" in (
        done.stderr
    )
    assert "Import failed, ignored: line 5: import graphviz_app_no_such_plot_package" in (
        done.stderr
    )
    assert "must have the same dtype, but got Double and Float." in done.stderr
