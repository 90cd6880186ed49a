"""Constructor arguments: what is said and what is done agree. Guesses fill every
parameter left empty (with --args given or not), a string the class compares with
is guessed from its own code, the error lists every parameter still missing with an
example --args of plausible values, and a forward that needs the model's own state
(``forward(input, hidden)``) gets it from ``init_hidden()``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from io_helpers import DATA

from graphviz_app.io.load_errors import ChoiceNeededError
from graphviz_app.io.loaders import load_model
from graphviz_app.io.python_source import parse_source
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.source_facts import compared_strings

CLASSES = DATA / "classes"
RNN = CLASSES / "rnn_model.py"


def test_the_strings_a_class_compares_a_parameter_with_are_read_in_source_order() -> None:
    found = compared_strings(parse_source(RNN), "RNNModel")
    assert found["rnn_type"] == ("LSTM", "GRU")  # `in ['LSTM', 'GRU']`, then `== 'LSTM'`


def test_a_dict_lookup_and_a_chained_comparison_give_strings_too(tmp_path: Path) -> None:
    path = tmp_path / "cells.py"
    path.write_text(
        "import torch\nclass Cell(torch.nn.Module):\n"
        "    def __init__(self, kind, mode):\n        super().__init__()\n"
        "        act = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[kind]\n"
        "        if 'a' == mode != 'b':\n            pass\n"
    )
    found = compared_strings(parse_source(path), "Cell")
    assert found == {"kind": ("RNN_TANH", "RNN_RELU"), "mode": ("a", "b")}


def test_an_rnn_model_with_no_arguments_opens_with_the_strings_and_sizes_guessed() -> None:
    loaded = load_model(LoadRequest(str(RNN)))
    model = loaded.model
    # 'LSTM' is compared first, but its state is a pair no input can be: 'GRU' runs.
    assert model.rnn_type == "GRU" and isinstance(model.rnn, torch.nn.GRU)
    assert model.ntoken == 100 and model.nhid == 128 and model.nlayers == 2
    tokens, hidden = loaded.inputs
    assert tokens.dtype == torch.int64 and hidden.shape == (2, tokens.shape[1], 128)
    said = "; ".join(loaded.guesses)
    assert "rnn_type='GRU'" in said and "its code compares it with 'LSTM', 'GRU'" in said
    assert "rnn_type='LSTM' was tried first" in said
    assert "its state from init_hidden(8)" in said
    output, _ = model(*loaded.inputs)  # the graph is torch's own: the forward runs
    assert output.shape == (8, 100)


def test_arguments_given_for_some_parameters_leave_the_others_guessed() -> None:
    loaded = load_model(LoadRequest(str(RNN), init_args="rnn_type='GRU', nhid=32"))
    assert loaded.model.nhid == 32 and loaded.model.ntoken == 100  # given, and guessed
    assert loaded.resolved is not None
    assert loaded.resolved.init_args == "rnn_type='GRU', nhid=32, ntoken=100, ninp=64, nlayers=2"


def test_the_tuple_and_dict_forms_of_args_leave_the_others_guessed_too() -> None:
    loaded = load_model(LoadRequest(str(RNN), init_args="{'rnn_type': 'GRU', 'ntoken': 7}"))
    assert loaded.model.ntoken == 7 and loaded.model.nhid == 128
    assert loaded.resolved is not None
    assert loaded.resolved.init_args.startswith("rnn_type='GRU', ntoken=7, ninp=64")


def test_a_string_whose_state_cannot_be_an_input_is_explained() -> None:
    with pytest.raises(ChoiceNeededError) as raised:
        load_model(LoadRequest(str(RNN), init_args="rnn_type='LSTM'"))
    text = raised.value.summary
    assert "besides the rnn_type='LSTM' given" in text
    assert "missing 1 required positional argument: 'hidden'" in text
    assert "init_hidden(1): it returns 2 tensors (an LSTM's (h, c) pair)" in text


def _write_needy(tmp_path: Path) -> Path:
    path = tmp_path / "needy.py"
    path.write_text(
        "import torch\nclass Needy(torch.nn.Module):\n"
        "    def __init__(self, activation: str, cell_type, hidden_size, weight: float):\n"
        "        super().__init__()\n"
        "        self.fc = torch.nn.Linear(hidden_size, 1)\n"
        "        self.act = getattr(torch, activation)\n"
        "    def forward(self, x):\n        return self.act(self.fc(x))\n"
    )
    return path


def test_the_error_lists_every_parameter_still_missing_with_plausible_values(
    tmp_path: Path,
) -> None:
    path = _write_needy(tmp_path)
    with pytest.raises(ChoiceNeededError) as raised:
        load_model(LoadRequest(str(path)))
    text = raised.value.summary
    assert "needs activation, cell_type, weight, and nothing in the file gives them" in text
    assert "--args \"activation='relu', cell_type='...', weight=0.1\"" in text  # no 16s
    with pytest.raises(ChoiceNeededError) as raised:
        load_model(LoadRequest(str(path), init_args="activation='tanh'"))
    text = raised.value.summary
    assert "needs cell_type, weight besides the activation='tanh' given" in text
    assert "--args \"activation='tanh', cell_type='...', weight=0.1\"" in text


def test_filling_what_is_missing_opens_it_with_the_sizes_guessed(tmp_path: Path) -> None:
    path = _write_needy(tmp_path)
    request = LoadRequest(str(path), init_args="activation='tanh', cell_type='x', weight=1.0")
    loaded = load_model(request)
    assert loaded.model.fc.in_features == 64  # hidden_size, chosen by its name
    assert "hidden_size chosen by their names" in "; ".join(loaded.guesses)
