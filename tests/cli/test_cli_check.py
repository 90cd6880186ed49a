"""``graphviz-app check``: exit status 0 / 1 / 2, the text report and the JSON schema,
on built-ins and on model files that are not part of the app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from cli_helpers import run_cli

from graphviz_app.core.health.text import report_schema

NAN_ONLY_IN_BACKWARD = """
import torch
from torch import nn

class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, 3)

    def forward(self, x):
        centred = self.proj(x) - self.proj(x).mean(dim=0)
        return centred.pow(2).sum(dim=1).sqrt()  # a row of zeros: sqrt at 0

def build_model():
    torch.manual_seed(0)
    return Norms()

def example_inputs():
    return torch.ones(4, 3)  # identical rows: every centred row is 0

def loss_fn(norms, x):
    return norms.mean()
"""

DETACHED = """
import torch
from torch import nn

class TwoTowers(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(4, 4)
        self.key = nn.Linear(4, 4)

    def forward(self, x):
        keys = self.key(x).detach()
        return (self.query(x) * keys).sum(dim=1)

def build_model():
    return TwoTowers()

def example_inputs():
    return torch.randn(5, 4)
"""

RAISES = """
import torch

def build_model():
    return torch.nn.Linear(2, 2)

def example_inputs():
    return torch.randn(3, 5)  # the wrong width: forward raises
"""


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _json(*args: str) -> tuple[int, dict[str, object]]:
    done = run_cli("check", *args, "--json")
    data = json.loads(done.stdout)
    jsonschema.validate(data, report_schema())
    assert data["healthy"] is (done.returncode == 0)
    return done.returncode, data


def test_a_healthy_model_exits_0_and_says_so() -> None:
    done = run_cli("check", "two_layer_net")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("two_layer_net: healthy")
    assert "Gradient norms per module" in done.stdout


def test_a_nan_in_backward_exits_1_and_names_where_it_started() -> None:
    done = run_cli("check", "nan_in_backward")
    assert done.returncode == 1, done.stderr
    assert "First Inf in backward: step 2" in done.stdout and "SqrtBackward0" in done.stdout
    assert "First NaN in backward" in done.stdout and "inf x 0" in done.stdout
    assert "nan_in_backward.py:43" in done.stdout


def test_json_for_a_model_file_whose_nan_appears_only_in_backward(tmp_path: Path) -> None:
    status, data = _json(_write(tmp_path, "norms.py", NAN_ONLY_IN_BACKWARD))
    assert status == 1
    first_nan, first_inf = data["first_nan"], data["first_inf"]
    assert isinstance(first_nan, dict) and isinstance(first_inf, dict)
    assert first_inf["node"] == "SqrtBackward0" and first_nan["node"] == "PowBackward0"
    assert first_nan["source"]["line"] == 12 and first_nan["source"]["file"].endswith("norms.py")
    assert data["forward_origin"] is None  # the loss is finite


def test_json_and_text_count_the_first_nan_s_step_alike(tmp_path: Path) -> None:
    """The text's "step 4 of 11" is the JSON's ``"step": 4`` (it said 3: an index)."""
    model = _write(tmp_path, "norms.py", NAN_ONLY_IN_BACKWARD)
    text = run_cli("check", model).stdout
    _, data = _json(model)
    for key, title in (("first_inf", "First Inf"), ("first_nan", "First NaN")):
        match = re.search(rf"{title} in backward: step (\d+) of (\d+)", text)
        assert match, text
        origin = data[key]
        assert isinstance(origin, dict) and origin["step"] == int(match[1])
        assert 1 <= origin["step"] <= data["steps"] == int(match[2])  # type: ignore[operator]
        assert "index" not in origin


def test_json_for_a_model_file_with_a_detached_branch(tmp_path: Path) -> None:
    status, data = _json(_write(tmp_path, "towers.py", DETACHED))
    assert status == 1
    cut = {p["name"]: p for p in data["parameters"]}  # type: ignore[union-attr]
    assert set(cut) == {"key.weight", "key.bias"}
    assert cut["key.weight"]["reason"] == "cut" and cut["key.weight"]["source"]["line"] == 12


def test_json_of_a_healthy_model_lists_its_modules() -> None:
    status, data = _json("residual_cnn")
    assert status == 0 and data["problems"] == []
    assert [m["module"] for m in data["modules"]][:2] == ["stem", "block.conv1"]  # type: ignore[index]


def test_thresholds_are_flags() -> None:
    assert run_cli("check", "two_layer_net", "--exploding", "1e-6").returncode == 1
    status, data = _json("two_layer_net", "--exploding", "1e-6", "--vanishing", "0.5")
    assert status == 1 and data["settings"]["exploding_ratio"] == 1e-6  # type: ignore[index]


@pytest.mark.parametrize(
    "args",
    [
        ("no_such_model",),
        ("two_layer_net", "--dead-relu", "2"),
        ("two_layer_net", "--growth", "one"),
        ("two_layer_net", "--structure-only"),
    ],
    ids=["unknown-model", "share-above-1", "not-a-number", "structure-only"],
)
def test_usage_errors_exit_2_with_one_message(args: tuple[str, ...]) -> None:
    done = run_cli("check", *args)
    assert done.returncode == 2
    assert done.stdout == "" and "error:" in done.stderr


def test_a_forward_that_raises_exits_2_naming_the_line(tmp_path: Path) -> None:
    done = run_cli("check", _write(tmp_path, "broken.py", RAISES))
    assert done.returncode == 2
    assert "forward raised RuntimeError" in done.stderr
    assert "running" in done.stderr  # said first that the file's code runs


DATA = Path(__file__).parent.parent / "data"


@pytest.mark.parametrize(
    ("model", "printed"),
    [
        (
            DATA / "classes" / "chatty_net.py",
            ("chatty: imported", "number of parameters: 212", "chatty: forward (1, 8)",
             "chatty: forward, said to fd 1"),
        ),
        (
            DATA / "models" / "chatty_model.py",
            ("chatty model: imported", "chatty model: building", "chatty model: loss"),
        ),
    ],
    ids=["class-file", "model-file"],
)  # fmt: skip
def test_what_the_model_prints_goes_to_stderr_so_json_stays_parseable(
    model: Path, printed: tuple[str, ...]
) -> None:
    """nanoGPT prints "number of parameters: 123.69M" as it is built: ``check --json >
    health.json`` must still be JSON (prints at import, in __init__, in forward, in the
    loss, and straight to file descriptor 1)."""
    done = run_cli("check", str(model), "--json")
    data = json.loads(done.stdout)
    jsonschema.validate(data, report_schema())
    for line in printed:
        assert line in done.stderr and line not in done.stdout
    text = run_cli("check", str(model))
    assert text.stdout.startswith(data["model"])
    assert not any(line in text.stdout for line in printed)


def test_a_fresh_gpt_without_targets_is_healthy_checked_as_its_mean() -> None:
    """karpathy's nanoGPT model.py, no flags but its size: seeding all 50,304 logits
    with ones called every c_attn, c_proj, c_fc, wte and wpe exploding (exit 1)."""
    gpt = ("--class", "GPT", "--args", "GPTConfig(n_layer=2, n_head=4, n_embd=128)")
    done = run_cli("check", str(DATA / "classes" / "nanogpt_model.py"), *gpt, "--json")
    data = json.loads(done.stdout)
    jsonschema.validate(data, report_schema())
    assert done.returncode == 0 and data["problems"] == [], data["problems"]
    assert data["seed"]["kind"] == "mean" and "(1, 1, 50304)" in data["seed"]["text"]
    assert "number of parameters: 6.84M" in done.stderr  # its print, not in the JSON
