"""The command line's own behaviour: bare ``wheel2conda``, "did you mean", and a reader that leaves early."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli import main, stdout_reader_gone
from tests.support.wheels import build_wheel

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_bare_wheel2conda_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([], capsys)
    assert code == 0 and err == ""
    assert out.startswith("usage: wheel2conda ") and "convert      convert wheels into conda packages" in out and "exit codes:" in out


@pytest.mark.parametrize(
    ("argv", "usage", "error"),
    [
        (["covert", "x.whl"], "usage: wheel2conda [-h]", "wheel2conda: error: unknown command 'covert'; did you mean 'convert'? (commands: inspect, convert, to-wheel,"),
        (["towheel", "x.conda"], "usage: wheel2conda [-h]", "unknown command 'towheel'; did you mean 'to-wheel'?"),
        (["frobnicate"], "usage: wheel2conda [-h]", "wheel2conda: error: unknown command 'frobnicate' (commands: inspect, convert,"),
        (["channel", "lst", "ch"], "usage: wheel2conda channel [-h]", "wheel2conda channel: error: unknown verb 'lst'; did you mean 'list'? (verbs: list, search, yank, unyank, remove, verify)"),
        (["recipes", "biuld"], "usage: wheel2conda recipes [-h]", "wheel2conda recipes: error: unknown action 'biuld'; did you mean 'build'?"),
        (["convert", "--chanel", "ch", "x.whl"], "usage: wheel2conda convert [-h]", "wheel2conda convert: error: unrecognized arguments: --chanel; did you mean --channel?"),
        (["convert", "--chanel=ch", "--forse", "x.whl"], "usage: wheel2conda convert [-h]", "did you mean --channel for --chanel, --force for --forse?"),
        (["channel", "list", "ch", "--subdr", "noarch"], "usage: wheel2conda channel list [-h]", "wheel2conda channel list: error: unrecognized arguments: --subdr noarch; did you mean --subdir?"),
        (["convert", "--format", "tre", "x.whl"], "usage: wheel2conda convert [-h]", "argument --format: invalid choice: 'tre'; did you mean 'tree'? (choose from conda, tar.bz2, tree)"),
        (["index", "ch", "--zzz"], "usage: wheel2conda index [-h]", "wheel2conda index: error: unrecognized arguments: --zzz"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_unknown_words_get_a_guess_and_their_own_usage(argv: list[str], usage: str, error: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert err.startswith(usage), err
    assert error in err.splitlines()[-1], err
    assert err.count("error:") == 1


def test_unknown_command_in_json_mode_is_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, out, err = run(["--json", "covert"], capsys)
    doc = json.loads(out)
    assert code == 2 and doc["exit_code"] == 2 and "did you mean 'convert'?" in doc["errors"][0]["reason"]


# -- a reader that leaves early ------------------------------------------------------------------


def _run_into_closed_pipe(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``wheel2conda ARGV | head -0``, deterministically: the pipe's reader is gone before the first write."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, "-m", "bridge", *argv], stdout=write, stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=120)
    finally:
        os.close(write)


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("pipe")
    wheels = [build_wheel(work, f"pkg{i}", "1.0", files={f"pkg{i}/__init__.py": ""}) for i in range(3)]
    assert main(["convert", "-q", "--channel", str(work / "ch"), *map(str, wheels)]) == 0
    return work / "ch"


@pytest.mark.parametrize("argv", [["channel", "list", "CH"], ["channel", "list", "--json", "CH"], ["inspect", "CH/noarch"], ["--help"], ["convert", "--help"]], ids=" ".join)
def test_broken_pipe_ends_quietly_with_exit_0(argv: list[str], channel: Path) -> None:
    done = _run_into_closed_pipe(*[a.replace("CH", str(channel)) for a in argv], cwd=channel.parent)
    assert (done.returncode, done.stderr) == (0, "")


def test_stdout_reader_gone_tells_stdout_from_other_pipes() -> None:
    read, write = os.pipe()
    with os.fdopen(write, "w") as stream:
        assert not stdout_reader_gone(stream)  # a reader is there
        os.close(read)
        assert stdout_reader_gone(stream)  # nothing buffered: closing it writes nothing
    assert not stdout_reader_gone(io.StringIO())  # not a file: the broken pipe was something else's
