"""Publish package files into a local channel: copy atomically, then re-index, under a lock."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import BadInput, Conflict
from ..fsutil import atomic_path
from ..pypi_map import write_mapping
from .index import index_channel
from .lock import channel_lock
from .records import file_digests, is_package, read_index_json

Status = Literal["added", "unchanged", "replaced"]


@dataclass(frozen=True)
class Published:
    source: Path
    path: Path
    status: Status


def publish(channel: Path, packages: Iterable[Path], *, force: bool = False) -> list[Published]:
    """Place ``packages`` into ``channel/<subdir>/`` and update the repodata.

    Republishing identical bytes is a no-op; different bytes under an existing file name are
    refused (clients cache packages by name and checksum) unless ``force``.
    """
    channel = Path(channel)
    planned = [(Path(p), _subdir_of(Path(p))) for p in packages]
    results: list[Published] = []
    with channel_lock(channel):
        for source, subdir in planned:
            dest = channel / subdir / source.name
            status: Status = "added"
            if dest.exists():
                if file_digests(dest)[1] == file_digests(source)[1]:
                    results.append(Published(source, dest, "unchanged"))
                    continue
                if not force:
                    raise Conflict(
                        dest,
                        "already published with different content",
                        hint="bump the build number (--build-number) or pass --force",
                    )
                status = "replaced"
            with atomic_path(dest) as tmp:
                shutil.copyfile(source, tmp)
            results.append(Published(source, dest, status))
        index_channel(channel, {s for _, s in planned} | set())
        write_mapping(channel)  # wheel2conda issue 10: PyPI <-> conda name maps for pixi/conda-lock (bridge/pypi_map.py)
    return results


def _subdir_of(path: Path) -> str:
    if not is_package(path):
        raise BadInput(path, "not a conda package file (.conda or .tar.bz2)")
    subdir = read_index_json(path).get("subdir")
    if not isinstance(subdir, str) or not subdir:
        raise BadInput(path, "info/index.json has no subdir")
    return subdir
