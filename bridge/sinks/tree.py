"""Write a planned conda package as a plain directory (for inspection and debugging).

Links and file modes belong in archives, not on the host file system: softlinks are listed
in ``info/paths.json`` but not created, so the tree can be written on any host (including
Windows without symlink privileges).  Executable bits are applied where the host has them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..fsutil import make_parents, remove_empty, temp_name
from ..links import open_payload
from ..model import Distribution
from ..plan import CondaPackage, PlannedFile


def write_tree(pkg: CondaPackage, dist: Distribution, out_dir: Path) -> Path:
    """Write ``<out_dir>/<name>-<version>-<build>/`` atomically; returns it."""
    final = Path(out_dir) / pkg.stem
    created = make_parents(final.parent)
    tmp = temp_name(final)
    done = False
    try:
        for path, data in pkg.metadata_files():
            _target(tmp, path).write_bytes(data)
        for f, stream in open_payload([*pkg.info_files, *pkg.files], dist):
            if stream is not None:
                _write_file(tmp, f, stream)
        old = None
        if final.exists():
            old = temp_name(final)
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        done = True
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if not done:
            remove_empty(created)
    return final


def _target(root: Path, archive_path: str) -> Path:
    dest = root.joinpath(*PurePosixPath(archive_path).parts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest


def _write_file(root: Path, f: PlannedFile, stream: BinaryIO) -> None:
    dest = _target(root, f.path)
    with dest.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    if os.name == "posix":
        dest.chmod(f.mode)
