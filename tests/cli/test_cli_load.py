"""The export command on user model files: every format, the loading flags, and
refusals with one clear line (a pickle without --allow-pickle runs nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from cli_helpers import run_cli

from graphviz_app.io.builtin import resolve_model

DATA = Path(__file__).resolve().parents[1] / "data"


def node_names(path: Path) -> set[str]:
    nodes = json.loads(path.read_text())["nodes"]
    return {n["name"] for n in nodes} | {n["leaf_name"] for n in nodes if n.get("leaf_name")}


def test_a_class_with_arguments_and_an_input_spec(tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    model = str(DATA / "models" / "classes_only.py")
    done = run_cli(
        "export",
        model,
        "-o",
        str(out),
        "--class",
        "Encoder",
        "--args",
        "(50, 4)",
        "--input",
        "2x6:int64[0,50)",
    )
    assert done.returncode == 0, done.stderr
    assert {"EmbeddingBackward0", "embed.weight", "proj.weight"} <= node_names(out)


def test_definitions_only_skips_the_training_and_says_so(tmp_path: Path) -> None:
    out, marker = tmp_path / "g.svg", tmp_path / "marker"
    script = str(DATA / "models" / "tutorial_script.py")
    done = run_cli(
        "export",
        script,
        "-o",
        str(out),
        "--class",
        "SmallNet",
        "--input",
        "8x4",
        "--definitions-only",
        marker=marker,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists() and out.read_text().lstrip().startswith("<?xml")
    assert "note: Skipped (definitions only) lines 36-40: for _epoch" in done.stderr


def test_weights_need_their_architecture(tmp_path: Path) -> None:
    weights, out = tmp_path / "w.safetensors", tmp_path / "g.json"
    from safetensors.torch import save_file

    from graphviz_app.io.model_file import load_model_file

    save_file(load_model_file(resolve_model("two_layer_net")).model.state_dict(), str(weights))
    refused = run_cli("export", str(weights), "-o", str(out))
    assert refused.returncode == 1 and "--architecture FILE" in refused.stderr
    done = run_cli(
        "export",
        str(weights),
        "-o",
        str(out),
        "--architecture",
        str(resolve_model("two_layer_net")),
    )
    assert done.returncode == 0, done.stderr
    assert "fc1.weight" in node_names(out)


def test_a_pickle_is_refused_without_the_flag_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    pickle = str(DATA / "bad_models" / "pickle_marker.pt")
    done = run_cli("export", pickle, "-o", str(tmp_path / "g.svg"), marker=marker)
    assert done.returncode == 1 and "--allow-pickle" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not marker.exists()
    done = run_cli("export", pickle, "-o", str(tmp_path / "g.svg"), "--allow-pickle", marker=marker)
    assert marker.exists()  # consent given: its code ran (and it holds no model)
    assert done.returncode == 1 and "no state_dict in it" in done.stderr


def test_torchscript_and_exported_programs(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh())
    torch.jit.save(torch.jit.script(model), str(tmp_path / "m.pt"))
    torch.export.save(torch.export.export(model, (torch.randn(2, 3),)), str(tmp_path / "m.pt2"))
    out = tmp_path / "g.json"
    assert run_cli("export", str(tmp_path / "m.pt"), "-o", str(out)).returncode == 1
    done = run_cli("export", str(tmp_path / "m.pt"), "-o", str(out), "--input", "2x3")
    assert done.returncode == 0, done.stderr
    assert "TanhBackward0" in node_names(out)
    assert run_cli("export", str(tmp_path / "m.pt2"), "-o", str(out)).returncode == 0
    assert "TanhBackward0" in node_names(out)


def test_a_model_too_large_is_refused_then_drawn_structure_only(tmp_path: Path) -> None:
    model, out = str(DATA / "bad_models" / "too_large.py"), tmp_path / "g.svg"
    refused = run_cli("export", model, "-o", str(out))
    assert refused.returncode == 1 and "--structure-only" in refused.stderr
    done = run_cli("export", model, "-o", str(out), "--structure-only")
    assert done.returncode == 0, done.stderr
    assert "AddmmBackward0" in out.read_text()
