"""A stand-in for conda-forge's interpreter packages, for offline demos, checks and tests.

:func:`build_base_channel` writes, per subdir and Python ``X.Y``: ``python X.Y.0 0`` and
``python_abi X.Y 0_cpXY``; in ``noarch``: ``cpython X.Y.0`` and ``_python_abi3_support 1.0``
(so conda-forge's abi3 pins solve).  For this machine's subdir and Python version the
``python`` package is runnable: it ships ``pyvenv.cfg`` pointing at the interpreter running
wheel2conda and ``bin/pythonX.Y`` as a link to it, so ``PREFIX/bin/python`` behaves like a
venv whose site-packages is ``PREFIX/lib/pythonX.Y/site-packages``.  Every other ``python``
is a stub that exits with status 97 (enough to solve and install for another platform).
The packages are built with conda-package-streaming, independently of our own writer.
"""

from __future__ import annotations

import io
import json
import os
import platform as _platform
import sys
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from conda_package_streaming.create import anonymize, conda_builder

from ..channel.index import index_channel
from ..core.digest import sha256_bytes
from ..model.paths import resolve_link_path
from .client import HOST_SUBDIR

#: ``X.Y`` of the interpreter running wheel2conda.
HOST_PY = f"{sys.version_info.major}.{sys.version_info.minor}"
ALL_SUBDIRS: tuple[str, ...] = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
#: Fixed ``index.json`` timestamp (ms) and tar mtime (s): 2024-01-01T00:00:00Z.
TIMESTAMP_MS = 1704067200000
_MTIME = TIMESTAMP_MS // 1000
#: Exit status of the stub interpreters of non-host pythons.
STUB_EXIT = 97
#: ``track_features`` of stub pythons on the host subdir (the solver avoids them unless asked).
STUB_FEATURE = "stub_python"


def _to_bytes(content: bytes | str) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _tarinfo(name: str, *, size: int = 0, mode: int = 0o644, linkname: str | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = _MTIME
    info.mode = mode
    if linkname is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = linkname
    else:
        info.size = size
    return anonymize(info)


def build_conda_package(
    out_dir: Path,
    index: Mapping[str, Any],
    files: Mapping[str, bytes | str] = {},
    *,
    symlinks: Mapping[str, str] = {},
    executable: Iterable[str] = (),
    placeholders: Mapping[str, str] = {},
    link_json: Mapping[str, Any] | None = None,
    about: Mapping[str, Any] | None = None,
    compression_level: int = 3,
) -> Path:
    """Write ``{name}-{version}-{build}.conda`` into ``out_dir`` and return its path.

    ``index`` is ``info/index.json``; missing ``build_number`` (0), ``depends`` ([]),
    ``timestamp`` and ``subdir`` (``out_dir``'s name) are filled in. ``files`` map
    prefix-relative paths to content; ``symlinks`` map paths to link targets
    (hashed as the target's content, which must be in ``files`` or, if absolute,
    on disk; a link to a directory gets no digest); ``placeholders`` map paths to a text-mode prefix placeholder.
    ``paths.json`` is generated; ``link.json``/``about.json`` are written if given.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = {"build_number": 0, "depends": [], "subdir": out_dir.name, "timestamp": TIMESTAMP_MS, **index}
    stem = f"{index['name']}-{index['version']}-{index['build']}"
    contents = {path: _to_bytes(data) for path, data in files.items()}
    executable = set(executable)

    def target_bytes(path: str, target: str) -> bytes | None:
        """The target's content; None for a link to a directory (no digest to record)."""
        if os.path.isabs(target):
            return Path(target).read_bytes()
        resolved = resolve_link_path(path, target, symlinks)
        if resolved in symlinks:
            return target_bytes(resolved, symlinks[resolved])
        if resolved not in contents and any(p.startswith(resolved + "/") for p in contents):
            return None
        return contents[resolved]

    entries: list[dict[str, Any]] = []
    for path in sorted(set(contents) | set(symlinks)):
        if path in symlinks:
            data = target_bytes(path, symlinks[path])
            entry: dict[str, Any] = {"_path": path, "path_type": "softlink"}
        else:
            data = contents[path]
            entry = {"_path": path, "path_type": "hardlink"}
        if path in placeholders:
            entry |= {"file_mode": "text", "prefix_placeholder": placeholders[path]}
        if data is not None:
            entry |= {"sha256": sha256_bytes(data), "size_in_bytes": len(data)}
        entries.append(entry)

    info_files: dict[str, bytes] = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps({"paths": entries, "paths_version": 1}, indent=2).encode(),
    }
    if link_json is not None:
        info_files["info/link.json"] = json.dumps(link_json, indent=2).encode()
    if about is not None:
        info_files["info/about.json"] = json.dumps(about, indent=2).encode()

    target = out_dir / f"{stem}.conda"
    target.unlink(missing_ok=True)
    with conda_builder(stem, out_dir, compression_level=compression_level) as tar:
        for name, data in info_files.items():
            tar.addfile(_tarinfo(name, size=len(data)), io.BytesIO(data))
        for path in sorted(set(contents) | set(symlinks)):
            if path in symlinks:
                tar.addfile(_tarinfo(path, linkname=symlinks[path]))
            else:
                mode = 0o755 if path in executable else 0o644
                tar.addfile(_tarinfo(path, size=len(contents[path]), mode=mode), io.BytesIO(contents[path]))
    return target


def _python_files(subdir: str, py: str, runnable: bool) -> tuple[dict[str, bytes], dict[str, str], set[str]]:
    """(files, symlinks, executable) of the ``python`` package."""
    if runnable:
        real = os.path.realpath(sys.executable)
        cfg = (
            f"home = {os.path.dirname(real)}\n"
            "include-system-site-packages = false\n"
            f"version = {_platform.python_version()}\n"
        )
        files = {"pyvenv.cfg": cfg.encode()}
        links = {f"bin/python{py}": real, "bin/python3": f"python{py}", "bin/python": f"python{py}"}
        return files, links, set()
    if subdir.startswith("win-"):
        dll = f"python{py.replace('.', '')}.dll"  # what extension modules import, at the root as in conda-forge's python
        return {"python.exe": f"stub python {py} for {subdir}\n".encode(), dll: b"stub", "python3.dll": b"stub"}, {}, set()
    stub = f"#!/bin/sh\necho 'stub python {py} for {subdir}' >&2\nexit {STUB_EXIT}\n".encode()
    links = {"bin/python3": f"python{py}", "bin/python": f"python{py}"}
    return {f"bin/python{py}": stub}, links, {f"bin/python{py}"}


def build_base_channel(
    channel_dir: Path,
    *,
    pythons: Sequence[str] = (HOST_PY, "3.12"),
    subdirs: Sequence[str] = ALL_SUBDIRS,
) -> Path:
    """Create the stand-in channel described in the module docstring; return ``channel_dir``."""
    channel_dir = Path(channel_dir)
    noarch = channel_dir / "noarch"
    for py in dict.fromkeys(pythons):
        major, minor = py.split(".")
        cp = f"cp{major}{minor}"
        for subdir in subdirs:
            out = channel_dir / subdir
            runnable = subdir == HOST_SUBDIR and py == HOST_PY
            files, links, exe = _python_files(subdir, py, runnable)
            python_index: dict[str, Any] = {
                "name": "python",
                "version": f"{py}.0",
                "build": "0",
                "constrains": [f"python_abi {py}.* *_{cp}"],
                "license": "Python-2.0",
            }
            if subdir == HOST_SUBDIR and not runnable and HOST_PY in pythons:
                # down-weight stubs so an unpinned ``python`` resolves to the runnable one
                python_index["track_features"] = STUB_FEATURE
            build_conda_package(
                out,
                python_index,
                files,
                symlinks=links,
                executable=exe,
            )
            build_conda_package(
                out,
                {
                    "name": "python_abi",
                    "version": py,
                    "build": f"0_{cp}",
                    "constrains": [f"python {py}.*"],
                    "license": "BSD-3-Clause",
                },
            )
        build_conda_package(
            noarch,
            {"name": "cpython", "version": f"{py}.0", "build": "0", "noarch": "generic", "depends": [f"python {py}.*"]},
        )
    build_conda_package(
        noarch,
        {"name": "_python_abi3_support", "version": "1.0", "build": "0", "noarch": "generic", "depends": ["cpython"]},
    )
    index_channel(channel_dir, subdirs)
    return channel_dir


