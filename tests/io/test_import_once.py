"""A file's top-level code runs once per open: a class file whose top level fails
goes on after the statement that failed (it is not run again from the start), and a
script that fails before its first backward call shows its model class without
running what it already ran. What failed is said, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_helpers import DATA

from graphviz_app.io.load_errors import ChoiceNeededError
from graphviz_app.io.loaders import load_model
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.session import ModelSession

HOSTILE, SCRIPTS = DATA / "hostile", DATA / "scripts"


def test_a_class_file_that_exits_at_import_runs_its_top_level_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    loaded = load_model(LoadRequest(str(HOSTILE / "usage_exit.py")))
    assert capsys.readouterr().out.count("usage: run me interactively") == 1
    assert loaded.name == "usage_exit.Net"
    assert loaded.notes[0].startswith(
        "Importing usage_exit.py called sys.exit(0) at usage_exit.py:19: the file tried "
        "to end the program. The rest of its top level ran without loops"
    )


def test_statements_after_the_one_that_failed_still_run_with_the_files_features(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "later.py"
    path.write_text(
        "from __future__ import annotations\nimport dataclasses\nimport torch\n"
        "print('top')\n"
        "for _ in range(2):\n    print('loop')\n"
        "data = torch.load('graphviz_app_no_such_file.pt')\n"
        "@dataclasses.dataclass\nclass Config:\n    inner: Later | None = None\n"
        "    width: int = 3\n"
        "class Later:\n    pass\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self, config: Config):\n        super().__init__()\n"
        "        self.fc = torch.nn.Linear(config.width, 1)\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    )
    loaded = load_model(LoadRequest(str(path)))
    assert capsys.readouterr().out == "top\nloop\nloop\n"  # each once, the loop before too
    assert loaded.model.fc.in_features == 3  # Config() built: `Later` read as a string
    assert any("line 7: data = torch.load(" in note for note in loaded.notes)


def test_a_script_that_fails_before_backward_does_not_run_its_top_level_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session, output = ModelSession(), ScriptOutput()
    request = LoadRequest(str(SCRIPTS / "prints_then_import_fails.py"))
    try:
        loaded = session.load(request, output=output)
    finally:
        session.scripts.close()
    assert loaded.name == "prints_then_import_fails.Net"
    printed = capsys.readouterr().out + output.take()  # the lenient run's, the script's
    assert printed.count("banner: training starts") == 1
    said = " ".join(loaded.notes)
    assert "No module named 'graphviz_app_no_such_dataset_package'" in said
    assert "Import failed, ignored: line 8: import graphviz_app_no_such_dataset_package" in said


def test_a_script_whose_class_cannot_open_either_says_both_and_the_forward_errors() -> None:
    session = ModelSession()
    with pytest.raises(ChoiceNeededError) as raised:
        session.load(LoadRequest(str(SCRIPTS / "plot_import_fails.py")))
    session.scripts.close()
    text = raised.value.summary
    assert text.startswith(
        "plot_import_fails.py raised ModuleNotFoundError: No module named "
        "'graphviz_app_no_such_plot_package' (at plot_import_fails.py:5), before its first "
        "backward call; its model class did not open instead either: "
    )
    assert "no input shape ran a forward" in text
    assert "mat1 and mat2 must have the same dtype, but got Double and Float." in text
    assert "Import failed, ignored: line 5: import graphviz_app_no_such_plot_package" in text
