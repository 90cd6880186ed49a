"""``graphviz-app export`` on people's own files: scripts run as python FILE would (up
to the backward call asked for), class files open with what was guessed said in one
line, and files that try to end the program, never end or leave threads running get
a clear message and a clean exit."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cli_helpers import run_cli

DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPTS, CLASSES, HOSTILE = DATA / "scripts", DATA / "classes", DATA / "hostile"


def nodes(path: Path) -> list[dict[str, object]]:
    return json.loads(path.read_text())["nodes"]  # type: ignore[no-any-return]


def test_a_script_exports_its_first_backward_call_and_says_it_ran(tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    done = run_cli("export", str(SCRIPTS / "sequential_loop.py"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("0 7482.3433\n")  # the script's own print, on stdout
    assert "1 5914" not in done.stdout  # it stopped at its first call
    ran = [line for line in done.stderr.splitlines() if "as python sequential_loop.py" in line]
    assert ran == [
        "graphviz-app: note: Ran sequential_loop.py as python sequential_loop.py would, up "
        "to its backward call 1 (sequential_loop.py:20)."
    ]
    names = {n.get("leaf_name") or n["name"] for n in nodes(out)}
    assert {"0.weight", "0.bias", "MseLossBackward0", "AddmmBackward0"} <= names


def test_backward_call_n_and_its_walk_through(tmp_path: Path) -> None:
    folder = tmp_path / "steps"
    script = str(SCRIPTS / "plain_tensors.py")
    done = run_cli("export", script, "--backward-call", "3", "--backward-steps", str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["0 671.8741", *done.stdout.splitlines()[1:3]]
    assert len(done.stdout.splitlines()) == 4  # three prints, then "wrote ..."
    assert (folder / "index.html").exists() and len(list(folder.glob("step_*.svg"))) == 8


def test_asking_for_more_calls_than_the_script_makes_says_so(tmp_path: Path) -> None:
    done = run_cli(
        "export",
        str(SCRIPTS / "custom_function.py"),
        "-o",
        str(tmp_path / "g.svg"),
        "--backward-call",
        "9",
    )
    assert done.returncode == 1
    assert "custom_function.py made 4 backward calls, not 9" in done.stderr


def test_grads_come_from_the_scripts_own_call(tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    done = run_cli("export", str(SCRIPTS / "nonscalar_backward.py"), "-o", str(out), "--grads")
    assert done.returncode == 0, done.stderr
    assert "grad (1, 10)" in out.read_text()  # the script's own gradient=torch.randn(1, 10)


def test_a_stuck_script_is_stopped_by_the_time_limit_with_where_it_was(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    start = time.monotonic()
    done = run_cli("export", str(HOSTILE / "stuck_script.py"), "-o", str(out), "--time-limit", "1")
    assert done.returncode == 1 and not out.exists()
    assert "stuck_script.py did not reach a backward call within 1 s" in done.stderr
    assert "It was at stuck_script.py:" in done.stderr
    assert time.monotonic() - start < 60


def test_a_forward_stuck_in_a_loop_is_stopped_by_the_time_limit(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    done = run_cli(
        "export",
        str(DATA / "bad_models" / "infinite_loop.py"),
        "-o",
        str(out),
        "--time-limit",
        "1",
    )
    assert done.returncode == 1 and not out.exists()
    assert "infinite_loop.py did not load and run its forward within 1 s" in done.stderr
    assert "It was at infinite_loop.py:12 (in forward)" in done.stderr


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("quit_in_script.py", "quit_in_script.py called quit() at quit_in_script.py:6"),
        ("os_exit_in_script.py", "called os._exit(3) at os_exit_in_script.py:8"),
        ("exit_at_import.py", "called sys.exit(2) at exit_at_import.py:9"),
        ("exit_in_forward.py", "forward called exit() at exit_in_forward.py:13"),
        ("os_exit_in_forward.py", "forward called os._exit(0) at os_exit_in_forward.py:15"),
        ("keyboard_interrupt.py", "raised KeyboardInterrupt at keyboard_interrupt.py:13"),
    ],
)
def test_code_that_tries_to_end_the_program_is_an_error_never_a_silent_exit(
    tmp_path: Path, name: str, said: str
) -> None:
    out = tmp_path / "g.svg"
    done = run_cli("export", str(HOSTILE / name), "-o", str(out))
    assert done.returncode == 1 and not out.exists()
    assert said in done.stderr and "graphviz-app: error:" in done.stderr


def test_threads_the_script_left_running_do_not_keep_the_command_alive(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    done = run_cli("export", str(HOSTILE / "threads_left.py"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
def test_bom_and_line_endings(tmp_path: Path, ending: bytes) -> None:
    path = tmp_path / "plain_tensors.py"
    text = (SCRIPTS / "plain_tensors.py").read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + ending.join(text.split(b"\n")))
    out = tmp_path / "g.json"
    done = run_cli("export", str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert {"w1", "w2"} <= {n.get("leaf_name") for n in nodes(out)}


def test_a_class_file_opens_with_its_guesses_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    done = run_cli("export", str(CLASSES / "conv_net.py"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    guessed = [line for line in done.stderr.splitlines() if "guessed" in line]
    assert guessed == [
        "graphviz-app: guessed class Net (the only nn.Module no other class of the file "
        "builds); input 1x1x32x32:float32 from conv1 = Conv2d(1, 6, kernel_size=(5, 5), "
        "stride=(1, 1)) (choose with --class, --args, --input)"
    ]
    assert "ConvolutionBackward0" in {n["name"] for n in nodes(out)}


def test_missing_constructor_arguments_are_listed_with_an_example(tmp_path: Path) -> None:
    done = run_cli("export", str(CLASSES / "needs_args.py"), "-o", str(tmp_path / "g.svg"))
    assert done.returncode == 1
    assert "Projection(in_features: int, activation: str, bias: bool = True)" in done.stderr
    assert "needs activation" in done.stderr and "--args \"activation='relu'\"" in done.stderr
    fixed = run_cli(
        "export",
        str(CLASSES / "needs_args.py"),
        "-o",
        str(tmp_path / "g.svg"),
        "--args",
        "in_features=3, activation='tanh'",
    )
    assert fixed.returncode == 0, fixed.stderr
    assert "input 1x3:float32 from linear" in fixed.stderr


def test_a_file_with_no_autograd_says_so(tmp_path: Path) -> None:
    done = run_cli("export", str(SCRIPTS / "no_autograd.py"), "-o", str(tmp_path / "g.svg"))
    assert done.returncode == 1
    assert "no_autograd.py does no autograd" in done.stderr and not done.stdout
