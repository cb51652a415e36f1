"""Start-up: a run imports only its command's module, and ``--version``/``--help`` no library.

What each command line imports is checked here; how long it takes is measured by
``make bench`` (``bench/bench_startup.py``), not here (tests are not timing-sensitive).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge import __version__
from bridge.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]

#: Libraries a command loads when it works, never to start (the issue names the first four).
HEAVY = ("rattler", "yaml", "tqdm", "multiprocessing", "zstandard", "conda_package_streaming", "elftools", "pefile", "macholib", "concurrent", "packaging", "urllib.request", "http")
#: wheel2conda modules a parser may need: the dispatcher, output, errors and help-text defaults.
LIGHT = {"bridge", "bridge.core", "bridge.core.errors", "bridge.sinks", "bridge.sinks.zstd_levels", "bridge.recipes", "bridge.recipes.cachedir"}

_IMPORTED = """
import sys
from bridge.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout.flush()
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by(*argv: str) -> set[str]:
    """Modules loaded by ``wheel2conda ARGV`` in a fresh interpreter (as the console script runs it)."""
    done = subprocess.run([sys.executable, "-c", _IMPORTED, *argv], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(done.stderr.split())


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)


def test_version_imports_no_library() -> None:
    modules = imported_by("--version")
    assert not heavy(modules), heavy(modules)
    assert {m for m in modules if m.startswith("bridge")} == {"bridge", "bridge.core", "bridge.core.errors", "bridge.cli", "bridge.cli.output"}


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["convert", "--help"], ["inspect", "--help"], ["to-wheel", "--help"], ["publish", "--help"], ["channel", "list", "--help"], ["verify", "--help"], ["recipes", "build", "--help"], ["repack", "--help"]],
    ids=" ".join,
)
def test_help_imports_no_library(argv: list[str]) -> None:
    modules = imported_by(*argv)
    assert not heavy(modules), heavy(modules)
    library = {m for m in modules if m.startswith("bridge") and not m.startswith("bridge.cli")}
    assert library <= LIGHT, sorted(library - LIGHT)


def test_a_command_imports_only_its_own_module() -> None:
    modules = imported_by("index", "--help")
    # channel's --verify options; bridge.cli.args: the option checks every command shares (no library)
    assert {m for m in modules if m.startswith("bridge.cli.")} == {"bridge.cli.output", "bridge.cli.args", "bridge.cli.channel", "bridge.cli.verify"}


def test_the_command_table_is_what_the_modules_register() -> None:
    def registered(parser) -> list[str]:
        return list(next(a for a in parser._actions if a.dest == "command").choices)

    assert registered(build_parser()) == list(COMMANDS)  # also the --help order
    for command in COMMANDS:
        assert command in registered(build_parser(commands=[command]))


def test_python_m_bridge_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "bridge", "--version"], capture_output=True, text=True, cwd="/")
    assert (done.returncode, done.stdout) == (0, f"wheel2conda {__version__}\n"), done.stderr
