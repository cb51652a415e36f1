"""``docs/guide.md`` runs: every ``$ wheel2conda …`` line prints what the guide shows.

The guide runs once, top to bottom, in one working directory (``tests/support/guide.py``);
each command's output is then compared with its block, after the normalisation the guide
documents.  ``python -m tests.support.guide --write`` regenerates the outputs.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.support import guide

LINES = guide.GUIDE.read_text().splitlines()
STEPS = guide.parse(LINES)
COMMANDS = [c for s in STEPS for c in s.commands]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's working directory after running every step (commands keep their output)."""
    path = tmp_path_factory.mktemp("guide").resolve()
    guide.run_steps(STEPS, path)
    return path


@pytest.mark.e2e
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[f"{i:02d} {c.argv.removeprefix('wheel2conda ')}"[:60] for i, c in enumerate(COMMANDS)])
def test_command_prints_what_the_guide_shows(workdir: Path, index: int) -> None:
    command = COMMANDS[index]
    actual = [guide.shown(line, workdir) for line in command.actual]
    if guide.align(command.expected, actual) is None:
        diff = "\n".join(difflib.unified_diff(command.expected, actual, "docs/guide.md", "actual", lineterm=""))
        pytest.fail(f"$ {command.argv}\n{diff}\n(python -m tests.support.guide --write regenerates the guide)")


def test_the_guide_covers_the_tasks() -> None:
    runs = "\n".join(c.argv for c in COMMANDS)
    for needle in (
        "wheel2conda inspect --gpu-family gfx103X rocm-win/",  # look before converting
        "wheel2conda convert --dry-run",
        "wheel2conda convert --gpu-family gfx103X --channel win-channel rocm-win",  # ROCm for one family
        "wheel2conda convert --channel channel mirror/cu124",  # CUDA stack
        "--virtual __cuda=12.4 channel torch",  # variant at install time
        "wheel2conda to-wheel",
        "wheel2conda repack",
        "wheel2conda recipes regenerate",
        "wheel2conda recipes build",
        "--json",
    ):
        assert needle in runs, needle
    assert {p.name for p in guide.GUIDE.parent.glob("*.md")} >= {"json.md", "gpu.md", "recipes.md", "to-wheel.md"}
    for step in STEPS:
        assert step.kind != "console" or step.commands


@pytest.mark.parametrize(
    ("host", "text", "expected"),
    [
        ("3.11", "python >=3.11,<3.12.0a0 | python_abi 3.11.* *_cp311 | py311_cu124_100 | lib/python3.11/site", "python >=3.12,<3.13.0a0 | python_abi 3.12.* *_cp312 | py312_cu124_100 | lib/python3.12/site"),
        ("3.11", "win: python >=3.12,<3.13.0a0 cp312 py312", "win: python >=3.12,<3.13.0a0 cp312 py312"),
        ("3.13", "python >=3.13,<3.14.0a0 cp313 | win: >=3.12,<3.13.0a0 cp312", "python >=3.12,<3.13.0a0 cp312 | win: >=3.12,<3.13.0a0 cp312"),
        ("3.10", "3.10.0 3.100 13.10 cp310 x311", "3.12.0 3.100 13.10 cp312 x311"),
        ("3.12", "cp312 >=3.12,<3.13.0a0", "cp312 >=3.12,<3.13.0a0"),
    ],
)
def test_host_python_is_written_as_312(host: str, text: str, expected: str) -> None:
    assert guide.host_python(text, host) == expected


def test_masking_and_ellipsis() -> None:
    assert guide.masked('a.whl -> b.conda (2.6 KB, 0.1 s) "size": 2430, "seconds": 0.12 ' + "ab" * 32) == 'a.whl -> b.conda (<size>, <time>) "size": <n>, "seconds": <n> <sha256>'
    assert guide.align(["a", "...", "d"], ["a", "b", "c", "d"]) == [0, (1, 3), 3]
    assert guide.align(["a", "...", "d"], ["a", "d"]) == [0, (1, 1), 1]
    assert guide.align(["a", "(1.0 KB)"], ["a", "(9.9 MB)"]) == [0, 1]
    assert guide.align(["a"], ["a", "b"]) is None
    lines = ["```console", "$ wheel2conda x", "old", "...", "```"]
    steps = guide.parse(lines)
    steps[0].commands[0].actual = ["new", "more", "end"]
    assert guide.rewrite(lines, steps, Path("/nowhere")) == ["```console", "$ wheel2conda x", "new", "more", "end", "```"]
