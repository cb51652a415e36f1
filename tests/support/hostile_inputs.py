"""Crafting hostile inputs and guarding everything outside the work directory.

:class:`Guard` lays out ``<root>/work`` (where the command may write) and ``<root>/canary`` (a folder
it must never touch: files, a hard-linked pair, a folder named like a package tree) and snapshots
everything under ``root`` except ``work``: content digest, type, link target and hard-link count.
:meth:`Guard.run` runs one CLI command in-process and returns its exit code and stderr lines.

:func:`craft_conda` writes a ``.conda`` or ``.tar.bz2`` with arbitrary bytes for ``info/*`` and
arbitrary tar members (names, types, link targets), so malformed packages no honest builder makes
can be fed to the readers; :func:`roundtrip_wheel` writes a wheel carrying a given round-trip
record (``.dist-info/conda-package.json``).
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conda_package_streaming.create import anonymize, conda_builder

from bridge.cli import main

try:
    from bridge.model.paths import check_link_target, check_relative_path
except ImportError:  # pragma: no cover - the code before the path rule moved (to show the tests fail there)
    from bridge.model.paths import check_link_target, check_relative_path
from tests.support.wheels import build_wheel

Snapshot = dict[str, tuple[str, str, int]]


def _snapshot(root: Path, skip: Path) -> Snapshot:
    found: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == skip:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = here / name
            if p == skip:
                continue
            st = p.lstat()
            if p.is_symlink():
                found[str(p.relative_to(root))] = ("link", os.readlink(p), st.st_nlink)
            elif p.is_dir():
                found[str(p.relative_to(root))] = ("dir", "", st.st_nlink)
            else:
                found[str(p.relative_to(root))] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), st.st_nlink)
        dirnames[:] = [d for d in dirnames if here / d != skip and not (here / d).is_symlink()]
    return found


@dataclass
class Guard:
    """The work directory and its canary neighbour."""

    root: Path

    def __post_init__(self) -> None:
        self.work = self.root / "work"
        self.canary = self.root / "canary"
        self.inputs = self.work / "in"
        self.out = self.work / "out"
        self.channel = self.work / "channel"
        self.inputs.mkdir(parents=True)
        (self.canary / "sub").mkdir(parents=True)
        (self.canary / "a.txt").write_text("canary a\n")
        (self.canary / "sub" / "b.txt").write_text("canary b\n")
        (self.canary / "c.txt").write_text("canary c\n")
        os.link(self.canary / "c.txt", self.canary / "sub" / "c-hardlink.txt")
        victim = self.canary / "victim-1.0-0"  # what a tree writer could rename aside and delete
        victim.mkdir()
        (victim / "keep.txt").write_text("keep me\n")
        self.before = _snapshot(self.root, self.work)

    def outside_unchanged(self) -> None:
        after = _snapshot(self.root, self.work)
        assert after == self.before, {k: (self.before.get(k), after.get(k)) for k in set(after) | set(self.before) if self.before.get(k) != after.get(k)}

    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
        capsys.readouterr()
        try:
            code = main([*argv])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        self.stdout = captured.out
        return code, captured.err.strip().splitlines()

    def refused(self, capsys: pytest.CaptureFixture[str], *argv: str, expect: str | None = None, code: int = 2) -> str:
        """Run; assert the refusal contract (exit status, one line, no traceback, nothing outside, nothing unsafe)."""
        got, lines = self.run(capsys, *argv)
        assert got == code, (got, lines)
        assert len(lines) == 1, lines
        assert "Traceback" not in lines[0] and "internal error" not in lines[0], lines[0]
        if expect is not None:
            assert expect in lines[0], lines[0]
        self.outside_unchanged()
        assert_outputs_safe(self.work)
        return lines[0]


def assert_outputs_safe(work: Path) -> None:
    """Every archive wheel2conda wrote under ``work`` (not the crafted inputs) holds only safe members."""
    for path in work.rglob("*"):
        if "in" in path.relative_to(work).parts[:1] or not path.is_file():
            continue
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    assert check_relative_path(name) is None, (path, name)
        elif path.name.endswith((".conda", ".tar.bz2")):
            assert_package_safe(path)


def assert_package_safe(path: Path) -> None:
    from conda_package_streaming.package_streaming import stream_conda_component

    components = ("info", "pkg") if path.name.endswith(".conda") else ("pkg",)
    for component in components:
        for _tar, member in stream_conda_component(str(path), component=component):
            assert check_relative_path(member.name.rstrip("/")) is None, (path, member.name)
            if member.issym():
                assert check_link_target(member.name, member.linkname) is None, (path, member.name, member.linkname)


# --------------------------------------------------------------------------- conda packages


@dataclass(frozen=True)
class TarMember:
    """A member of a crafted package: a file (``data``), a symlink (``link``), or another tar type."""

    name: str
    data: bytes = b""
    link: str | None = None
    type: bytes = tarfile.REGTYPE
    raw_name: bytes | None = None  # exact header bytes for the name (non-UTF-8 names)


def _tarinfo(m: TarMember) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(m.name)
    ti.size, ti.mode, ti.mtime = len(m.data), 0o644, 1704067200
    if m.link is not None:
        ti.type, ti.linkname, ti.size = tarfile.SYMTYPE, m.link, 0
    elif m.type != tarfile.REGTYPE:
        ti.type, ti.size = m.type, 0
    return anonymize(ti)


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def default_info(name: str = "pkg", version: str = "1.0", build: str = "0", subdir: str = "noarch", files: Sequence[TarMember] = ()) -> dict[str, Any]:
    """Valid ``info/index.json`` and ``paths.json`` documents for ``files`` (a starting point to break)."""
    return {
        "info/index.json": {"name": name, "version": version, "build": build, "build_number": 0, "subdir": subdir, "depends": [], "timestamp": 1704067200000},
        "info/paths.json": {
            "paths": [
                {"_path": m.name, "path_type": "softlink" if m.link else "hardlink", "sha256": hashlib.sha256(m.data).hexdigest(), "size_in_bytes": len(m.data)}
                for m in files
            ],
            "paths_version": 1,
        },
    }


def craft_conda(out_dir: Path, stem: str, info: Mapping[str, Any], members: Sequence[TarMember], *, fmt: str = "conda") -> Path:
    """A package named ``<stem>.<fmt>`` with ``info`` (name → JSON-able or raw bytes) and ``members``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    info_items = [(name, _as_bytes(value)) for name, value in info.items()]
    if fmt == "conda":
        with conda_builder(stem, out_dir) as tar:
            for name, data in info_items:
                tar.addfile(_tarinfo(TarMember(name, data)), io.BytesIO(data))
            for m in members:
                _add(tar, m)
        return out_dir / f"{stem}.conda"
    target = out_dir / f"{stem}.tar.bz2"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in info_items:
            tar.addfile(_tarinfo(TarMember(name, data)), io.BytesIO(data))
        for m in members:
            _add(tar, m)
    target.write_bytes(bz2.compress(raw.getvalue()))
    return target


def _add(tar: tarfile.TarFile, m: TarMember) -> None:
    ti = _tarinfo(m)
    tar.addfile(ti, io.BytesIO(m.data) if ti.isfile() else None)


def raw_name_tar_bz2(out_dir: Path, stem: str, info: Mapping[str, Any], raw_name: bytes, data: bytes = b"x") -> Path:
    """A ``.tar.bz2`` whose one payload member's name is the bytes ``raw_name`` (ustar, e.g. not UTF-8)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, value in info.items():
            blob = _as_bytes(value)
            tar.addfile(_tarinfo(TarMember(name, blob)), io.BytesIO(blob))
        placeholder = b"P" * len(raw_name)
        ti = _tarinfo(TarMember(placeholder.decode(), data))
        tar.addfile(ti, io.BytesIO(data))
    blob = bytearray(raw.getvalue())
    at = blob.rfind(placeholder)
    blob[at : at + len(raw_name)] = raw_name
    header = at - at % 512  # fix the header checksum for the new name bytes
    blob[header + 148 : header + 156] = b" " * 8
    blob[header + 148 : header + 156] = b"%06o\0 " % sum(blob[header : header + 512])
    target = out_dir / f"{stem}.tar.bz2"
    out_dir.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bz2.compress(bytes(blob)))
    return target


# --------------------------------------------------------------------------- wheels


def record_doc(**index: Any) -> dict[str, Any]:
    """A valid round-trip record for the wheel :func:`roundtrip_wheel` makes (fields to break)."""
    return {
        "format": 1,
        "package": "victim-1.0-0.conda",
        "index": {"name": "victim", "version": "1.0", "build": "0", "build_number": 0, "subdir": "noarch", "depends": ["python"], "noarch": "python", **index},
        "about": {"summary": "s"},
        "link": {"noarch": {"type": "python"}, "package_metadata_version": 1},
        "dist_info": "own",
        "dist_info_files": ["INSTALLER", "METADATA", "RECORD", "WHEEL"],
        "dist_info_text": {},
        "paths": {},
    }


def roundtrip_wheel(out_dir: Path, record: Mapping[str, Any] | bytes, *, entry_points: Mapping[str, str] | None = None) -> Path:
    """``victim-1.0-py3-none-any.whl`` carrying ``record`` as its ``.dist-info/conda-package.json``."""
    extra = {"conda-package.json": record if isinstance(record, bytes) else json.dumps(record)}
    eps = {"console_scripts": dict(entry_points)} if entry_points else {}
    return build_wheel(out_dir, "victim", "1.0", files={"victim/__init__.py": "X = 1\n"}, extra_dist_info=extra, entry_points=eps)


# --------------------------------------------------------------------------- zip surgery


def patch_zip_name(src: Path, dst: Path, old: str, new: bytes, *, utf8_flag: bool = True) -> Path:
    """Copy a zip, renaming member ``old`` to the raw bytes ``new`` (same length) in the local and
    central headers and setting the UTF-8 flag (bit 11) on both: names that are not UTF-8 though
    the archive says they are."""
    data = bytearray(src.read_bytes())
    old_b = old.encode()
    assert len(old_b) == len(new)
    for sig, flags_at, len_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        i = data.find(sig)
        while i != -1:
            n = int.from_bytes(data[i + len_at : i + len_at + 2], "little")
            if bytes(data[i + name_at : i + name_at + n]) == old_b:
                data[i + name_at : i + name_at + n] = new
                if utf8_flag:
                    flags = int.from_bytes(data[i + flags_at : i + flags_at + 2], "little") | 0x800
                    data[i + flags_at : i + flags_at + 2] = flags.to_bytes(2, "little")
            i = data.find(sig, i + 4)
    dst.write_bytes(bytes(data))
    return dst


def overlap_zip(src: Path, dst: Path, member: str, onto: str) -> Path:
    """Copy a zip, pointing ``member``'s central-directory entry at ``onto``'s local header
    (two names for one set of bytes, the shape of overlapping-entry zip bombs)."""
    data = bytearray(src.read_bytes())
    offsets: dict[str, int] = {}
    entries: dict[str, int] = {}
    i = data.find(b"PK\x01\x02")
    while i != -1:
        n = int.from_bytes(data[i + 28 : i + 30], "little")
        name = bytes(data[i + 46 : i + 46 + n]).decode()
        entries[name] = i
        offsets[name] = int.from_bytes(data[i + 42 : i + 46], "little")
        i = data.find(b"PK\x01\x02", i + 4)
    at = entries[member]
    data[at + 42 : at + 46] = offsets[onto].to_bytes(4, "little")
    dst.write_bytes(bytes(data))
    return dst
