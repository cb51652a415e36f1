"""Golden bytes: a few conversions whose exact output is pinned across refactors.

The refactor of issue 16 must not change a single output byte.  Each case below converts a
fixed wheel (or a package converted from one) and compares sha256 digests with
``tests/data/golden.json`` (a wheel whose markers split by Python gives several packages):

* ``members``: every member of the output, decompressed (tar entries of each inner tarball,
  zip members of a wheel) with its mode and link target.  Independent of the compression
  library's version, so always compared.
* ``file``: the whole output file.  Compared only when the zstd, zlib and bz2 libraries are the
  versions the digests were recorded with (a different libzstd may compress differently).

After a deliberate change of output, regenerate with ``GOLDEN_UPDATE=1 pytest -p no:xdist tests/test_golden.py``
and say why in the commit message.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import os
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zstandard

from bridge.cli import main
from tests.support.wheels import build_wheel

GOLDEN = Path(__file__).parent / "data" / "golden.json"
LIBRARIES = {"zstd": zstandard.ZSTD_VERSION, "zlib": zlib.ZLIB_RUNTIME_VERSION, "bz2": bz2.__name__}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tar_digests(prefix: str, data: bytes) -> Iterator[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            content = tar.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            yield f"{prefix}{member.name} {member.type.decode()} {member.mode:o} {member.linkname} {_sha(content)}"


def member_digests(path: Path) -> list[str]:
    """One line per member of a ``.conda``, ``.tar.bz2`` or ``.whl``, decompressed."""
    if path.name.endswith(".tar.bz2"):
        return list(_tar_digests("", path.read_bytes()))
    lines = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            if path.suffix == ".conda" and info.filename.endswith(".tar.zst"):
                inner = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
                lines.extend(_tar_digests(f"{info.filename}:", inner))
            else:
                lines.append(f"{info.filename} {info.external_attr >> 16:o} {_sha(data)}")
    return lines


def _pure(out: Path) -> Path:
    return build_wheel(
        out,
        "golden-pure",
        "1.2.0",
        files={
            "golden_pure/__init__.py": "def main():\n    return 0\n",
            "golden_pure/data.txt": "payload\n",
        },
        data={"scripts": {"golden-tool": "#!python\nprint('tool')\n"}, "data": {"share/golden/readme": "hi\n"}},
        entry_points={"console_scripts": {"golden": "golden_pure:main"}},
        requires_dist=["requests>=2,<3", "tomli; python_version < '3.11'", "rich; extra == 'fancy'"],
        requires_python=">=3.9",
        license_files={"LICENSE": "MIT licence text\n"},
    )


def _linux(out: Path) -> Path:
    library = b"\x7fELF golden library " * 200
    return build_wheel(
        out,
        "golden-native",
        "0.3",
        tag="cp312-cp312-manylinux_2_17_x86_64",
        files={
            "golden_native/__init__.py": "from . import _core\n",
            "golden_native/_core.so": b"\x7fELF fake extension",
            "golden_native/lib/libgold.so.1": library,
            "golden_native/lib/libgold.so": library,
        },
        requires_dist=["numpy>=1.26"],
    )


def _windows(out: Path) -> Path:
    return build_wheel(
        out,
        "golden-win",
        "2.0",
        tag="cp312-cp312-win_amd64",
        files={"golden_win/__init__.py": "def main():\n    return 0\n", "golden_win/_x.pyd": b"MZ fake"},
        entry_points={"console_scripts": {"golden-win": "golden_win:main"}, "gui_scripts": {"golden-gui": "golden_win:main"}},
    )


def _convert(wheel: Path, out: Path, *options: str) -> list[Path]:
    assert main(["convert", "-q", str(wheel), "-o", str(out), *options]) == 0
    return sorted(p for p in out.rglob("*") if p.name.endswith((".conda", ".tar.bz2")))


def _to_wheel(packages: list[Path], out: Path) -> list[Path]:
    for package in packages:
        assert main(["to-wheel", "-q", str(package), "-o", str(out / package.name)]) == 0
    return sorted(out.rglob("*.whl"))


CASES: dict[str, Callable[[Path], list[Path]]] = {
    "pure.conda": lambda tmp: _convert(_pure(tmp / "w"), tmp / "o"),
    "pure.tar.bz2": lambda tmp: _convert(_pure(tmp / "w"), tmp / "o", "--format", "tar.bz2"),
    "linux.conda": lambda tmp: _convert(_linux(tmp / "w"), tmp / "o"),
    "windows.conda": lambda tmp: _convert(_windows(tmp / "w"), tmp / "o"),
    "pure.roundtrip.whl": lambda tmp: _to_wheel(_convert(_pure(tmp / "w"), tmp / "o"), tmp / "back"),
    "linux.roundtrip.whl": lambda tmp: _to_wheel(_convert(_linux(tmp / "w"), tmp / "o"), tmp / "back"),
}


def _recorded() -> dict:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {"libraries": {}, "cases": {}}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_bytes_are_pinned(case: str, tmp_path: Path) -> None:
    outputs = CASES[case](tmp_path)
    assert outputs
    got = {
        "names": [output.name for output in outputs],
        "files": [_sha(output.read_bytes()) for output in outputs],
        "members": [member_digests(output) for output in outputs],
    }
    if os.environ.get("GOLDEN_UPDATE"):
        recorded = _recorded()
        recorded["libraries"] = LIBRARIES
        recorded["cases"][case] = got
        GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    recorded = _recorded()
    assert case in recorded["cases"], "no golden digests recorded: run with GOLDEN_UPDATE=1"
    expected = recorded["cases"][case]
    assert got["names"] == expected["names"]
    assert got["members"] == expected["members"]
    if recorded["libraries"] == LIBRARIES:
        assert got["files"] == expected["files"]
