"""Issue 15 item 3, through the CLI: ``convert`` refuses conda packages and ``--name`` for several
distributions; option combinations that contradict each other or would be silently ignored are
refused with one line naming both options, before anything is written; ``-c`` is accepted only
where a verification reads dependencies from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.cli import main
from tests.support.wheels import build_wheel


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "wheels", "demo", "1.0", files={"demo/__init__.py": ""})


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one error line of a refused command line (exit 2)."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wheel2conda: error: "), err
    return lines[0].removeprefix("wheel2conda: error: ")


CONVERT_REFUSALS = [
    (["--release", "--zstd-level", "3"], "--release and --zstd-level contradict each other (--release means zstd level 19); give one of them"),
    (["--format", "tar.bz2", "--zstd-level", "3"], "--zstd-level has no effect with --format tar.bz2 (bzip2 compression); drop --zstd-level, or use --format conda"),
    (["--format", "tar.bz2", "--release"], "--release has no effect with --format tar.bz2"),
    (["--format", "tree", "--zstd-threads", "2"], "--zstd-threads has no effect with --format tree (no compression)"),
    (["--format", "tar.bz2", "--zstd-window-log", "20"], "--zstd-window-log has no effect with --format tar.bz2"),
    (["--force"], "--force has no effect without --channel (it replaces a file published in a channel); add --channel CHANNEL, or drop --force"),
    (["--standin-python"], "--standin-python has no effect without --verify; add --verify, or drop --standin-python"),
    (["--virtual", "__cuda=12.4"], "--virtual has no effect without --verify"),
    (["--no-imports"], "--no-imports has no effect without --verify"),
    (["--check-timeout", "5"], "--check-timeout has no effect without --verify"),
    (["-q", "-v"], "-q/--quiet and -v/--verbose contradict each other; give one of them"),
    (["--dry-run", "--verify"], "--dry-run and --verify contradict each other (--dry-run writes and publishes nothing)"),
    (["--dry-run", "--force", "--channel", "{tmp}/ch"], "--dry-run and --force contradict each other"),
    (["--dry-run", "--release"], "--release has no effect with --dry-run (nothing is compressed or written)"),
    (["--dry-run", "-j", "2"], "--jobs has no effect with --dry-run"),
    (["-q", "--progress", "bar"], "-q/--quiet and --progress bar contradict each other (-q/--quiet prints no progress)"),
    (["--format", "tree", "--verify"], "--verify has no effect with --format tree (a tree cannot be installed)"),
    (["--format", "tree", "--channel", "{tmp}/ch"], "--channel and --format tree contradict each other (a tree cannot be published)"),
    (["--rocm-extra", "devel"], "--rocm-extra has no effect without the rocm sdist or --rocm-meta"),
    (["-c", "newch"], "-c/--channel-extra without --verify: -c names a channel to read dependencies from (used by verification); to publish into a channel use --channel"),
]


@pytest.mark.parametrize(("options", "message"), CONVERT_REFUSALS, ids=[" ".join(o) for o, _ in CONVERT_REFUSALS])
def test_convert_refuses_contradictory_and_no_op_combinations(options: list[str], message: str, wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    line = refused(capsys, ["convert", "-o", str(out), *(o.replace("{tmp}", str(tmp_path)) for o in options), str(wheel)])
    assert line.startswith(message)
    assert not out.exists() and not (tmp_path / "ch").exists()  # refused before anything is written


def test_the_same_options_are_accepted_where_they_apply(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for options in (["--release"], ["--zstd-level", "3"], ["--format", "tar.bz2"], ["--channel", str(tmp_path / "ch"), "--force"], ["-q"], ["-v"]):
        assert main(["convert", "-o", str(tmp_path / "out"), *options, str(wheel)]) == 0, options
    capsys.readouterr()


def test_convert_refuses_conda_packages(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "-q", "-o", str(tmp_path / "out"), str(wheel)]) == 0
    package = tmp_path / "out" / "noarch" / "demo-1.0-py_0.conda"
    line = refused(capsys, ["convert", "-o", str(tmp_path / "again"), str(package)])
    assert line == (
        f"{package}: a conda package, not a wheel: convert makes conda packages from wheels; "
        f"to add it to a channel use 'wheel2conda publish {package} --channel CHANNEL'; to re-convert it, make a wheel with 'wheel2conda to-wheel' first"
    )
    line = refused(capsys, ["convert", "-o", str(tmp_path / "again"), str(tmp_path / "out")])  # convert's own output folder
    assert line.endswith("holds 1 conda package but no wheels (looked in it and in its <subdir>/ folders); to add conda packages to a channel use 'wheel2conda publish'")
    assert not (tmp_path / "again").exists()


def test_name_is_refused_for_more_than_one_distribution(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_wheel(wheel.parent, "other", "2.0", files={"other/__init__.py": ""})
    for command in ("convert", "inspect"):
        line = refused(capsys, [command, "--name", "foo", str(wheel.parent)])
        assert line == "--name names one distribution's package, but 2 wheels were given (demo-1.0-py3-none-any.whl, other-2.0-py3-none-any.whl); convert them one at a time, or drop --name"
    code = main(["convert", "--json", "--name", "foo", "-o", str(tmp_path / "out"), str(wheel)])
    assert code == 0 and [i["name"] for i in json.loads(capsys.readouterr().out)["items"]] == ["foo"]


def test_c_is_the_dependency_channel_and_only_where_verification_reads_it(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "-q", "-o", str(tmp_path / "out"), str(wheel)]) == 0
    package = str(tmp_path / "out" / "noarch" / "demo-1.0-py_0.conda")
    # a conda user's 'publish -c newch PKG' is told which option publishes
    line = refused(capsys, ["publish", "-c", str(tmp_path / "newch"), package])
    assert line == (
        "publish needs --channel; -c names a channel to read dependencies from (used by verification); "
        "to publish into a channel use --channel; write 'wheel2conda publish PKG... --channel CHANNEL'"
    )
    line = refused(capsys, ["publish", "--channel", str(tmp_path / "ch"), "-c", "conda-forge", package])
    assert line.startswith("-c/--channel-extra without --verify: -c names a channel to read dependencies from")
    assert not (tmp_path / "newch").exists() and not (tmp_path / "ch").exists()
    # publish without --channel and without -c: argparse's own usage error
    with pytest.raises(SystemExit) as exited:
        main(["publish", package])
    assert exited.value.code == 2
    assert "the following arguments are required: --channel" in capsys.readouterr().err


def test_repack_refuses_conda_options_with_to_wheel(capsys: pytest.CaptureFixture[str]) -> None:
    for options, option in ((["--zstd-level", "3"], "--zstd-level"), (["--extras", "none"], "--extras"), (["--format", "tar.bz2"], "--format"), (["--no-dedup"], "--no-dedup"), (["--name-map", "pypi"], "--name-map")):
        line = refused(capsys, ["repack", "pip", *options])
        assert line == f"{option} has no effect with --to wheel (it shapes conda packages); add --to conda, or drop {option}"
    line = refused(capsys, ["repack", "pip", "--to", "conda", "--format", "tar.bz2", "--release"])
    assert line.startswith("--release has no effect with --format tar.bz2")


def test_recipes_build_refuses_contradictory_compression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, ["recipes", "build", "--recipes", str(tmp_path), "--channel", str(tmp_path / "ch"), "--release", "--zstd-level", "3"])
    assert line.startswith("--release and --zstd-level contradict each other")
    assert not (tmp_path / "ch").exists()


@pytest.mark.parametrize("argv", [["channel", "list", "."], ["to-wheel", "x.conda"], ["verify", "x.conda"], ["index", "."], ["libs", "."]])
def test_quiet_and_verbose_are_refused_by_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(capsys, [*argv, "-q", "-v"]) == "-q/--quiet and -v/--verbose contradict each other; give one of them"


def test_help_constants_match_the_library() -> None:
    """``--help`` texts repeat a few library constants so that help imports nothing heavy."""
    from bridge.cli import convert_options as cli_convert
    from bridge.sinks import compression

    names = ("DEFAULT_LEVEL", "RELEASE_LEVEL", "MIN_WINDOW_LOG", "SHORT_WINDOW_LOG", "MAX_WINDOW_LOG")
    assert [getattr(cli_convert, n) for n in names] == [getattr(compression, n) for n in names]
