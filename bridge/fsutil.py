"""Atomic file output: write to a temporary name in the destination directory, then rename."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BadInput
from .model.paths import UnsafePath, contained_join

TEMP_MARK = ".w2c-tmp-"


def temp_name(final: Path) -> Path:
    """A hidden sibling of ``final`` that indexers and clients ignore."""
    return final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


@contextmanager
def atomic_path(final: Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``final`` in one rename, else it is removed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        yield tmp
        if fsync and tmp.is_file():
            with tmp.open("ab") as fh:  # Windows can only flush a handle opened for writing
                os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists() or tmp.is_symlink():
            tmp.unlink()


def atomic_write(final: Path, data: bytes) -> None:
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)


def is_temp(path: Path) -> bool:
    return TEMP_MARK in path.name


def contained_output(root: Path, rel: str, where: str | None) -> Path:
    """``root/rel`` through :func:`bridge.model.paths.contained_join`; a :class:`BadInput` naming ``where`` otherwise."""
    try:
        return contained_join(root, rel)
    except UnsafePath as exc:
        raise BadInput(where, f"refusing to write outside the output folder: {exc}", hint="never install this input; report it to its publisher") from None
