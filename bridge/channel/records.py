"""Repodata records read from package files (``info/index.json`` + md5, sha256, size)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from conda_package_streaming.package_streaming import stream_conda_info

from ..digest import CHUNK
from ..errors import BadInput

PACKAGE_SUFFIXES = (".conda", ".tar.bz2")

#: index.json keys that repodata does not carry (conda-index drops them too).
DROPPED_KEYS = ("arch", "platform")


def is_package(path: Path) -> bool:
    return path.name.endswith(PACKAGE_SUFFIXES) and not path.name.startswith(".")


def read_index_json(path: Path) -> dict[str, Any]:
    """``info/index.json`` of a ``.conda`` or ``.tar.bz2`` file."""
    try:
        for tar, member in stream_conda_info(str(path)):
            if member.name == "info/index.json":
                fh = tar.extractfile(member)
                assert fh is not None
                return json.loads(fh.read())
    except BadInput:
        raise
    except Exception as exc:  # cps raises assorted zip/tar/zstd/json errors
        raise BadInput(path, f"not a readable conda package ({exc})") from None
    raise BadInput(path, "conda package has no info/index.json")


def file_digests(path: Path) -> tuple[str, str, int]:
    """``(md5, sha256, size)`` of a file, in one pass."""
    md5, sha = hashlib.md5(), hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), sha.hexdigest(), size


def record_for(path: Path) -> dict[str, Any]:
    """The repodata record of one package file."""
    index = read_index_json(path)
    for key in DROPPED_KEYS:
        index.pop(key, None)
    md5, sha256, size = file_digests(path)
    index.update(md5=md5, sha256=sha256, size=size)
    return index
