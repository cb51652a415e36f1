"""Duplicate shared libraries across a channel (same SONAME in packages of different names)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.channel.index import index_channel
from bridge.check.libreport import SPOOL_MEMORY, duplicate_libraries, shared_libraries
from bridge.check.standin import build_conda_package
from bridge.cli import main
from bridge.core.errors import BadInput
from tests.support.elfbuild import HAVE_CC, compile_shared

pytestmark = pytest.mark.skipif(not HAVE_CC, reason="needs a C compiler on Linux")


@pytest.fixture(scope="module")
def clash_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """linux-64: ``a`` and ``b`` ship lib/libclash.so.1 (same path, same bytes), ``c`` ships another
    build under site-packages; ``a`` has two versions; ``d`` ships an unrelated library."""
    tmp = tmp_path_factory.mktemp("libs")
    one = compile_shared(tmp / "one" / "libclash.so.1", "int clash(void) { return 1; }\n", soname="libclash.so.1")
    two = compile_shared(tmp / "two" / "libclash.so.1", "int clash(void) { return 2; }\nint more(void) { return 3; }\n", soname="libclash.so.1")
    solo = compile_shared(tmp / "libsolo.so.2", "int solo(void) { return 0; }\n", soname="libsolo.so.2")
    ext = compile_shared(tmp / "_ext.so", "int ext(void) { return 0; }\n")  # no SONAME: not a candidate
    channel = tmp / "channel"
    out = channel / "linux-64"
    for version in ("1.0", "2.0"):
        build_conda_package(out, {"name": "a", "version": version, "build": "0"}, {"lib/libclash.so.1": one, "README": "a"})
    build_conda_package(out, {"name": "b", "version": "1.0", "build": "0"}, {"lib/libclash.so.1": one, "lib/libsolo.so.2.txt": "x"})
    build_conda_package(out, {"name": "c", "version": "1.0", "build": "0"}, {"lib/python3.12/site-packages/c/libclash.so.1": two, "lib/python3.12/site-packages/c/_ext.so": ext})
    build_conda_package(out, {"name": "d", "version": "1.0", "build": "0"}, {"lib/libsolo.so.2": solo})
    index_channel(channel)
    return channel


def test_duplicate_report(clash_channel: Path) -> None:
    (dup,) = duplicate_libraries(clash_channel)
    assert (dup.subdir, dup.soname, dup.names) == ("linux-64", "libclash.so.1", ["a", "b", "c"])
    assert dup.kind == "different-paths" and not dup.identical
    assert [(c.package, c.path) for c in dup.copies] == [
        ("linux-64/a-1.0-0.conda", "lib/libclash.so.1"),
        ("linux-64/a-2.0-0.conda", "lib/libclash.so.1"),
        ("linux-64/b-1.0-0.conda", "lib/libclash.so.1"),
        ("linux-64/c-1.0-0.conda", "lib/python3.12/site-packages/c/libclash.so.1"),
    ]
    sizes = {c.name: c.size for c in dup.copies}
    assert sizes["a"] == sizes["b"] == len((clash_channel.parent / "one" / "libclash.so.1").read_bytes())
    assert sizes["c"] == len((clash_channel.parent / "two" / "libclash.so.1").read_bytes())


def test_same_path_clash_and_identical(clash_channel: Path, tmp_path: Path) -> None:
    channel = tmp_path / "ch"
    for name in ("a-2.0-0.conda", "b-1.0-0.conda"):
        (channel / "linux-64").mkdir(parents=True, exist_ok=True)
        (channel / "linux-64" / name).write_bytes((clash_channel / "linux-64" / name).read_bytes())
    index_channel(channel)
    (dup,) = duplicate_libraries(channel)
    assert dup.kind == "same-path" and dup.identical


def test_shared_libraries_of_one_package_spill_large_members(clash_channel: Path, monkeypatch) -> None:
    monkeypatch.setattr("bridge.check.libreport.SPOOL_MEMORY", 64)  # force the temporary-file path
    libs = list(shared_libraries(clash_channel / "linux-64" / "c-1.0-0.conda"))
    assert [(lib.path, lib.soname) for lib in libs] == [("lib/python3.12/site-packages/c/libclash.so.1", "libclash.so.1")]
    assert SPOOL_MEMORY >= 1 << 20


def test_cli_libs(clash_channel: Path, capsys) -> None:
    assert main(["libs", str(clash_channel)]) == 0
    text = capsys.readouterr().out
    assert "linux-64 libclash.so.1: 3 packages (different paths: two copies can load; different builds)" in text
    assert "linux-64/c-1.0-0.conda  lib/python3.12/site-packages/c/libclash.so.1" in text
    assert main(["libs", str(clash_channel), "--json", "--check"]) == 1
    doc = json.loads(capsys.readouterr().out)
    (item,) = doc["items"]
    assert item["soname"] == "libclash.so.1" and item["packages"] == ["a", "b", "c"]
    assert main(["libs", str(clash_channel), "--subdir", "noarch"]) == 0
    assert "no shared library is shipped by more than one package" in capsys.readouterr().out


def test_bad_channel_and_package(tmp_path: Path, capsys) -> None:
    assert main(["libs", str(tmp_path)]) == 2
    assert "holds no conda packages" in capsys.readouterr().err
    broken = tmp_path / "x-1-0.conda"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BadInput, match="not a readable conda package"):
        list(shared_libraries(broken))


@pytest.fixture(scope="module")
def nvidia_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real wheel shapes (shared/docs/gpu-wheels.md §12): nvidia-cuda-runtime-cu12 and
    nvidia-cuda-cupti-cu12 12.8.90 both ship ``nvidia/__init__.py``; converted as py3-none
    platform wheels they land in ``lib/python3.X/site-packages``; a noarch package shipping the
    same path clashes with them too."""
    from tests.support.gpu_wheels import MANYLINUX
    from tests.support.wheels import build_wheel

    tmp = tmp_path_factory.mktemp("nvidia")
    wheels = tmp / "wheels"
    for name, component, lib in (("nvidia-cuda-runtime-cu12", "cuda_runtime", "libcudart.so.12"), ("nvidia-cuda-cupti-cu12", "cuda_cupti", "libcupti.so.12")):
        build_wheel(
            wheels, name, "12.8.90", tag=f"py3-none-{MANYLINUX}", root_is_purelib=True,
            files={"nvidia/__init__.py": "", f"nvidia/{component}/__init__.py": "", f"nvidia/{component}/lib/{lib}": b"stand-in for " + lib.encode()},
        )
    build_wheel(wheels, "nvidia-shim", "1.0", files={"nvidia/__init__.py": "# not empty\n"})
    channel = tmp / "channel"
    assert main(["convert", "-q", "--channel", str(channel), *map(str, sorted(wheels.iterdir()))]) == 0
    return channel


def test_file_clashes_report_plain_files(nvidia_channel: Path, capsys) -> None:
    from bridge.check.libreport import file_clashes

    clashes = {(c.subdir, c.path): c for c in file_clashes(nvidia_channel)}
    clash = clashes[("linux-64", "site-packages/nvidia/__init__.py")]
    assert clash.names == ["nvidia-cuda-cupti-cu12", "nvidia-cuda-runtime-cu12", "nvidia-shim"] and not clash.identical
    assert {c.path for c in clash.copies} == {"site-packages/nvidia/__init__.py", *(c.path for c in clash.copies if c.path.startswith("lib/"))}
    assert not [c for c in clashes.values() if "dist-info" in c.path]  # each package's own metadata is its own

    assert main(["libs", str(nvidia_channel), "--check"]) == 1
    text = capsys.readouterr().out
    assert "linux-64 site-packages/nvidia/__init__.py: 3 packages ship this file (the client lets the last one win; different contents)" in text
    assert main(["libs", str(nvidia_channel), "--json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert any(i["kind"] == "file-clash" and i["path"] == "site-packages/nvidia/__init__.py" for i in items)

    assert main(["channel", "verify", str(nvidia_channel)]) == 0  # not a broken channel: warned
    captured = capsys.readouterr()
    assert "linux-64 site-packages/nvidia/__init__.py: shipped by nvidia-cuda-cupti-cu12, nvidia-cuda-runtime-cu12, nvidia-shim" in captured.err
    assert "1 file shipped by more than one package" in captured.out


def test_packages_of_different_rocm_families_do_not_clash(tmp_path: Path) -> None:
    """Every family's libraries ship rocm_sdk_libraries/__init__.py, but no environment holds two families."""
    from bridge.check.libreport import file_clashes
    from tests.support import gpu_wheels as gw

    wheels = tmp_path / "wheels"
    for family in ("gfx103X-dgpu", "gfx110X-all"):
        gw.rocm_libraries(wheels, family)
    channel = tmp_path / "channel"
    assert main(["convert", "-q", "--channel", str(channel), *map(str, sorted(wheels.iterdir()))]) == 0
    assert [c.path for c in file_clashes(channel)] == []
    build_conda_package(channel / "linux-64", {"name": "other", "version": "1", "build": "0"}, {"lib/python3.11/site-packages/rocm_sdk_libraries/__init__.py": "x"})
    index_channel(channel)
    (clash,) = file_clashes(channel)  # a family-neutral package clashes with both
    assert clash.path == "site-packages/rocm_sdk_libraries/__init__.py" and clash.names[0] == "other"
