"""Issue 15 item 7, through the CLI: ``verify`` says each failure once and what to do when python
is missing; ``channel verify`` gives the fix for each kind of problem; a publish conflict names
the user's input, not a staging path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bridge.cli import main
from tests.support.wheels import build_wheel


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def packages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``convert -o`` of two pure wheels: ``noarch/demo-1.0-py_0.conda``, ``noarch/other-2.0-py_0.conda``."""
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "demo", "1.0", files={"demo/__init__.py": ""})
    build_wheel(wheels, "other", "2.0", files={"other/__init__.py": ""})
    out = tmp_path / "out"
    assert main(["convert", "-q", "-o", str(out), str(wheels)]) == 0
    return out


@pytest.mark.e2e
def test_verify_without_python_says_it_once_and_what_to_add(packages: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify", str(packages))
    assert code == 1
    assert out.splitlines() == [
        f"{packages}: 2 conda packages (noarch 2)",
        "FAIL noarch/demo-1.0-py_0.conda (for linux-64)",
        "  does not install for linux-64: nothing in the channels provides python *",
        "FAIL noarch/other-2.0-py_0.conda (for linux-64)",
        "  does not install for linux-64: nothing in the channels provides python *",
    ]
    assert err.splitlines() == [
        "wheel2conda: error: 2 of 2 packages failed verification (noarch/demo-1.0-py_0.conda, noarch/other-2.0-py_0.conda; above); "
        "python is in none of the channels: add --standin-python (offline: this interpreter stands in) or -c conda-forge"
    ]
    # -v shows the solver's own explanation as well
    code, out, _ = run(capsys, "verify", "-v", str(packages / "noarch" / "demo-1.0-py_0.conda"))
    assert "  └─ demo 1.0 would require" in out.splitlines()

    # -q: no blocks, so one line per failed package, each failure said once
    code, out, err = run(capsys, "verify", "-q", str(packages))
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == (
        "wheel2conda: error: noarch/demo-1.0-py_0.conda: verification failed: does not install for linux-64: nothing in the channels provides python *; "
        "python is in none of the channels: add --standin-python (offline: this interpreter stands in) or -c conda-forge"
    )
    assert len(lines) == 2 and all(line.count("python *") == 1 and line.count("demo") + line.count("other") == 1 for line in lines)

    # --json: one error per package, with the hint
    code = main(["verify", "--json", str(packages)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and [e["path"] for e in doc["errors"]] == ["noarch/demo-1.0-py_0.conda", "noarch/other-2.0-py_0.conda"]
    assert all("--standin-python" in e["hint"] for e in doc["errors"])

    # and the advice works
    code, out, err = run(capsys, "verify", str(packages), "--standin-python")
    assert code == 0 and "PASS noarch/demo-1.0-py_0.conda (for linux-64)" in out and err == ""


def test_channel_verify_gives_the_fix_for_each_problem(packages: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    channel = tmp_path / "channel"
    assert main(["publish", "-q", str(packages), "--channel", str(channel)]) == 0
    noarch = channel / "noarch"
    late = build_wheel(tmp_path / "late", "late", "3.0", files={"late/__init__.py": ""})
    assert main(["convert", "-q", "-o", str(tmp_path / "late-out"), str(late)]) == 0
    shutil.copy(tmp_path / "late-out" / "noarch" / "late-3.0-py_0.conda", noarch)  # a file put there by hand
    (noarch / "other-2.0-py_0.conda").unlink()  # a file removed by hand
    (noarch / "current_repodata.json").write_text("{}")  # left by another indexer
    code, _, err = run(capsys, "channel", "verify", str(channel))
    assert code == 1
    assert sorted(err.splitlines()) == sorted(
        [
            f"wheel2conda: error: {noarch}/current_repodata.json: stale: conda would read it instead of repodata.json; delete it, then run 'wheel2conda index {channel}'",
            f"wheel2conda: error: {noarch}/late-3.0-py_0.conda: package file not listed in repodata.json; run 'wheel2conda index {channel}' to list it (or delete the file if it does not belong)",
            f"wheel2conda: error: {noarch}/other-2.0-py_0.conda: listed in repodata.json but missing; publish the file again, or run 'wheel2conda index {channel}' to drop its record",
        ]
    )
    # following the advice fixes the channel
    (noarch / "current_repodata.json").unlink()
    assert main(["index", "-q", str(channel)]) == 0
    code, out, err = run(capsys, "channel", "verify", str(channel))
    assert code == 0 and out.startswith("ok: ") and err == ""

    with (noarch / "demo-1.0-py_0.conda").open("ab") as f:  # changed after publishing
        f.write(b"\0")
    code, _, err = run(capsys, "channel", "verify", str(channel))
    assert code == 1 and "size is" in err and "publish the right file again with --force" in err


def test_a_publish_conflict_names_the_users_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    channel = tmp_path / "channel"
    first = build_wheel(tmp_path / "a", "demo", "1.0", files={"demo/__init__.py": "A = 1\n"})
    again = build_wheel(tmp_path / "b", "demo", "1.0", files={"demo/__init__.py": "A = 2\n"})
    assert main(["convert", "-q", "--channel", str(channel), str(first)]) == 0
    code, _, err = run(capsys, "convert", "--channel", str(channel), str(again))
    assert code == 1
    assert err.splitlines()[-1] == (
        f"wheel2conda: error: {channel}/noarch/demo-1.0-py_0.conda: already published with different content than "
        f"demo-1.0-py_0.conda (converted from {again}); bump the build number (--build-number) or pass --force"
    )
    assert ".w2c-stage" not in err
    assert sorted(p.name for p in channel.iterdir() if p.name.startswith(".w2c")) == []


@pytest.mark.parametrize(("blocked", "dist"), [("zstandard", "zstandard"), ("tarfile", None)])
def test_a_missing_dependency_is_an_instruction_not_an_internal_error(tmp_path: Path, blocked: str, dist: str | None) -> None:
    """conda can load the plugin from a path whose environment lacks our dependencies (found with
    real conda 26.7.1): the run names the distribution to install, not "internal error … report it".
    A module that is not a dependency stays an internal error."""
    import subprocess
    import sys

    wheel = build_wheel(tmp_path / "wheels", "gone", "1.0", files={"gone/__init__.py": ""})
    module = blocked
    script = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        f"def fake(name, *a, **k):\n    if name.split('.')[0] == {module!r}: raise ModuleNotFoundError(name, name={module!r})\n    return real(name, *a, **k)\n"
        "builtins.__import__ = fake\n"
        "from bridge.cli import main\n"
        f"sys.exit(main(['convert', {str(wheel)!r}, '-o', {str(tmp_path / 'out')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    if dist is None:
        assert "internal error" in lines[0], lines
    else:
        assert f"needs {dist} (module '{blocked}')" in lines[0] and "internal error" not in result.stderr, lines
        assert "-m pip install wheel2conda" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.conda"))


def test_the_dependency_table_is_pyproject_s() -> None:
    """Every runtime dependency in pyproject.toml has its import name in the CLI's table, and no other."""
    from packaging.requirements import Requirement

    from bridge.cli import DEPENDENCY_MODULES

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {Requirement(r).name for r in pyproject["project"]["dependencies"]}
    assert set(DEPENDENCY_MODULES.values()) == declared
