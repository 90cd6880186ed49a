"""What a file is, read without running it: script, class file, or no autograd at all;
which class is the model; what the file itself builds and passes to it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from io_helpers import DATA

from graphviz_app.io.python_source import summarize_source
from graphviz_app.io.source_facts import (
    backward_lines,
    choose_model_class,
    class_calls,
    constants,
    passed_input_spec,
)

SCRIPTS, CLASSES = DATA / "scripts", DATA / "classes"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (SCRIPTS / "sequential_loop.py", "script"),
        (SCRIPTS / "guarded_main.py", "script"),  # backward inside main(), run by the guard
        (SCRIPTS / "autograd_grad.py", "script"),
        (SCRIPTS / "graph_no_backward.py", "script"),  # runs and uses autograd: a graph left
        (SCRIPTS / "missing_data.py", "script"),
        (SCRIPTS / "no_autograd.py", "no_autograd"),
        (CLASSES / "config_gpt.py", "classes"),
        (CLASSES / "demo_call.py", "classes"),  # a demo forward, no backward
        (DATA / "models" / "classes_only.py", "classes"),
    ],
)
def test_each_file_is_classified_without_running_it(path: Path, kind: str) -> None:
    assert summarize_source(path).kind == kind


def test_a_build_model_file_keeps_the_conventions(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "import torch\ndef build_model():\n    return torch.nn.Linear(1, 1)\n"
        "torch.ones(1).backward()\n"
    )
    assert summarize_source(path).kind == "build_model"


def test_backward_calls_are_found_in_every_spelling() -> None:
    tree = ast.parse(
        "from torch.autograd import grad as g\n"
        "loss.backward()\n"
        "torch.autograd.backward([a])\n"
        "torch.autograd.grad(y, x)\n"
        "g(y, x)\n"
        "model.grad(x)\n"  # someone else's grad: not autograd
    )
    assert backward_lines(tree) == (2, 3, 4, 5)


def test_the_model_is_the_class_no_other_class_builds() -> None:
    tree = ast.parse((CLASSES / "config_gpt.py").read_text())
    assert choose_model_class(tree, ["SelfAttention", "Block", "GPT"])[0] == "GPT"
    files = ast.parse(
        "class A(nn.Module): pass\nclass B(nn.Module): pass\nclass Helper(nn.Module): pass\n"
        "model = A()\n"
    )
    assert choose_model_class(files, ["A", "B", "Helper"])[0] == "A"  # the one the file builds
    assert choose_model_class(ast.parse(""), ["A", "B"])[0] == "B"  # else the last defined


def test_the_files_own_call_and_tensor_are_read() -> None:
    tree = ast.parse((CLASSES / "demo_call.py").read_text())
    (call,) = class_calls(tree, {"Mixer"})
    assert call.text == "Mixer(7, hidden=5)" and call.variable == "model"
    assert passed_input_spec(tree, "Mixer") == ("3x4x7:float32", 20)


@pytest.mark.parametrize(
    ("source", "spec"),
    [
        ("net = Net()\nout = net(torch.randn(1, 1, 32, 32))", "1x1x32x32:float32"),
        ("B, T = 2, 8\nnet = Net()\nnet(torch.randint(0, 65, (B, T)))", "2x8:int64[0,65)"),
        ("net = Net()\nx = torch.zeros((4, 3), dtype=torch.float64)\nnet(x)", "4x3:float64"),
        ("N = 5\nnet = Net()\nnet.forward(torch.ones(N, 2 * N))", "5x10:float32"),
        ("net = Net()\nnet(load_images())", None),  # built at run time: not guessed
    ],
)
def test_tensors_passed_to_the_model_become_a_spec(source: str, spec: str | None) -> None:
    found = passed_input_spec(ast.parse(source), "Net")
    assert (found[0] if found else None) == spec


def test_module_level_constants() -> None:
    tree = ast.parse("VOCAB = 65\nn_embd: int = 32\nname = 'x'\ndevice = torch.device('cpu')")
    assert constants(tree) == {"VOCAB": 65, "n_embd": 32, "name": "x"}
