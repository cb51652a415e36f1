"""Huge but cheap test inputs: multi-GiB members of zeros, deflated or zstd-compressed on the fly.

A 2 GiB member of zeros costs a few MiB on disk and a few seconds of CPU to write, so memory
caps (docs/security.md) can be tested at the real scale instead of being extrapolated.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import zstandard

CHUNK = 8 << 20
ZEROS = bytes(CHUNK)


def _zeros_digest(head: bytes, size: int) -> hashlib._Hash:
    digest = hashlib.sha256(head)
    left = size
    while left:
        n = min(left, CHUNK)
        digest.update(ZEROS[:n] if n < CHUNK else ZEROS)
        left -= n
    return digest


def wheel_with_big_script(out: Path, size: int, name: str = "bigscript", version: str = "1.0") -> Path:
    """A pure wheel whose ``.data/scripts/big`` is ``#!python`` + ``size`` zero bytes."""
    dist = f"{name}-{version}"
    path = out / f"{dist}-py3-none-any.whl"
    head = b"#!python\n"
    small = {
        f"{name}/__init__.py": b"",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    rows = [f"{n},sha256={_b64(hashlib.sha256(d).digest())},{len(d)}" for n, d in small.items()]
    script = f"{dist}.data/scripts/big"
    rows.append(f"{script},sha256={_b64(_zeros_digest(head, size).digest())},{len(head) + size}")
    rows.append(f"{dist}.dist-info/RECORD,,")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as zf:
        for n, d in small.items():
            zf.writestr(n, d)
        info = zipfile.ZipInfo(script, (2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100755 << 16
        with zf.open(info, "w", force_zip64=True) as fh:
            fh.write(head)
            left = size
            while left:
                n = min(left, CHUNK)
                fh.write(ZEROS[:n])
                left -= n
        zf.writestr(f"{dist}.dist-info/RECORD", "\n".join(rows) + "\n")
    return path


def conda_with_big_licence(out: Path, size: int, name: str = "biglicence", version: str = "1.0") -> Path:
    """A noarch ``.conda`` whose ``site-packages/<name>-<version>.dist-info/licenses/LICENSE`` is ``size`` zeros."""
    stem = f"{name}-{version}-py_0"
    path = out / f"{stem}.conda"
    site = "site-packages"
    dist_info = f"{site}/{name}-{version}.dist-info"
    small = {
        f"{site}/{name}/__init__.py": b"",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    licence = f"{dist_info}/licenses/LICENSE"
    paths = [{"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(), "size_in_bytes": len(d)} for p, d in small.items()]
    paths.append({"_path": licence, "path_type": "hardlink", "sha256": _zeros_digest(b"", size).hexdigest(), "size_in_bytes": size})
    index = {"name": name, "version": version, "build": "py_0", "build_number": 0, "subdir": "noarch", "noarch": "python", "depends": ["python >=3.8"]}
    info = {
        "info/index.json": json.dumps(index).encode(),
        "info/paths.json": json.dumps({"paths": sorted(paths, key=lambda e: e["_path"]), "paths_version": 1}).encode(),
        "info/link.json": json.dumps({"noarch": {"type": "python"}, "package_metadata_version": 1}).encode(),
        "info/about.json": b"{}",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        with zf.open(f"pkg-{stem}.tar.zst", "w", force_zip64=True) as member:
            _tar_zst(member, {**small, licence: size})
        with zf.open(f"info-{stem}.tar.zst", "w") as member:
            _tar_zst(member, info)
    return path


def _tar_zst(fh, members: dict[str, bytes | int]) -> None:  # type: ignore[no-untyped-def]
    with zstandard.ZstdCompressor(level=1).stream_writer(fh, closefd=False) as zst, tarfile.open(fileobj=zst, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.mode = 0o644
            if isinstance(data, int):
                info.size = data
                tar.addfile(info, _Zeros(data))
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


class _Zeros:
    def __init__(self, size: int):
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def peak_rss_mib(argv: list[str], cwd: Path) -> tuple[int, float, str]:
    """Run ``python -m bridge *argv`` in a fresh child; ``(exit code, peak RSS in MiB, stderr)``.

    Peak RSS comes from ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a wrapper process
    that runs only this one child, so nothing else is counted.
    """
    wrapper = (
        "import resource, subprocess, sys, json; "
        "p = subprocess.run([sys.executable, '-m', 'bridge', *sys.argv[1:]], capture_output=True, text=True); "
        "print(json.dumps([p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.stderr]))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], cwd=cwd, capture_output=True, text=True, check=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    code, kib, stderr = json.loads(done.stdout)
    return code, kib / 1024, stderr
