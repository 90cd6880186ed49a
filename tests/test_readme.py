"""The README's two set-up commands stay true: CI runs the test command verbatim."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_COMMAND = "python3 -m pip install -e . && python3 -m graphviz_app"
TEST_COMMAND = 'python3 -m pip install -e ".[test]" && python3 -m pytest'


def test_readme_states_both_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert RUN_COMMAND in readme
    assert TEST_COMMAND in readme


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert TEST_COMMAND in ci_lines
