"""Write a planned conda package as a plain directory (for inspection and debugging).

Links and file modes belong in archives, not on the host file system: softlinks are listed
in ``info/paths.json`` but not created, so the tree can be written on any host (including
Windows without symlink privileges).  Executable bits are applied where the host has them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from ..core.errors import BadInput
from ..core.fsutil import make_parents, remove_empty, temp_name
from ..model import Distribution
from ..model.paths import contained_output
from ..plan.types import CondaPackage, PlannedFile
from ..sources.payload import open_payload
from .conda import output_path
from .settings import WriteSettings


def write_tree(pkg: CondaPackage, dist: Distribution, out_dir: Path, settings: WriteSettings) -> Path:
    """Write ``<out_dir>/<name>-<version>-<build>/`` atomically; returns it.

    Only ever renames or removes inside ``out_dir``: the tree's name passes conda's grammar, it
    and every file in it are joined through the contained join, and an existing tree of the
    same name is replaced only when it is a real folder (not a link) directly in ``out_dir``.
    """
    where = dist.provenance.path
    final = output_path(pkg, dist, Path(out_dir), "tree")
    created = make_parents(final.parent)  # removed again if the write fails
    tmp = temp_name(final)
    done = False
    try:
        for path, data in pkg.metadata_files():
            _target(tmp, path, where).write_bytes(data)
        for f, stream in open_payload([*pkg.info_files, *pkg.files], dist):
            if stream is not None:
                _write_file(tmp, f, stream, where)
        old = None
        if final.exists() or final.is_symlink():
            if final.is_symlink() or not final.is_dir() or final.parent.resolve() != Path(out_dir).resolve():
                raise BadInput(where, f"refusing to replace {final}: not a folder this writer made", hint="remove it, or write elsewhere")
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


def _target(root: Path, archive_path: str, where: str) -> Path:
    dest = contained_output(root, archive_path, where)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest


def _write_file(root: Path, f: PlannedFile, stream: BinaryIO, where: str) -> None:
    dest = _target(root, f.path, where)
    with dest.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    if os.name == "posix":
        dest.chmod(f.mode)
