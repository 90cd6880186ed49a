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


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_paragraph_is_said_twice() -> None:
    paragraphs = [" ".join(p.split()) for p in _readme().split("\n\n") if p.strip()]
    prose = [p for p in paragraphs if len(p) > 60 and not p.startswith(("|", "```", "#"))]
    twice = {p[:60] for p in prose if prose.count(p) > 1}
    assert not twice
    assert _readme().count("Refresh the screenshots") == 1


def test_troubleshooting_lists_the_libraries_qts_xcb_platform_needs() -> None:
    said = " ".join(_readme().split("## Troubleshooting")[1].split())
    packages = (
        "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
        "libxcb-shape0 libxcb-randr0 libxkbcommon-x11-0"
    )
    assert f"apt-get install {packages}" in said


def test_the_command_line_section_documents_writing_to_stdout() -> None:
    section = _readme().split("## Command line")[1].split("\n## ")[0]
    assert "graphviz-app export model.py -o - > g.svg" in section
    assert "`-o -` writes the file to standard output" in section
