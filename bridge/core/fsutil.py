"""Atomic file output: write to a temporary name in the destination directory, then rename."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_MARK = ".w2c-tmp-"
#: Prefix of the staging folders ``convert --channel`` and ``recipes build`` convert into
#: (``.w2c-stage-<pid>-<random>``, inside the channel so that publishing is a rename).
STAGE_MARK = ".w2c-stage-"
#: A temporary file or staging folder whose writer may still be alive is left alone this long.
STALE_SECONDS = 3600.0


def temp_name(final: Path) -> Path:
    """A hidden sibling of ``final`` that indexers and clients ignore."""
    return final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def make_parents(folder: Path) -> list[Path]:
    """``mkdir -p folder``; returns the folders this call created, outermost first."""
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def remove_empty(created: list[Path]) -> None:
    """Remove the folders :func:`make_parents` created, innermost first, while they are empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:  # not empty (another output landed there) or already gone
            return


@contextmanager
def atomic_path(final: Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``final`` in one rename, else it is removed
    (with the folders this call created for it: a failed write leaves no empty ``noarch/``)."""
    created = make_parents(final.parent)
    tmp = temp_name(final)
    done = False
    try:
        yield tmp
        if fsync and tmp.is_file():
            with tmp.open("ab") as fh:  # Windows can only flush a handle opened for writing
                os.fsync(fh.fileno())
        os.replace(tmp, final)
        done = True
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists() or tmp.is_symlink():
            tmp.unlink()
        if not done:
            remove_empty(created)


def atomic_write(final: Path, data: bytes) -> None:
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)


@contextmanager
def staging_dir(parent: Path) -> Iterator[Path]:
    """A fresh ``.w2c-stage-<pid>-<random>`` folder in ``parent``, removed on exit.

    A run killed inside leaves it behind; :func:`is_abandoned` tells the next publish or index
    (which sweep it) and ``channel verify`` (which reports it) that its writer is gone.
    """
    path = parent / f"{STAGE_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def is_stage(path: Path) -> bool:
    return path.name.startswith(STAGE_MARK)


def _writer_pid(name: str) -> int | None:
    if TEMP_MARK in name:
        text = name.split(TEMP_MARK, 1)[1].split("-", 1)[0]
    elif name.startswith(STAGE_MARK):
        text = name[len(STAGE_MARK) :].split("-", 1)[0]
    else:
        return None
    return int(text) if text.isdigit() and len(text) < 10 else None


def is_abandoned(path: Path, now: float | None = None, max_age: float = STALE_SECONDS) -> bool:
    """A temporary file or staging folder older than ``max_age``, or (POSIX) whose writer's pid
    (in its name) is no longer running on this host."""
    try:
        if (now if now is not None else time.time()) - path.lstat().st_mtime > max_age:
            return True
    except FileNotFoundError:
        return False
    if os.name == "nt":
        return False  # os.kill(pid, 0) would terminate the process on Windows
    pid = _writer_pid(path.name)
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def remove_abandoned(path: Path) -> None:
    """Delete an abandoned temporary file or staging folder (never following a link out)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)

