"""Python model files: conventions, class discovery with arguments, definitions only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from io_helpers import MODELS

from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.load_errors import ChoiceNeededError, ModelFileError
from graphviz_app.io.loaders import detect_format, load_model
from graphviz_app.io.loaders.python import parse_init_args
from graphviz_app.io.python_source import InitParam, summarize_source
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import ModelSession

CLASSES = MODELS / "classes_only.py"
SCRIPT = MODELS / "tutorial_script.py"


def test_a_conventions_file_loads_its_model_and_inputs() -> None:
    loaded = load_model(LoadRequest(str(resolve_model("two_layer_net"))))
    assert loaded.format == "python" and loaded.name == "two_layer_net"
    assert loaded.inputs[0].shape == (5, 8) and loaded.loss_fn is not None


def test_an_input_spec_overrides_example_inputs() -> None:
    request = LoadRequest(str(resolve_model("two_layer_net")), input_spec="3x8:float64")
    (x,) = load_model(request).inputs
    assert x.shape == (3, 8) and x.dtype == torch.float64


def test_the_summary_lists_module_classes_and_their_constructor_forms() -> None:
    summary = summarize_source(CLASSES)
    assert not summary.follows_conventions
    assert [c.name for c in summary.classes] == ["Encoder", "Net", "WiderNet"]
    encoder, net, wider = summary.classes
    assert encoder.params == (
        InitParam("vocab", "int"),
        InitParam("dim", "int", "8"),
        InitParam("scale", "float", "1.0", keyword_only=True),
    )
    assert net.params[2] == InitParam("hidden", "int", "HIDDEN")
    assert wider.params == net.params  # inherited from a class of the file
    assert encoder.doc.startswith("Token ids")


def test_a_class_that_is_not_there_is_refused_naming_the_others() -> None:
    with pytest.raises(ChoiceNeededError, match="Encoder, Net, WiderNet"):
        load_model(LoadRequest(str(CLASSES), class_name="Nope"))


def test_a_chosen_class_is_built_with_literal_arguments_and_a_spec() -> None:
    request = LoadRequest(str(CLASSES), "Encoder", "(100, 4)", "2x5:int64[0,100)")
    loaded = load_model(request)
    assert loaded.name == "classes_only.Encoder"
    assert loaded.model.embed.weight.shape == (100, 4)
    run = ModelSession().load(request)
    assert run.model(*run.inputs).shape == (2, 5, 4)


def test_keyword_arguments_reach_the_constructor() -> None:
    request = LoadRequest(str(CLASSES), "Net", "3, 2, hidden=7", "4x3:float32")
    assert load_model(request).model.fc1.out_features == 7
    request = LoadRequest(str(CLASSES), "Net", "{'in_features': 3, 'out_features': 2}", "1x3")
    assert load_model(request).model.fc2.out_features == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ((), {})),
        ("(1, 2)", ((1, 2), {})),
        ("(1)", ((1,), {})),
        ("((1, 2),)", (((1, 2),), {})),
        ("{'n': 3}", ((), {"n": 3})),
        ("1, 'a', n=[1, 2]", ((1, "a"), {"n": [1, 2]})),
    ],
)
def test_constructor_arguments_are_python_literals(text: str, expected: object) -> None:
    assert parse_init_args(text) == expected


def test_code_in_arguments_is_refused() -> None:
    with pytest.raises(ModelFileError, match="Python literals"):
        parse_init_args("__import__('os').getcwd()")


def test_a_missing_class_and_a_non_module_class_are_explained() -> None:
    for name in ("Nope", "NotAModel"):
        with pytest.raises(ChoiceNeededError, match=f"no nn.Module class '{name}'"):
            load_model(LoadRequest(str(CLASSES), name, "(1,)", "1x1"))


def test_a_class_without_spec_or_example_inputs_gets_its_first_layers_input() -> None:
    loaded = load_model(LoadRequest(str(CLASSES), "Net", "(3, 2)"))
    assert loaded.inputs[0].shape == (1, 3)
    assert loaded.guesses == (
        "input 1x3:float32 from fc1 = Linear(in_features=3, out_features=16, bias=True)",
    )


def test_definitions_only_skips_the_training_loop_and_reports_it(marker: Path) -> None:
    summary = summarize_source(SCRIPT)
    assert [s.text[:12] for s in summary.skipped] == [
        "model = Smal",
        "optimizer = ",
        "for _epoch i",
        'print("done"',
    ]
    request = LoadRequest(str(SCRIPT), "SmallNet", "", "8x4", definitions_only=True)
    loaded = load_model(request)
    assert not marker.exists(), "the training loop ran"
    assert loaded.model.fc1.out_features == 6
    notes = "\n".join(loaded.notes)
    assert "Skipped (definitions only) lines 36-40: for _epoch in range(EPOCHS):" in notes
    assert "Import failed, ignored: line 14: import graphviz_app_no_such_dataset_package" in notes


def test_running_the_whole_script_trains_and_fails_on_its_import(marker: Path) -> None:
    with pytest.raises(ModelFileError, match="No module named 'graphviz_app_no_such_dataset"):
        load_model(LoadRequest(str(SCRIPT), "SmallNet", "", "8x4"))
    assert not marker.exists()  # the import fails before the loop


def test_a_class_that_needs_a_failed_import_names_it(tmp_path: Path) -> None:
    path = tmp_path / "needs_vision.py"
    path.write_text(
        "import torch\nimport graphviz_app_no_such_pkg as vis\n"
        "class M(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.t = vis.Transform()\n"
    )
    request = LoadRequest(str(path), "M", "", "1x1", definitions_only=True)
    with pytest.raises(ModelFileError, match=r"needs_vision.py:6\).*import that failed: line 2"):
        load_model(request)


def test_a_py_file_is_detected_as_python_even_without_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_text((resolve_model("two_layer_net")).read_text())
    assert detect_format(path) == "python"


def test_structure_only_builds_on_the_meta_device() -> None:
    request = LoadRequest(str(resolve_model("residual_cnn")), structure_only=True)
    loaded = load_model(request)
    assert loaded.structure_only
    assert all(p.is_meta for p in loaded.model.parameters())
    assert all(x.is_meta for x in loaded.inputs)


TARGETED = '''
import torch
from torch import nn

def build_model():
    torch.manual_seed(0)
    return nn.Linear(3, 4)

def example_inputs():
    return torch.randn(6, 3, generator=torch.Generator().manual_seed(2))

def example_target():
    return torch.tensor([0, 1, 2, 3, 0, 1])
'''


def test_example_target_feeds_a_standard_loss(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from graphviz_app.core.layout.style import GraphStyle
    from graphviz_app.core.training.trainer import TrainSettings

    path = tmp_path / "targeted.py"
    path.write_text(TARGETED)
    session = ModelSession()
    loaded = session.load(path)
    assert loaded.example_target is not None
    assert loaded.example_target.tolist() == [0, 1, 2, 3, 0, 1]
    model, x = loaded.model, loaded.inputs[0]
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(model(x), loaded.example_target)
    step = session.train_one(TrainSettings(loss="CrossEntropy"), GraphStyle())
    assert step.record.loss == pytest.approx(float(expected))
