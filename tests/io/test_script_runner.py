"""A script runs inside the app exactly as ``python FILE`` runs it, pauses at its
backward calls, stops within a second when asked (or when it never gets there), and
its attempts to end the program are reported with the call and its file:line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from io_helpers import DATA

from graphviz_app.core.autograd.intercept import BackwardCall
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import Cancelled, CancelToken
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.io.script.runner import (
    CallContext,
    CallOutcome,
    Paused,
    ScriptEnd,
    ScriptRunner,
    ScriptTimeoutError,
)
from graphviz_app.session import ModelSession

SCRIPTS, HOSTILE = DATA / "scripts", DATA / "hostile"
WHERE_AM_I = """import os, sys
print(__name__, sys.argv == [__file__], os.getcwd() == os.path.dirname(__file__))
print(sys.path[0] == os.path.dirname(__file__), "é")
"""


def plain(call: BackwardCall, context: CallContext) -> CallOutcome:
    return CallOutcome(call.call(), payload=context.number)


def run_to_end(path: Path, output: ScriptOutput | None = None) -> ScriptEnd:
    runner = ScriptRunner(path, plain, output or ScriptOutput())
    event = runner.run_until(10_000, time_limit=60)
    assert isinstance(event, ScriptEnd)
    return event


def test_the_script_sees_what_python_file_gives_it_and_all_is_put_back(tmp_path: Path) -> None:
    path = tmp_path / "where.py"
    path.write_text(WHERE_AM_I, encoding="utf-8")
    saved = (os.getcwd(), list(sys.argv), list(sys.path), sys.modules["__main__"], sys.stdout)
    output = ScriptOutput()
    end = run_to_end(path, output)
    assert end.status == "finished"
    assert output.text() == "__main__ True True\nTrue é\n"
    assert (os.getcwd(), sys.argv, sys.path, sys.modules["__main__"], sys.stdout) == saved
    assert os._exit.__module__ in ("posix", "nt")  # the real one again


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_byte_order_marks_and_line_endings_load_as_python_loads_them(
    tmp_path: Path, ending: bytes, bom: bytes
) -> None:
    path = tmp_path / "odd_file.py"
    lines = WHERE_AM_I.encode("utf-8").split(b"\n")
    path.write_bytes(bom + ending.join(lines))
    python = subprocess.run(
        [sys.executable, str(path)], capture_output=True, cwd=tmp_path, timeout=60, check=True
    )
    output = ScriptOutput()
    assert run_to_end(path, output).status == "finished"
    assert output.text().encode("utf-8") == python.stdout.replace(b"\r\n", b"\n")


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_a_class_file_with_a_bom_and_other_line_ends_opens(tmp_path: Path, ending: str) -> None:
    text = (DATA / "classes" / "conv_net.py").read_text().replace("\n", ending)
    path = tmp_path / "conv_net.py"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    session = ModelSession()
    graph = session.load(LoadRequest(str(path))) and session.forward()
    assert "ConvolutionBackward0" in {n.name for n in graph.nodes}


def test_it_pauses_at_each_backward_call_and_goes_on_when_asked() -> None:
    output = ScriptOutput()
    runner = ScriptRunner(SCRIPTS / "plain_tensors.py", plain, output)
    try:
        first = runner.run_until(1, time_limit=60)
        assert isinstance(first, Paused) and first.call == 1
        assert first.location == "plain_tensors.py:16" and output.take() == "0 671.8741\n"
        third = runner.run_until(3, time_limit=60)
        assert isinstance(third, Paused) and third.payload == 3
        assert [line[:2] for line in output.take().splitlines()] == ["1 ", "2 "]
        end = runner.run_until(100, time_limit=60)
        assert isinstance(end, ScriptEnd) and end.calls == 5
    finally:
        runner.stop()


def test_stop_ends_a_script_stuck_in_a_loop_within_a_second() -> None:
    token = CancelToken()
    runner = ScriptRunner(HOSTILE / "stuck_script.py", plain, ScriptOutput())
    waiter = __import__("threading").Timer(0.5, token.cancel)
    waiter.start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        runner.run_until(1, token, time_limit=0)
    assert time.monotonic() - start < 1.5  # 0.5 s to the cancel, then under a second
    assert runner.end is not None and runner.end.status == "stopped"
    assert os.getcwd() != str(HOSTILE)  # the environment is back


def test_a_time_limit_says_where_the_script_was() -> None:
    runner = ScriptRunner(HOSTILE / "stuck_script.py", plain, ScriptOutput())
    with pytest.raises(ScriptTimeoutError) as raised:
        runner.run_until(1, time_limit=0.5)
    assert "did not reach a backward call within 0.5 s" in raised.value.summary
    assert "It was at stuck_script.py:" in raised.value.summary
    assert not runner.alive


def test_stopping_a_paused_script_ends_its_thread() -> None:
    runner = ScriptRunner(SCRIPTS / "sequential_loop.py", plain, ScriptOutput())
    assert isinstance(runner.run_until(1, time_limit=60), Paused)
    runner.stop()
    assert runner.end is not None and runner.end.status == "stopped"
    assert runner._thread is not None and not runner._thread.is_alive()


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("import sys\nsys.exit(3)\n", "called sys.exit(3) at leaving.py:2"),
        ("exit()\n", "called exit() at leaving.py:1"),
        ("x = 1\nquit(1)\n", "called quit(1) at leaving.py:2"),
        ("import os\nos._exit(4)\n", "called os._exit(4) at leaving.py:2"),
        ("raise SystemExit('bye')\n", "called raise SystemExit('bye') at leaving.py:1"),
        (
            "def f():\n    raise KeyboardInterrupt\nf()\n",
            "raised KeyboardInterrupt at leaving.py:2",
        ),
    ],
)
def test_attempts_to_end_the_program_are_named_with_their_line(
    tmp_path: Path, source: str, said: str
) -> None:
    path = tmp_path / "leaving.py"
    path.write_text(source)
    end = run_to_end(path)
    assert end.status == "exited" and said in end.message


def test_input_gets_end_of_file_instead_of_waiting(tmp_path: Path) -> None:
    path = tmp_path / "asks.py"
    path.write_text("name = input('your name? ')\n")
    end = run_to_end(path)
    assert end.status == "failed" and "EOFError" in end.message and "asks.py:1" in end.message


def test_a_sibling_module_the_script_imports_is_forgotten_afterwards(tmp_path: Path) -> None:
    (tmp_path / "helper_for_test_runner.py").write_text("VALUE = 7\n")
    path = tmp_path / "uses_helper.py"
    path.write_text("import helper_for_test_runner\nprint(helper_for_test_runner.VALUE)\n")
    output = ScriptOutput()
    assert run_to_end(path, output).status == "finished" and output.text() == "7\n"
    assert "helper_for_test_runner" not in sys.modules


# --- through the session: what the user sees ------------------------------------------


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("quit_in_script.py", "quit_in_script.py called quit() at quit_in_script.py:6"),
        ("os_exit_in_script.py", "called os._exit(3) at os_exit_in_script.py:8"),
    ],
)
def test_a_script_that_leaves_before_backward_is_an_error_naming_the_call(
    name: str, said: str
) -> None:
    with pytest.raises(ModelFileError) as raised:
        ModelSession().load(LoadRequest(str(HOSTILE / name)), time_limit=60)
    assert said in raised.value.summary and "before its first backward call" in raised.value.summary


@pytest.mark.parametrize(
    ("name", "said"),
    [
        (
            "exit_at_import.py",
            "Importing exit_at_import.py called sys.exit(2) at exit_at_import.py:9",
        ),
        ("exit_in_forward.py", "forward called exit() at exit_in_forward.py:13"),
        ("os_exit_in_forward.py", "forward called os._exit(0) at os_exit_in_forward.py:15"),
        ("keyboard_interrupt.py", "forward raised KeyboardInterrupt at keyboard_interrupt.py:13"),
    ],
)
def test_a_model_file_that_tries_to_end_the_program_is_a_clear_error(name: str, said: str) -> None:
    from graphviz_app.core.runtime.user_code import guard_process_exit
    from graphviz_app.errors import USER_ERRORS, user_message

    session = ModelSession()
    with pytest.raises(USER_ERRORS) as raised, guard_process_exit():
        session.open(LoadRequest(str(HOSTILE / name)), GraphStyle())
    assert said in user_message(raised.value)


def test_a_script_that_ends_after_training_keeps_its_last_call() -> None:
    session = ModelSession()
    session.load(LoadRequest(str(HOSTILE / "exits_after_training.py")), time_limit=60)
    step = session.scripts.next(5, GraphStyle(), None, 60)
    assert step.picture is None and step.state.status == "exited"
    assert step.state.call == 1 and step.state.calls == 2
    assert "called sys.exit(0) at exits_after_training.py:10" in step.state.message
    assert "the last graph stays" in step.state.message
    assert session.run is not None  # still the graph of the call shown


def test_a_script_without_backward_shows_the_last_tensor_it_assigned() -> None:
    session = ModelSession()
    session.load(LoadRequest(str(SCRIPTS / "graph_no_backward.py")), time_limit=60)
    graph = session.forward()
    assert graph.nodes[1].name == "MeanBackward0"  # out = z.mean(), the last one assigned
    assert session.scripts.state().call == 0 and "the graph is that of out" in (
        session.scripts.state().message
    )
    x = session.run.walk.fns[-1].variable
    session.backward()  # Run > Backward records one on that graph
    assert torch.allclose(x.grad, torch.full((2, 2), 4.5))


def test_a_script_that_cannot_run_falls_back_to_its_model_class() -> None:
    session = ModelSession()
    loaded = session.load(LoadRequest(str(SCRIPTS / "missing_data.py")), time_limit=60)
    assert loaded.name == "missing_data.Classifier" and not session.scripts.active
    assert (
        "FileNotFoundError" in loaded.notes[0]
        and "model class is shown instead" in (loaded.notes[0])
    )
