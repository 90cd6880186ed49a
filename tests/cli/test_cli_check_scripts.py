"""``graphviz-app check SCRIPT``: a script runs as python FILE would, up to its
``--backward-call``, and the report is about that call; exit 0 healthy, 1 a problem,
2 nothing checked. The script's own prints go to stderr, so stdout is the report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from cli_helpers import run_cli

from graphviz_app.core.health.text import report_schema

DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPTS, HOSTILE = DATA / "scripts", DATA / "hostile"


def check_json(name: str, *args: str) -> tuple[int, dict[str, object], str]:
    done = run_cli("check", str(SCRIPTS / name), "--json", *args)
    data = json.loads(done.stdout)  # nothing but the report on stdout
    jsonschema.validate(data, report_schema())
    assert data["healthy"] is (done.returncode == 0)
    return done.returncode, data, done.stderr


def test_a_healthy_training_script_exits_0_and_says_it_ran() -> None:
    done = run_cli("check", str(SCRIPTS / "healthy_training.py"), "--backward-call", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("healthy_training.py, backward call 2: healthy")
    assert "step 0: loss" not in done.stdout  # the script's print is on stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("graphviz-app: running ") and "healthy_training.py" in lines[0]
    assert "step 0: loss 1.1249" in lines
    assert (
        "graphviz-app: note: Ran healthy_training.py as python healthy_training.py would, "
        "up to its backward call 2 (healthy_training.py:16)."
    ) in lines


def test_the_second_call_is_the_bad_one() -> None:
    status, data, stderr = check_json("bad_second_call.py")
    assert status == 0 and data["model"] == "bad_second_call.py, backward call 1"
    status, data, stderr = check_json("bad_second_call.py", "--backward-call", "2")
    assert status == 1 and data["model"] == "bad_second_call.py, backward call 2"
    first_nan, first_inf = data["first_nan"], data["first_inf"]
    assert isinstance(first_nan, dict) and isinstance(first_inf, dict)
    assert first_inf["node"] == "SqrtBackward0" and first_nan["node"] == "MulBackward0"
    assert first_nan["source"]["line"] == 12
    assert first_nan["source"]["file"] == str(SCRIPTS / "bad_second_call.py")
    assert data["forward_origin"] is None
    assert stderr.splitlines()[1:2] == ["4.0"]  # the first call's print, then it paused


def test_nan_only_in_backward_text() -> None:
    done = run_cli("check", str(SCRIPTS / "same_pair_distance.py"))
    assert done.returncode == 1, done.stderr
    assert "First Inf in backward: step 2 of 19, SqrtBackward0" in done.stdout
    assert "First NaN in backward: step 4 of 19, PowBackward0" in done.stdout
    assert "same_pair_distance.py:15" in done.stdout


def test_a_detached_branch_and_a_detached_leaf_are_cut_off() -> None:
    status, data, _ = check_json("detached_branch.py", "--backward-call", "2")
    assert status == 1
    cut = {p["name"]: p for p in data["parameters"]}  # type: ignore[union-attr]
    assert set(cut) == {"encoder.weight", "encoder.bias", "gate"}
    assert {p["reason"] for p in cut.values()} == {"cut"}
    assert cut["gate"]["source"]["line"] == 17 and cut["encoder.bias"]["source"]["line"] == 16
    assert [m["module"] for m in data["modules"]] == ["head"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("path", "args", "said"),
    [
        (SCRIPTS / "custom_function.py", ("--backward-call", "9"), "made 4 backward calls, not 9"),
        (SCRIPTS / "graph_no_backward.py", (), "made no backward call"),
        (HOSTILE / "stuck_script.py", ("--time-limit", "1"), "did not reach a backward call"),
        (
            DATA / "bad_models" / "infinite_loop.py",  # a model file: its forward is stuck
            ("--time-limit", "1"),
            "infinite_loop.py did not load and run its forward and backward within 1 s",
        ),
    ],
    ids=["too-few-calls", "no-backward", "stuck-script", "stuck-forward"],
)
def test_nothing_checked_exits_2_with_one_message(
    path: Path, args: tuple[str, ...], said: str
) -> None:
    done = run_cli("check", str(path), *args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("graphviz-app: error")]
    assert len(errors) == 1 and said in errors[0]


def test_the_polynomial_tutorial_s_sum_loss_is_healthy() -> None:
    """Gradients of 1e4 and more beside a loss of 2e5 (a sum over 2,000 points): an
    absolute limit of 1000 called all four coefficients exploding."""
    status, data, _ = check_json("polynomial_sum_loss.py")
    assert status == 0 and data["problems"] == []
    seed = data["seed"]
    assert isinstance(seed, dict) and seed["kind"] == "loss" and seed["value"] > 1e4
    assert max(m["grad_norm"] for m in data["modules"]) > 1e4  # type: ignore[union-attr]


def test_a_call_with_its_own_gradient_is_checked_as_it_was_seeded() -> None:
    status, data, _ = check_json("nonscalar_backward.py")
    seed = data["seed"]
    assert status == 0 and isinstance(seed, dict) and seed["kind"] == "given"
    assert "(1, 10)" in seed["text"] and "sum(gradient * output)" in seed["text"]
    status, data, _ = check_json("nonscalar_backward.py", "--backward-call", "2")
    assert status == 0 and data["seed"]["kind"] == "loss"  # type: ignore[index]


def test_a_gan_s_discriminator_step_exits_0_with_its_intended_cut_listed() -> None:
    """The generator cut off at fake.detach() in the discriminator's step is true and
    said, but opt_g trains it: not a problem (it was exit status 1)."""
    status, data, _ = check_json("gan_critic_step.py")
    assert status == 0 and data["problems"] == []
    cut = [p for p in data["parameters"] if p["expected"]]  # type: ignore[union-attr,index]
    assert len(cut) == 4
    assert all("fake.detach() at gan_critic_step.py:21" in p["detail"] for p in cut)
    text = run_cli("check", str(SCRIPTS / "gan_critic_step.py")).stdout
    assert text.startswith("gan_critic_step.py, backward call 1: healthy")
    assert "intended in GAN-style training? opt_g trains it" in text
