"""The input-spec syntax: shapes, dtypes, integer ranges, several inputs, errors."""

from __future__ import annotations

import pytest
import torch

from graphviz_app.io.input_spec import TensorSpec, make_inputs, parse_input_spec, spec_of
from graphviz_app.io.load_errors import InputSpecError


def test_a_float_image_batch() -> None:
    (spec,) = parse_input_spec("1x3x32x32:float32")
    assert spec == TensorSpec((1, 3, 32, 32), torch.float32)
    (x,) = make_inputs((spec,))
    assert x.shape == (1, 3, 32, 32) and x.dtype == torch.float32


def test_token_ids_stay_in_their_range_and_repeat_from_the_seed() -> None:
    specs = parse_input_spec("4x16:int64[0,1000)")
    (ids,) = make_inputs(specs)
    assert ids.dtype == torch.int64 and ids.shape == (4, 16)
    assert int(ids.min()) >= 0 and int(ids.max()) < 1000
    assert torch.equal(ids, make_inputs(specs)[0])


def test_several_inputs_default_dtype_scalar_and_float_range() -> None:
    x, y, s = make_inputs(parse_input_spec("8x10; 8:long[0,10) ; scalar:float64[2,3)"))
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and s.shape == ()
    assert 2.0 <= float(s) < 3.0


def test_meta_inputs_hold_no_values() -> None:
    (x,) = make_inputs(parse_input_spec("2x3:float16"), "meta")
    assert x.is_meta and x.dtype == torch.float16


def test_the_text_round_trips() -> None:
    assert spec_of((torch.zeros(2, 3), torch.zeros(4, dtype=torch.int64))) == (
        "2x3:float32; 4:int64"
    )
    assert parse_input_spec("4x16:int64[0,1000)")[0].text() == "4x16:int64[0,1000)"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Empty input spec"),
        ("1x3x:float32", "Cannot read the input spec"),
        ("3x4:complex7", "Unknown dtype 'complex7'"),
        ("4:int64[5,5)", "range in '4:int64[5,5)' is empty"),
        ("2x2;", "Empty input spec"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(InputSpecError, match=words.replace("[", r"\[").replace(")", r"\)")):
        parse_input_spec(text)
