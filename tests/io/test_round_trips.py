"""A built-in model saved as TorchScript, torch.export, a state_dict and safetensors
loads back and captures the same op sequence (and the same numbers) as the original."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.load_errors import ChoiceNeededError
from graphviz_app.io.loaders import detect_format, load_model
from graphviz_app.io.model_file import LoadedModel, load_model_file
from graphviz_app.io.request import LoadRequest

MODELS = ["two_layer_net", "residual_cnn"]


def op_sequence(graph: AutogradGraph) -> list[str]:
    """Backward classes in walk order, and the leaves' parameter names."""
    return [n.name for n in graph.nodes]


def capture(loaded: LoadedModel) -> tuple[list[str], torch.Tensor]:
    if not isinstance(loaded.model, torch.fx.GraphModule):  # exported: eval at export
        loaded.model.eval()  # batch norm: the same statistics on both sides
    run = forward_and_capture(loaded.model, loaded.inputs)
    return op_sequence(run.graph), run.outputs[0].detach()


def original(name: str) -> LoadedModel:
    return load_model_file(resolve_model(name))


def saved(name: str, tmp_path: Path, how: str) -> Path:
    source = original(name)
    model, inputs = source.model.eval(), source.inputs
    if how == "torchscript":
        path = tmp_path / f"{name}.pt"
        torch.jit.save(torch.jit.script(model), str(path))
        torch.save(inputs, tmp_path / f"{name}.inputs.pt")
    elif how == "export":
        path = tmp_path / f"{name}.pt2"
        torch.export.save(torch.export.export(model, inputs), str(path))
    elif how == "state_dict":
        path = tmp_path / f"{name}.pth"
        torch.save({"model": model.state_dict(), "epoch": 3}, path)  # a checkpoint dict
    else:
        path = tmp_path / f"{name}.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.mark.parametrize("how", ["torchscript", "export", "state_dict", "safetensors"])
@pytest.mark.parametrize("name", MODELS)
def test_a_saved_model_captures_like_the_original(name: str, how: str, tmp_path: Path) -> None:
    path = saved(name, tmp_path, how)
    request = LoadRequest(str(path))
    if how in ("state_dict", "safetensors"):
        with pytest.raises(ChoiceNeededError, match=r"choose the \.py file"):
            load_model(request)
        request = LoadRequest(str(path), architecture=str(resolve_model(name)))
    loaded = load_model(request)
    expected_ops, expected_out = capture(original(name))
    for _ in range(3):  # TorchScript's executor would fuse ops after a few runs
        ops, out = capture(loaded)
        assert ops == expected_ops
    torch.testing.assert_close(out, expected_out)


def test_the_format_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    exported = saved("two_layer_net", tmp_path, "export")
    renamed = exported.rename(tmp_path / "looks_like_a_state_dict.pth")
    assert detect_format(renamed) == "torch.export"
    assert load_model(LoadRequest(str(renamed))).inputs[0].shape == (5, 8)
    scripted = saved("two_layer_net", tmp_path, "torchscript")
    assert detect_format(scripted) == "torchscript"
    assert detect_format(saved("two_layer_net", tmp_path, "safetensors")) == "safetensors"
    assert detect_format(saved("two_layer_net", tmp_path, "state_dict")) == "torch.save"


def test_torchscript_without_inputs_asks_for_a_spec_and_uses_it(tmp_path: Path) -> None:
    path = saved("two_layer_net", tmp_path, "torchscript")
    (tmp_path / "two_layer_net.inputs.pt").unlink()
    with pytest.raises(ChoiceNeededError, match=r"two_layer_net\.inputs\.pt"):
        load_model(LoadRequest(str(path)))
    loaded = load_model(LoadRequest(str(path), input_spec="7x8:float32"))
    assert loaded.inputs[0].shape == (7, 8)


def test_an_exported_program_opens_structure_only(tmp_path: Path) -> None:
    loaded = load_model(
        LoadRequest(str(saved("two_layer_net", tmp_path, "export")), structure_only=True)
    )
    assert all(p.is_meta for p in loaded.model.parameters()) and loaded.inputs[0].is_meta
