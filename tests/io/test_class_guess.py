"""Class files with no flags: the class, its arguments and its input are guessed, each
guess said, and whatever the user gives (--class, --args, --input, example_inputs())
wins."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from io_helpers import DATA, MODELS

from graphviz_app.io.load_errors import ChoiceNeededError, ModelFileError
from graphviz_app.io.loaders import load_model
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import ModelSession

CLASSES = DATA / "classes"


def test_a_config_dataclass_model_opens_with_its_config_and_token_ids() -> None:
    loaded = load_model(LoadRequest(str(CLASSES / "config_gpt.py")))
    assert loaded.name == "config_gpt.GPT"
    assert loaded.model.config.n_embd == 16  # GPTConfig() with its defaults
    (ids,) = loaded.inputs
    assert ids.dtype == torch.int64 and ids.shape == (1, 8) and int(ids.max()) < 50
    said = "; ".join(loaded.guesses)
    assert "class GPT" in said and "GPT(config=GPTConfig())" in said
    assert "input 1x8:int64[0,50) from wte = Embedding(50, 16)" in said
    assert loaded.resolved is not None
    assert loaded.resolved.class_name == "GPT" and loaded.resolved.input_spec == "1x8:int64[0,50)"


def test_a_conv_net_without_example_input_gets_the_size_its_layers_need() -> None:
    loaded = load_model(LoadRequest(str(CLASSES / "conv_net.py")))
    (x,) = loaded.inputs
    assert x.shape == (1, 1, 32, 32)  # 28x28 would not fit fc1 = Linear(400, 120)
    assert loaded.model(x).shape == (1, 10)
    assert any("1x1x32x32:float32 from conv1 = Conv2d(1, 6" in g for g in loaded.guesses)


def test_a_constant_named_like_a_parameter_fills_it_and_an_rnn_model_runs() -> None:
    loaded = load_model(LoadRequest(str(CLASSES / "embedding_model.py")))
    assert loaded.model.embed.num_embeddings == 100  # VOCAB_SIZE
    assert "TextModel(vocab_size=100)" in "; ".join(loaded.guesses)
    assert loaded.model(*loaded.inputs).shape == (1, 8, 100)


def test_the_files_own_call_gives_arguments_and_input() -> None:
    loaded = load_model(LoadRequest(str(CLASSES / "demo_call.py")))
    assert loaded.model.mix.out_features == 5
    assert loaded.inputs[0].shape == (3, 4, 7)
    assert "Mixer(7, hidden=5)" in "; ".join(loaded.guesses)


def test_what_nothing_gives_is_listed_with_an_example() -> None:
    with pytest.raises(ChoiceNeededError) as raised:
        load_model(LoadRequest(str(CLASSES / "needs_args.py")))
    text = raised.value.summary
    assert "Projection(in_features: int, activation: str, bias: bool = True)" in text
    assert "needs activation, and nothing in the file gives it" in text
    assert "--class Projection --args \"activation='relu'\"" in text


def test_sizes_nothing_gives_are_chosen_by_name_and_said() -> None:
    loaded = load_model(LoadRequest(str(CLASSES / "vit_like.py")))
    assert loaded.model.head.out_features == 10 and loaded.inputs[0].shape == (1, 3, 32, 32)
    said = "; ".join(loaded.guesses)
    assert "ViT(image_size=32, patch_size=8, num_classes=10, dim=64, depth=2, heads=4" in said
    assert "chosen by their names: the file gives none" in said


def test_sizes_chosen_by_name_that_do_not_run_are_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "picky.py"
    path.write_text(
        "import torch\nclass Picky(torch.nn.Module):\n"
        "    def __init__(self, dim):\n        super().__init__()\n"
        "        assert dim == 7, 'dim must be 7'\n        self.fc = torch.nn.Linear(dim, 1)\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    )
    with pytest.raises(ChoiceNeededError, match=r"needs dim.*values guessed for them did not work"):
        load_model(LoadRequest(str(path)))


def test_the_users_choices_win_over_every_guess() -> None:
    request = LoadRequest(
        str(CLASSES / "config_gpt.py"),
        class_name="GPT",
        init_args="config=GPTConfig(vocab_size=20, n_layer=1)",  # the file's own class
        input_spec="2x5:int64[0,20)",
    )
    loaded = load_model(request)
    assert len(loaded.model.blocks) == 1 and loaded.model.wte.num_embeddings == 20
    assert loaded.inputs[0].shape == (2, 5) and loaded.guesses == ()


def test_arguments_may_not_run_code(tmp_path: Path) -> None:
    request = LoadRequest(str(CLASSES / "needs_args.py"), "Projection", "__import__('os')")
    with pytest.raises(ModelFileError, match="only literals, the file's module-level names"):
        load_model(request)


def test_example_inputs_win_over_a_guess(tmp_path: Path) -> None:
    path = tmp_path / "with_inputs.py"
    path.write_text(
        "import torch\nclass Net(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.fc = torch.nn.Linear(3, 1)\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
        "def example_inputs():\n    return torch.ones(7, 3)\n"
    )
    loaded = load_model(LoadRequest(str(path)))
    assert loaded.inputs[0].shape == (7, 3) and not any("input" in g for g in loaded.guesses)


def test_an_input_nothing_can_guess_asks_for_a_spec(tmp_path: Path) -> None:
    path = tmp_path / "odd.py"
    path.write_text(
        "import torch\nclass Odd(torch.nn.Module):\n"
        "    def forward(self, x, y):\n        return x * y\n"
    )
    with pytest.raises(ChoiceNeededError, match="no input shape ran a forward"):
        load_model(LoadRequest(str(path)))


def test_guessing_leaves_batch_norm_statistics_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "normed.py"
    path.write_text(
        "import torch\nfrom torch import nn\nclass Normed(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 4, 3)\n        self.bn = nn.BatchNorm2d(4)\n"
        "        self.fc = nn.Linear(4 * 62 * 62, 2)\n"
        "    def forward(self, x):\n        return self.fc(self.bn(self.conv(x)).flatten(1))\n"
    )
    loaded = load_model(LoadRequest(str(path)))
    assert loaded.inputs[0].shape == (1, 3, 64, 64)  # after 32x32 and 28x28 failed in fc
    assert torch.equal(loaded.model.bn.running_mean, torch.zeros(4))
    assert int(loaded.model.bn.num_batches_tracked) == 0


def test_a_file_with_no_autograd_says_so_and_runs_nothing(marker: Path, tmp_path: Path) -> None:
    path = tmp_path / "by_hand.py"
    path.write_text(
        "import os\nfrom pathlib import Path\n"
        "Path(os.environ['GRAPHVIZ_APP_TEST_MARKER']).write_text('ran')\n"
        "w = 0.5\nfor _ in range(3):\n    w -= 0.1 * 2 * w\n"
    )
    with pytest.raises(ModelFileError, match="does no autograd") as raised:
        ModelSession().load(LoadRequest(str(path)))
    assert "choose the class" not in raised.value.summary
    assert not marker.exists()


def test_of_several_classes_the_last_defined_is_built_and_the_others_named() -> None:
    loaded = load_model(LoadRequest(str(MODELS / "classes_only.py")))
    assert loaded.name == "classes_only.WiderNet"
    assert loaded.guesses[0] == (
        "class WiderNet (the last nn.Module defined that no other class builds; "
        "the others: Encoder, Net)"
    )


def test_the_layer_forward_starts_with_gives_the_input(tmp_path: Path) -> None:
    """The word language model of PyTorch's examples subclasses nn.Transformer: its
    encoder's Linear layers are registered before the embedding its forward starts with,
    and float inputs sized for them all fail (an embedding takes token ids)."""
    path = tmp_path / "lm.py"
    path.write_text(
        "import torch\nfrom torch import nn\n"
        "class TransformerLM(nn.Transformer):\n"
        "    def __init__(self, ntoken, ninp):\n"
        "        super().__init__(d_model=ninp, nhead=2, dim_feedforward=32,\n"
        "                         num_encoder_layers=2)\n"
        "        self.input_emb = nn.Embedding(ntoken, ninp)\n"
        "        self.decoder = nn.Linear(ninp, ntoken)\n"
        "    def forward(self, src):\n"
        "        return self.decoder(self.encoder(self.input_emb(src)))\n"
    )
    loaded = load_model(LoadRequest(str(path)))
    (tokens,) = loaded.inputs
    assert tokens.dtype == torch.int64
    ntoken = loaded.model.input_emb.num_embeddings
    assert "from input_emb = Embedding" in "; ".join(loaded.guesses)
    assert int(tokens.max()) < ntoken
    assert loaded.model(*loaded.inputs).shape[-1] == ntoken  # the forward runs on it
