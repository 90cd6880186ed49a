"""Every file of tests/data/bad_models through the loader and the session: a clear
message naming the problem, never a crash; code in a pickle never runs unasked."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from io_helpers import BAD

from graphviz_app.core.autograd.forward import ForwardError
from graphviz_app.core.graph.walk import CaptureError
from graphviz_app.core.runtime.failures import first_sentence, plain_text
from graphviz_app.errors import USER_ERRORS, user_message
from graphviz_app.io import load_errors
from graphviz_app.io.load_errors import (
    ModelFileError,
    ModelTooLargeError,
    PickleConsentError,
    StateDictMismatchError,
)
from graphviz_app.io.loaders import load_model
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import ModelSession

LOAD_ERRORS = [
    ("syntax_error.py", ModelFileError, "syntax_error.py:5: syntax error"),
    ("import_error.py", ModelFileError, "No module named 'graphviz_app_no_such_module'"),
    (
        "init_raises.py",
        ModelFileError,
        "ValueError: width 4 is not supported (at init_raises.py:8)",
    ),
    ("empty.py", ModelFileError, "empty.py is empty"),
    ("binary.py", ModelFileError, "binary.py is not a Python file: it holds binary data"),
    ("truncated_torchscript.pt", ModelFileError, "damaged zip archive"),
    ("too_large.py", ModelTooLargeError, "needs more memory than this machine has"),
    ("pickle_marker.pt", PickleConsentError, "loading it runs code stored in the file"),
]
# The user's file:line when the error is raised in it (an nn.Sequential of torch layers
# has no line of the user's in its traceback).
FORWARD_ERRORS = [
    ("forward_raises.py", ForwardError, "KeyError", "forward_raises.py:12"),
    ("wrong_input_shape.py", ForwardError, "shapes cannot be multiplied", "(2x5 and 8x4)"),
    ("no_grad_output.py", CaptureError, "does not require grad", ""),
]


@pytest.mark.parametrize(("name", "error", "words"), LOAD_ERRORS)
def test_a_bad_file_is_a_load_error_naming_the_problem(
    name: str, error: type[Exception], words: str, marker: Path
) -> None:
    with pytest.raises(error) as raised:
        load_model(LoadRequest(str(BAD / name)))
    assert words in user_message(raised.value)
    assert isinstance(raised.value, USER_ERRORS)
    assert not marker.exists()


@pytest.mark.parametrize(("name", "error", "words", "where"), FORWARD_ERRORS)
def test_a_bad_forward_is_reported_with_the_users_line(
    name: str, error: type[Exception], words: str, where: str
) -> None:
    session = ModelSession()
    session.load(LoadRequest(str(BAD / name)))
    with pytest.raises(error) as raised:
        session.forward()
    message = user_message(raised.value)
    assert words in message and where in message
    assert isinstance(raised.value, USER_ERRORS)


def test_nan_outputs_load_and_are_flagged_in_the_graph() -> None:
    session = ModelSession()
    session.load(LoadRequest(str(BAD / "nan_outputs.py")))
    graph = session.forward()
    flagged = [n for n in graph.nodes if n.tensor is not None and n.tensor.stats is not None]
    assert any(n.tensor.stats.nan_count > 0 for n in flagged if n.name == "LogBackward0")


def test_the_pickle_runs_only_with_consent(marker: Path) -> None:
    path = str(BAD / "pickle_marker.pt")
    with pytest.raises(PickleConsentError, match="--allow-pickle"):
        load_model(LoadRequest(path, structure_only=True))
    assert not marker.exists()
    with pytest.raises(ModelFileError, match="no state_dict in it"):
        load_model(LoadRequest(path, allow_pickle=True))
    assert marker.read_text() == "unpickled"  # consent given: its code did run


def test_a_state_dict_mismatch_lists_the_offending_keys() -> None:
    request = LoadRequest(
        str(BAD / "state_dict_mismatch.pt"), architecture=str(BAD / "state_dict_arch.py")
    )
    with pytest.raises(StateDictMismatchError) as raised:
        load_model(request)
    message = user_message(raised.value)
    assert "2 missing from the file: fc2.weight, fc2.bias" in message
    assert "1 in the file but not in the model: head.weight" in message


def test_the_too_large_model_opens_structure_only() -> None:
    loaded = load_model(LoadRequest(str(BAD / "too_large.py"), structure_only=True))
    assert loaded.model.weight.is_meta and loaded.model.weight.shape == (1_000_000, 1_000_000)
    session = ModelSession()
    session.load(LoadRequest(str(BAD / "too_large.py"), structure_only=True))
    names = [n.name for n in session.forward().nodes]
    assert "AddmmBackward0" in names


def test_every_load_error_is_a_user_error() -> None:
    classes = [v for v in vars(load_errors).values() if isinstance(v, type)]
    errors = [c for c in classes if issubclass(c, Exception)]
    assert len(errors) >= 6 and all(issubclass(c, USER_ERRORS) for c in errors)


def test_the_consent_message_names_what_the_pickle_runs_without_escape_codes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)  # a whole module
    with pytest.raises(PickleConsentError) as raised:
        load_model(LoadRequest(str(path)))
    text = raised.value.summary
    assert "\x1b" not in text and "[1m" not in text  # torch's words are for a terminal
    assert "(the pickle calls torch.nn.modules.container.Sequential, which torch's " in text
    assert text.endswith("on the command line: --allow-pickle).")


def test_escape_codes_are_taken_out_of_every_users_and_torchs_message() -> None:
    bold = "\x1b[1mdo this only if you trust it\x1b[0m.\x07"
    assert plain_text(bold) == "do this only if you trust it."
    assert ModelFileError(f"m.pt: {bold}").summary == "m.pt: do this only if you trust it."
    assert "\x1b" not in user_message(RuntimeError(bold))
    assert first_sentence("One (a.b) ends here. Two.\n\nThree") == "One (a.b) ends here."
