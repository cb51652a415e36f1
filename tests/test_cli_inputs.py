"""Issue 15 item 2, through the CLI: every command that reads packages takes files, channels and
``convert -o`` folders alike, says how many it found, and names a missing path, an sdist and an
empty folder for what they are."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from bridge.cli import main
from tests.support.wheels import build_wheel


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def demo_wheel(folder: Path, version: str = "1.0", build_tag: str | None = None, **kwargs) -> Path:
    return build_wheel(folder, "demo", version, files={"demo/__init__.py": f"VERSION = {version!r}\n"}, build_tag=build_tag, **kwargs)


def sdist(folder: Path, name: str) -> Path:
    """A source distribution as pip download leaves it (only its name matters here)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with tarfile.open(path, "w:gz"):
        pass
    return path


@pytest.fixture
def converted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``convert -o out`` of a pure and a binary wheel: ``out/noarch/`` and ``out/linux-64/``."""
    wheels = tmp_path / "wheels"
    demo_wheel(wheels)
    build_wheel(wheels, "binpkg", "2.0", tag="cp311-cp311-manylinux_2_17_x86_64", files={"binpkg/__init__.py": ""})
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "convert", "-o", str(out), str(wheels))
    assert code == 0
    assert stdout.splitlines()[0] == f"{wheels}: 2 wheels"  # says what the folder held
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.conda")) == ["linux-64/binpkg-2.0-py311_0.conda", "noarch/demo-1.0-py_0.conda"]
    return out


def test_convert_output_folder_is_read_by_publish_to_wheel_inspect_and_libs(converted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    channel = tmp_path / "channel"
    code, stdout, _ = run(capsys, "publish", str(converted), "--channel", str(channel))
    assert code == 0
    assert stdout.splitlines() == [f"{converted}: 2 conda packages (linux-64 1, noarch 1)", "added     linux-64/binpkg-2.0-py311_0.conda", "added     noarch/demo-1.0-py_0.conda"]

    for source in (converted, channel):  # a convert -o folder and a channel, alike
        code, doc = run_json(capsys, "to-wheel", "-o", str(tmp_path / f"wheels-{source.name}"), str(source))
        assert code == 0, doc["errors"]
        assert sorted(Path(i["output"]).name for i in doc["items"]) == ["binpkg-2.0-cp311-cp311-manylinux_2_17_x86_64.whl", "demo-1.0-py3-none-any.whl"]

        code, doc = run_json(capsys, "inspect", str(source))
        assert code == 0 and sorted(i["name"] for i in doc["items"]) == ["binpkg", "demo"]

        code, stdout, _ = run(capsys, "libs", str(source))
        assert code == 0 and "no shared library is shipped by more than one package" in stdout


@pytest.mark.e2e
def test_verify_reads_a_convert_output_folder(converted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "verify", str(converted / "noarch"), "--standin-python")
    assert code == 0, stdout
    assert stdout.splitlines()[0] == f"{converted / 'noarch'}: 1 conda package"
    assert "PASS noarch/demo-1.0-py_0.conda (for linux-64)" in stdout


def test_to_wheel_of_a_channel_converts_the_newest_build_of_each_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheels = tmp_path / "wheels"
    for version, build in (("1.9", "5"), ("1.10", "0"), ("1.10", "1")):  # conda orders 1.10 above 1.9; then the build number
        folder = wheels / f"{version}-{build}"
        demo_wheel(folder, version, build_tag=build)
    channel = tmp_path / "channel"
    for folder in sorted(wheels.iterdir()):
        assert main(["convert", "-q", "--channel", str(channel), str(folder)]) == 0
    assert len(list(channel.rglob("*.conda"))) == 3

    code, stdout, _ = run(capsys, "to-wheel", "-v", "-o", str(tmp_path / "out"), str(channel))
    assert code == 0
    lines = stdout.splitlines()
    assert lines[:2] == [f"{channel}: 3 conda packages (noarch 3)", f"{channel}: converting the newest build of each package: 1 of 3 (-v lists the others)"]
    assert sorted(lines[2:4]) == [f"  older build, not converted: {channel}/noarch/demo-1.10-py_0.conda", f"  older build, not converted: {channel}/noarch/demo-1.9-py_5.conda"]
    assert lines[4].startswith("demo-1.10-py_1.conda -> demo-1.10-1-py3-none-any.whl")

    # a yanked build is not the newest one any more; a file named on its own is always converted
    assert main(["channel", "yank", "-q", str(channel), "noarch/demo-1.10-py_1.conda"]) == 0
    code, doc = run_json(capsys, "to-wheel", "-o", str(tmp_path / "out2"), str(channel), str(channel / "noarch" / "demo-1.9-py_5.conda"))
    assert code == 0 and sorted(Path(i["source"]).name for i in doc["items"]) == ["demo-1.10-py_0.conda", "demo-1.9-py_5.conda"]


@pytest.mark.parametrize(
    "argv",
    [
        ["convert", "-o", "{tmp}/out"],
        ["inspect"],
        ["to-wheel", "-o", "{tmp}/out"],
        ["publish", "--channel", "{tmp}/ch"],
        ["verify"],
        ["libs"],
        ["index"],
        ["channel", "list"],
        ["channel", "verify"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_missing_path_is_no_such_file_or_directory(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope-1.0-py3-none-any.whl"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, doc = run_json(capsys, *argv, str(missing))
    assert code == 2 and doc["errors"][0]["path"] == str(missing)
    assert doc["errors"][0]["reason"] == "no such file or directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("name", ["demo-1.0.tar.gz", "demo-1.0.zip"])
def test_an_sdist_gets_the_pip_wheel_hint(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sdist(tmp_path, name)
    code, _, err = run(capsys, "convert", "-o", str(tmp_path / "out"), str(path))
    assert code == 2
    assert err == f"wheel2conda: error: {path}: not a wheel: a source distribution; build a wheel first: pip wheel --no-deps {path}\n"
    assert not (tmp_path / "out").exists()


def test_a_folder_of_only_sdists_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "downloads"
    sdist(folder, "demo-1.0.tar.gz")
    sdist(folder, "other-2.0.tar.gz")
    code, doc = run_json(capsys, "convert", "-o", str(tmp_path / "out"), str(folder))
    assert code == 2 and not doc["ok"] and doc["items"] == []
    (error,) = doc["errors"]
    assert error["reason"] == "holds 2 sdists but no wheels (looked in it and in its <subdir>/ folders)"
    assert error["hint"] == "build wheels first: pip wheel --no-deps SDIST"
    assert not (tmp_path / "out").exists()


def test_a_folder_of_wheels_and_sdists_converts_the_wheels_and_says_what_it_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "downloads"
    demo_wheel(folder)
    skipped = sdist(folder, "other-2.0.tar.gz")
    code, stdout, err = run(capsys, "convert", "-o", str(tmp_path / "out"), str(folder))
    assert code == 0
    assert stdout.splitlines()[0] == f"{folder}: 1 wheel"
    assert f"wheel2conda: warning: skipped {skipped}: not a wheel: a source distribution; build a wheel first: pip wheel --no-deps {skipped}" in err


def test_commands_name_the_wrong_kind_of_file(converted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = demo_wheel(tmp_path / "w")
    code, _, err = run(capsys, "publish", str(wheel), "--channel", str(tmp_path / "ch"))
    assert code == 2 and err == f"wheel2conda: error: {wheel}: a wheel, not a conda package; convert it first: wheel2conda convert {wheel}\n"
    code, _, err = run(capsys, "to-wheel", str(wheel))
    assert code == 2 and "a wheel, not a conda package" in err
    code, _, err = run(capsys, "publish", str(tmp_path / "w"), "--channel", str(tmp_path / "ch"))
    assert code == 2 and err == f"wheel2conda: error: {tmp_path / 'w'}: holds 1 wheel but no conda packages (looked in it and in its <subdir>/ folders); convert the wheels first: wheel2conda convert\n"
    assert not (tmp_path / "ch").exists()
