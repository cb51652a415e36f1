"""``verify``: ELF reading, DT_NEEDED resolution, and real installs of converted wheels."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bridge.binary.elf import BadElf, expand_origin, is_elf, read_dynamic, read_dynamic_file, soname
from bridge.check.client import HOST_SUBDIR
from bridge.check.verify import VerifyOptions, check_libraries, system_libraries, top_level_modules, verify_packages
from bridge.cli import main
from bridge.pipelines.convert import convert_wheel
from bridge.plan.types import ConversionOptions
from tests.support.elfbuild import HAVE_CC, MANYLINUX_TAG, OTHER_MANYLINUX_TAG, compile_shared
from tests.support.wheels import build_wheel

DEP_C = "int dep_value(void) { return 42; }\n"
USER_C = "extern int dep_value(void);\nint user_value(void) { return dep_value() + 1; }\n"
BROKEN_C = "extern int gone_value(void);\nint broken_value(void) { return gone_value(); }\n"
LOADER = (
    "import ctypes, os\n"
    "_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), {lib!r}))\n"
    "def main():\n"
    "    print({func!r}, getattr(_lib, {func!r})())\n"
)


# --------------------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("$ORIGIN", "/p/lib"),
        ("${ORIGIN}/../nvidia/dep/lib", "/p/lib/../nvidia/dep/lib"),
        ("$ORIGIN/$LIB", "/p/lib/lib"),
        ("/opt/rh/gcc-toolset-9/lib64", "/opt/rh/gcc-toolset-9/lib64"),
        ("$ORIGIN/$PLATFORM", None),
        ("lib", "lib"),
    ],
)
def test_expand_origin(entry: str, expected: str | None) -> None:
    assert expand_origin(entry, "/p/lib") == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["lib/python3.12/site-packages/pkg/__init__.py", "lib/python3.12/site-packages/pkg/sub.py"], ["pkg"]),
        (["lib/python3.12/site-packages/mod.py", "lib/python3.12/site-packages/_ext.cpython-312-x86_64-linux-gnu.so"], ["_ext", "mod"]),
        (["Lib/site-packages/win.pyd", "Lib/site-packages/pkg-1.0.dist-info/METADATA"], ["win"]),
        (["lib/python3.12/site-packages/torch.libs/libgomp.so.1", "lib/python3.12/site-packages/x.pth"], []),
        (["lib/python3.12/site-packages/nvidia/cu13/lib/libcudart.so.13", "bin/tool", "share/x"], ["nvidia"]),
        (["lib/python3.12/site-packages/__pycache__/m.cpython-312.pyc"], []),
    ],
)
def test_top_level_modules(files: list[str], expected: list[str]) -> None:
    assert top_level_modules(files) == expected


def test_allowlist_has_libc_and_driver_not_rocm_runtime() -> None:
    allowed = system_libraries()
    assert {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libcuda.so.1", "ld-linux-x86-64.so.2"} <= allowed
    assert "libamdhip64.so.7" not in allowed and "libcudart.so.12" not in allowed


def test_non_elf_and_damaged_elf(tmp_path: Path) -> None:
    assert not is_elf(b"#!/bin/sh") and is_elf(b"\x7fELF\x02\x01")
    assert read_dynamic(io.BytesIO(b"not elf at all")) is None
    assert soname(io.BytesIO(b"\x7fELF garbage")) is None
    with pytest.raises(BadElf, match="unreadable ELF"):
        read_dynamic(io.BytesIO(b"\x7fELF\x02\x01\x01" + b"\xff" * 40))


# --------------------------------------------------------------------------- real ELF files


@pytest.fixture(scope="module")
def libs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not HAVE_CC:
        pytest.skip("needs a C compiler on Linux")
    d = tmp_path_factory.mktemp("elf")
    compile_shared(d / "libdep.so.1", DEP_C, soname="libdep.so.1")
    compile_shared(d / "libuser.so", USER_C, needed=[d / "libdep.so.1"], runpath="$ORIGIN/../nvidia/dep/lib")
    compile_shared(d / "rpath" / "libuser.so", USER_C, needed=[d / "libdep.so.1"], rpath="$ORIGIN:/opt/build/lib")
    compile_shared(d / "libgone.so.3", "int gone_value(void) { return 0; }\n", soname="libgone.so.3")
    compile_shared(d / "libbroken.so", BROKEN_C, needed=[d / "libgone.so.3"], runpath="$ORIGIN")
    return {p.name if p.parent == d else f"{p.parent.name}/{p.name}": p for p in d.rglob("*.so*") if not p.name.endswith(".c")}


def test_read_dynamic_sections(libs: dict[str, Path]) -> None:
    dep = read_dynamic_file(libs["libdep.so.1"])
    assert dep is not None and dep.soname == "libdep.so.1" and dep.shared and dep.elfclass in (32, 64)
    user = read_dynamic_file(libs["libuser.so"])
    assert user is not None and user.soname is None
    assert "libdep.so.1" in user.needed and "libc.so.6" in user.needed
    assert user.runpath == ("$ORIGIN/../nvidia/dep/lib",) and user.rpath == ()
    assert user.search_path == user.runpath
    old = read_dynamic_file(libs["rpath/libuser.so"])
    assert old is not None and old.rpath == ("$ORIGIN", "/opt/build/lib") and old.runpath == ()
    with open(libs["libdep.so.1"], "rb") as fh:
        assert soname(fh) == "libdep.so.1"
    truncated = libs["libdep.so.1"].read_bytes()[:200]
    with pytest.raises(BadElf):
        read_dynamic(io.BytesIO(truncated))


def test_check_libraries_statuses(libs: dict[str, Path], tmp_path: Path) -> None:
    """found via RUNPATH, host allowlist, SONAME-only (warned), missing, and foreign RPATH entries."""
    prefix = tmp_path / "prefix"
    site = prefix / "lib/python3.12/site-packages"
    (site / "user").mkdir(parents=True)
    (site / "nvidia/dep/lib").mkdir(parents=True)
    (site / "user/libuser.so").write_bytes(libs["libuser.so"].read_bytes())
    (site / "nvidia/dep/lib/libdep.so.1").write_bytes(libs["libdep.so.1"].read_bytes())
    (site / "old").mkdir()
    (site / "old/libuser.so").write_bytes(libs["rpath/libuser.so"].read_bytes())  # RPATH $ORIGIN only
    (site / "old/notes.txt").write_text("not ELF")
    (site / "broken").mkdir()
    (site / "broken/libbroken.so").write_bytes(libs["libbroken.so"].read_bytes())
    files = [p.relative_to(prefix).as_posix() for p in sorted(prefix.rglob("*")) if p.is_file()]
    warnings: list[str] = []
    reports = {r.path.split("/")[-2]: r for r in check_libraries(prefix, files, warnings)}
    user = {n.name: n for n in reports["user"].needed}
    assert user["libdep.so.1"].status == "found"
    assert user["libdep.so.1"].where == "lib/python3.12/site-packages/nvidia/dep/lib/libdep.so.1"
    assert user["libc.so.6"].status == "system" and reports["user"].ok
    old = {n.name: n for n in reports["old"].needed}
    assert old["libdep.so.1"].status == "soname-only" and reports["old"].ok
    assert any("only at lib/python3.12/site-packages/nvidia/dep/lib/libdep.so.1" in w for w in warnings)
    assert any("'/opt/build/lib' points outside the environment" in w for w in warnings)
    broken = {n.name: n for n in reports["broken"].needed}
    assert broken["libgone.so.3"].status == "missing" and not reports["broken"].ok
    assert "dep" not in reports  # libdep needs only libc: listed under nvidia/dep/lib
    assert not any(r.path.endswith("notes.txt") for r in reports.values())


# --------------------------------------------------------------------------- end to end


def ctypes_wheel(out: Path, name: str, lib: Path, func: str, platform_tag: str, **kwargs) -> Path:
    """A wheel whose package loads ``lib`` (shipped beside it) with ctypes on import."""
    files = {f"{name}/__init__.py": LOADER.format(lib=lib.name, func=func), f"{name}/{lib.name}": lib.read_bytes()}
    return build_wheel(out, name, "1.0", tag=f"py3-none-{platform_tag}", files=files, **kwargs)


def convert_set(libs: dict[str, Path], tmp: Path, platform_tag: str) -> dict[str, Path]:
    """Converted packages: nvidia-dep (the library), userpkg (needs it), brokenpkg (needs a missing one)."""
    dep = {"nvidia/dep/lib/libdep.so.1": libs["libdep.so.1"].read_bytes()}
    wheels = [
        build_wheel(tmp / "w", "nvidia-dep", "1.0", tag=f"py3-none-{platform_tag}", files=dep),
        ctypes_wheel(
            tmp / "w", "userpkg", libs["libuser.so"], "user_value", platform_tag,
            requires_dist=["nvidia-dep"], entry_points={"console_scripts": {"userpkg-run": "userpkg:main"}},
        ),
        ctypes_wheel(tmp / "w", "brokenpkg", libs["libbroken.so"], "broken_value", platform_tag),
    ]
    result = {}
    for wheel in wheels:
        done = convert_wheel(wheel, tmp / "out", ConversionOptions())
        assert done.ok, done.error
        (pkg,) = done.detail.packages
        result[pkg.name] = done.outputs[0]
    return result


@pytest.fixture(scope="module")
def packages(libs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return convert_set(libs, tmp_path_factory.mktemp("pkgs"), MANYLINUX_TAG)


@pytest.mark.e2e
def test_library_from_another_wheel_resolves(packages: dict[str, Path], base_channel: Path) -> None:
    reports = verify_packages([packages["nvidia-dep"], packages["userpkg"]], VerifyOptions(extra_channels=(base_channel,)))
    assert [r.name for r in reports] == ["nvidia-dep", "userpkg"]
    assert all(r.ok for r in reports), [r.problems() for r in reports]
    user = reports[1]
    (lib,) = user.libraries
    assert lib.path.endswith("site-packages/userpkg/libuser.so")
    dep = next(n for n in lib.needed if n.name == "libdep.so.1")
    assert dep.status == "found" and dep.where.endswith("site-packages/nvidia/dep/lib/libdep.so.1")
    assert [(i.module, i.ok) for i in user.imports] == [("userpkg", True)]
    (ep,) = user.entry_points
    assert (ep.name, ep.how, ep.ok) == ("userpkg-run", "help", True)
    assert reports[0].imports[0].module == "nvidia"


@pytest.mark.e2e
def test_missing_library_fails_with_its_name(packages: dict[str, Path], base_channel: Path) -> None:
    (report,) = verify_packages([packages["brokenpkg"]], VerifyOptions(extra_channels=(base_channel,)))
    assert report.installed and not report.ok
    assert any("libgone.so.3" in line and "not found" in line for line in report.problems())
    (imp,) = report.imports
    assert not imp.ok and "libgone.so.3" in (imp.error or "")


@pytest.mark.e2e
def test_unsolvable_package_fails(packages: dict[str, Path], base_channel: Path) -> None:
    """userpkg alone: its dependency nvidia-dep is nowhere, so it does not install."""
    (report,) = verify_packages([packages["userpkg"]], VerifyOptions(extra_channels=(base_channel,)))
    assert not report.installed and not report.ok
    assert "nvidia-dep" in (report.error or "")


@pytest.mark.e2e
def test_other_platform_checks_libraries_but_runs_nothing(libs: dict[str, Path], base_channel: Path, tmp_path: Path) -> None:
    """Packages for another Linux platform install (stub python); ELF is checked, imports are skipped."""
    other = convert_set(libs, tmp_path, OTHER_MANYLINUX_TAG)
    reports = verify_packages([other["nvidia-dep"], other["userpkg"]], VerifyOptions(extra_channels=(base_channel,)))
    user = reports[1]
    assert user.platform != HOST_SUBDIR and user.ok, user.problems()
    assert [n.status for n in user.libraries[0].needed if n.name == "libdep.so.1"] == ["found"]
    assert user.imports == [] and any(s.startswith("imports: the environment is for") for s in user.skipped)
    (ep,) = user.entry_points
    assert (ep.how, ep.ok) == ("launcher", True)


@pytest.mark.e2e
def test_cli_publish_verify_refuses_and_leaves_channel_untouched(packages: dict[str, Path], base_channel: Path, tmp_path: Path, capsys) -> None:
    channel = tmp_path / "channel"
    code = main(["publish", "--channel", str(channel), "--verify", "-c", str(base_channel), str(packages["brokenpkg"])])
    out, err = capsys.readouterr()
    assert code == 1
    assert "libgone.so.3 NOT FOUND" in out and "1 of 1 package failed verification" in err and "nothing published" in err
    assert not channel.exists() or not any(channel.rglob("*.conda"))

    code = main(["publish", "--channel", str(channel), "--verify", "--standin-python", str(packages["nvidia-dep"]), str(packages["userpkg"])])
    assert code == 0, capsys.readouterr().err
    assert (channel / HOST_SUBDIR / packages["userpkg"].name).is_file()
    assert json.loads((channel / "conda-pypi-map.json").read_text()) == {"nvidia-dep": "nvidia-dep", "userpkg": "userpkg"}


@pytest.mark.e2e
def test_cli_verify_channel_json(packages: dict[str, Path], base_channel: Path, tmp_path: Path, capsys) -> None:
    from bridge.channel.publish import publish

    channel = tmp_path / "channel"
    publish(channel, list(packages.values()))
    code = main(["verify", str(channel), "--json", "-c", str(base_channel)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["exit_code"] == 1 and not doc["ok"]
    verdicts = {item["name"]: item["ok"] for item in doc["items"]}
    assert verdicts == {"brokenpkg": False, "nvidia-dep": True, "userpkg": True}
    (error,) = doc["errors"]
    assert "brokenpkg" in error["path"] and "libgone.so.3" in error["reason"]

    code = main(["verify", str(channel), "userpkg", "--json", "-c", str(base_channel)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and sorted(i["name"] for i in doc["items"]) == ["nvidia-dep", "userpkg"]


def test_cli_verify_bad_input(tmp_path: Path, capsys) -> None:
    (tmp_path / "x.txt").write_text("x")
    assert main(["verify", str(tmp_path / "x.txt")]) == 2
    assert "not a conda package (.conda or .tar.bz2)" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "holds no conda packages" in capsys.readouterr().err


@pytest.mark.e2e
def test_cli_convert_channel_verify_refuses(libs: dict[str, Path], base_channel: Path, tmp_path: Path, capsys) -> None:
    wheel = ctypes_wheel(tmp_path / "w", "brokenpkg", libs["libbroken.so"], "broken_value", MANYLINUX_TAG)
    channel = tmp_path / "channel"
    code = main(["convert", str(wheel), "--channel", str(channel), "--verify", "--channel-extra", str(base_channel)])
    assert code == 1
    out, err = capsys.readouterr()
    assert "libgone.so.3 NOT FOUND" in out and "failed verification" in err
    assert not any(channel.rglob("*.conda")) and not (channel / "noarch" / "repodata.json").exists()
    assert main(["verify", str(wheel), "--next-to", str(channel)]) == 2  # neither a package nor --next-to a channel


def test_cli_verify_bad_virtual_and_channel(packages: dict[str, Path], tmp_path: Path, capsys) -> None:
    assert main(["verify", str(packages["nvidia-dep"]), "--virtual", "cuda=12"]) == 2
    assert "virtual package must look like" in capsys.readouterr().err
    assert main(["verify", str(packages["nvidia-dep"]), "-c", str(tmp_path / "nowhere")]) == 2
    assert "cannot install into a throwaway prefix" in capsys.readouterr().err
