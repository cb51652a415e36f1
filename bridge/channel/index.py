"""Write ``repodata.json`` for the subdirs of a local channel, atomically."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..fsutil import atomic_write
from .records import is_package, record_for

#: Files clients prefer over repodata.json; a stale one hides new packages.
SHADOWING = ("repodata.json.zst", "repodata.json.bz2", "current_repodata.json", "repodata_shards.msgpack.zst")


def subdirs_present(channel: Path) -> list[str]:
    """Subdirectories that hold packages or repodata, plus ``noarch`` (always required)."""
    found = {"noarch"}
    if channel.is_dir():
        for child in channel.iterdir():
            if child.is_dir() and not child.name.startswith(".") and (
                (child / "repodata.json").exists() or any(is_package(p) for p in child.iterdir())
            ):
                found.add(child.name)
    return sorted(found)


def build_repodata(channel: Path, subdir: str) -> dict[str, Any]:
    """Repodata for one subdir, from the package files present."""
    packages: dict[str, Any] = {}
    packages_conda: dict[str, Any] = {}
    folder = channel / subdir
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not is_package(path):
            continue
        record = record_for(path)
        stem = path.name[: -len(".conda")] if path.name.endswith(".conda") else path.name[: -len(".tar.bz2")]
        if f"{record.get('name')}-{record.get('version')}-{record.get('build')}" != stem:
            raise BadInput(path, "file name does not match the name, version and build in its info/index.json")
        record["subdir"] = subdir
        (packages_conda if path.name.endswith(".conda") else packages)[path.name] = record
    return {
        "info": {"subdir": subdir},
        "packages": packages,
        "packages.conda": packages_conda,
        "removed": [],
        "repodata_version": 1,
    }


def write_repodata(channel: Path, subdir: str, repodata: dict[str, Any]) -> Path:
    folder = channel / subdir
    folder.mkdir(parents=True, exist_ok=True)
    for name in SHADOWING:
        stale = folder / name
        if stale.exists():
            stale.unlink()
    target = folder / "repodata.json"
    atomic_write(target, (json.dumps(repodata, indent=1, sort_keys=True) + "\n").encode())
    return target


def index_channel(channel: Path, subdirs: Iterable[str] | None = None) -> list[Path]:
    """(Re)write repodata for ``subdirs`` (default: all present) and always ``noarch``."""
    wanted = sorted(set(subdirs or subdirs_present(channel)) | {"noarch"})
    return [write_repodata(channel, s, build_repodata(channel, s)) for s in wanted]
