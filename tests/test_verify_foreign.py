"""``verify`` on Windows (PE) and macOS (Mach-O) packages: installed with py-rattler for their
platform on this Linux machine, then every DLL import / dylib load command is resolved.

The binaries are real extension modules (``tests/data/binaries``); a same-length rename of one
import makes a library the environment must provide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.binary.macho import read_load_commands
from bridge.binary.pe import read_imports
from bridge.check.verify import VerifyOptions, VerifyReport, verify_packages
from bridge.cli import main
from bridge.pipelines.convert import convert_wheel
from bridge.plan.types import ConversionOptions
from tests.support.wheels import build_wheel

BINARIES = Path(__file__).parent / "data" / "binaries"
PYD = (BINARIES / "speedups-win_amd64.pyd").read_bytes()
DYLIB = (BINARIES / "speedups-macosx_arm64.so").read_bytes()
# same-length renames, so the load command / import table stays valid
PYD_NEEDS_DEP = PYD.replace(b"VCRUNTIME140.dll", b"zzdepend_140.dll")
DYLIB_NEEDS_DEP = DYLIB.replace(b"/usr/lib/libSystem.B.dylib", b"@loader_path/libzdep.dylib")


def test_readers_see_the_imports(tmp_path: Path) -> None:
    (tmp_path / "a.pyd").write_bytes(PYD_NEEDS_DEP)
    (tmp_path / "a.so").write_bytes(DYLIB_NEEDS_DEP)
    assert read_imports(tmp_path / "a.pyd").imports == ("python312.dll", "KERNEL32.dll", "zzdepend_140.dll", "api-ms-win-crt-runtime-l1-1-0.dll")
    assert read_load_commands(tmp_path / "a.so", "osx-arm64").needed == ("@loader_path/libzdep.dylib",)


def convert(tmp: Path, name: str, tag: str, files: dict[str, bytes], **kwargs) -> Path:
    wheel = build_wheel(tmp / "wheels", name, "1.0", tag=tag, files={f"{name}/__init__.py": "", **files}, **kwargs)
    done = convert_wheel(wheel, tmp / "out", ConversionOptions())
    assert done.ok, done.error
    return done.outputs[0]


def verify(packages: list[Path], base_channel: Path) -> dict[str, VerifyReport]:
    reports = verify_packages(packages, VerifyOptions(extra_channels=(base_channel,)))
    return {r.name: r for r in reports}


def needed(report: VerifyReport) -> dict[str, tuple[str, str | None]]:
    return {n.name: (n.status, n.where) for lib in report.libraries for n in lib.needed}


@pytest.mark.e2e
def test_windows_dll_imports(tmp_path: Path, base_channel: Path) -> None:
    tag = "cp312-cp312-win_amd64"
    good = convert(tmp_path, "winspeed", tag, {"winspeed/_speedups.pyd": PYD})
    lonely = convert(tmp_path, "winlonely", tag, {"winlonely/_speedups.pyd": PYD_NEEDS_DEP})
    paired = convert(tmp_path, "winpaired", tag, {"winpaired/_speedups.pyd": PYD_NEEDS_DEP}, requires_dist=["zzdep"])
    dep = build_wheel(tmp_path / "wheels", "zzdep", "1.0", tag="py3-none-win_amd64", files={"zzdep/__init__.py": ""}, data={"data": {"Library/bin/zzdepend_140.dll": PYD}})
    (dep_pkg,) = convert_wheel(dep, tmp_path / "out", ConversionOptions()).outputs

    reports = verify([good, lonely, paired, dep_pkg], base_channel)
    assert reports["winspeed"].ok, reports["winspeed"].problems()
    assert reports["winspeed"].platform == "win-64"
    assert needed(reports["winspeed"]) == {
        "python312.dll": ("found", "python312.dll"),  # conda's python puts it at the environment root
        "KERNEL32.dll": ("system", "host"),
        "VCRUNTIME140.dll": ("system", "host"),
        "api-ms-win-crt-runtime-l1-1-0.dll": ("system", "host"),
    }
    assert not reports["winlonely"].ok
    assert reports["winlonely"].problems() == ["Lib/site-packages/winlonely/_speedups.pyd: needs zzdepend_140.dll, not found"]
    assert reports["winpaired"].ok and needed(reports["winpaired"])["zzdepend_140.dll"] == ("found", "Library/bin/zzdepend_140.dll")


@pytest.mark.e2e
def test_macos_dylib_load_commands(tmp_path: Path, base_channel: Path, capsys) -> None:
    tag = "cp312-cp312-macosx_11_0_arm64"
    good = convert(tmp_path, "macspeed", tag, {"macspeed/_speedups.so": DYLIB})
    lonely = convert(tmp_path, "maclonely", tag, {"maclonely/_speedups.so": DYLIB_NEEDS_DEP})
    paired = convert(tmp_path, "macpaired", tag, {"macpaired/_speedups.so": DYLIB_NEEDS_DEP, "macpaired/libzdep.dylib": DYLIB})

    reports = verify([good, lonely, paired], base_channel)
    assert reports["macspeed"].ok and needed(reports["macspeed"]) == {"/usr/lib/libSystem.B.dylib": ("system", "host")}
    assert reports["macspeed"].platform == "osx-arm64"
    assert reports["maclonely"].problems() == ["lib/python3.12/site-packages/maclonely/_speedups.so: needs @loader_path/libzdep.dylib, not found"]
    assert needed(reports["macpaired"])["@loader_path/libzdep.dylib"] == ("found", "lib/python3.12/site-packages/macpaired/libzdep.dylib")

    # the command line: a failing package names the library, exit 1
    assert main(["verify", str(lonely), "--channel-extra", str(base_channel)]) == 1
    out = capsys.readouterr()
    assert "@loader_path/libzdep.dylib NOT FOUND" in out.out + out.err
