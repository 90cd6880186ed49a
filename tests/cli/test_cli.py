"""The headless command line: no display, no Qt, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run_cli


def test_export_svg_of_a_builtin_model_without_a_display(tmp_path: Path) -> None:
    out = tmp_path / "net.svg"
    done = run_cli("export", "two_layer_net", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().lstrip().startswith("<?xml")
    assert "fc1.weight" in out.read_text()


def test_export_json_holds_every_record(tmp_path: Path) -> None:
    out = tmp_path / "net.json"
    assert run_cli("export", "residual_cnn", "-o", str(out)).returncode == 0
    data = json.loads(out.read_text())
    names = {n["name"] for n in data["nodes"]}
    assert {"ConvolutionBackward0", "NativeBatchNormBackward0", "AddBackward0"} <= names


def test_a_bad_output_path_fails_with_a_message(tmp_path: Path) -> None:
    done = run_cli("export", "two_layer_net", "-o", str(tmp_path / "missing" / "x.svg"))
    assert done.returncode == 1
    assert "does not exist" in done.stderr


def test_an_existing_file_survives_a_failed_export(tmp_path: Path) -> None:
    out = tmp_path / "keep.svg"
    out.write_text("precious")
    done = run_cli("export", "no_such_model", "-o", str(out))
    assert done.returncode == 1 and "built-in" in done.stderr
    assert out.read_text() == "precious"


def test_models_lists_the_builtins() -> None:
    done = run_cli("models")
    assert done.returncode == 0
    assert "two_layer_net" in done.stdout and "residual_cnn" in done.stdout


def test_backward_steps_walkthrough_headless_without_qt(tmp_path: Path) -> None:
    folder = tmp_path / "walk"
    done = run_cli("export", "two_layer_net", "--backward-steps", str(folder))
    assert done.returncode == 0, done.stderr  # run_cli also fails if Qt was imported
    svgs = sorted(folder.glob("step_*.svg"))
    assert len(svgs) == 11  # every autograd node of the two-layer net runs once
    assert all("fc1.weight</text>" in f.read_text() for f in svgs)  # text stays text
    page = (folder / "index.html").read_text()
    assert page.count("<svg") == 1 and '"steps":[' in page and "Step 11/11" in page


def test_grads_label_each_node_with_torchs_own_gradient(tmp_path: Path) -> None:
    import torch

    from graphviz_app.io.builtin import resolve_model
    from graphviz_app.io.model_file import load_model_file

    loaded = load_model_file(resolve_model("two_layer_net"))
    loaded.loss_fn(loaded.model(*loaded.inputs), *loaded.inputs).backward()
    weight = dict(loaded.model.named_parameters())["fc1.weight"].grad
    assert isinstance(weight, torch.Tensor)
    out = tmp_path / "grads.svg"
    done = run_cli("export", "two_layer_net", "-o", str(out), "--grads")
    assert done.returncode == 0, done.stderr
    assert f"grad (16, 8) |g|={float(weight.norm()):.3g}" in out.read_text()
