"""Publish package files into a local channel: copy atomically, then re-index, under a lock.

Order of operations (all under the channel lock):

1. every input is opened and checked *before* the lock is taken by the channel's gate
   (:mod:`bridge.channel.gate`: safe member paths and links, valid ``info/*.json``, file name =
   ``name-version-build`` of its index.json, known subdir);
2. every destination is checked: identical bytes already there → ``unchanged``; different
   bytes → the whole batch is refused (:class:`Conflict`) unless ``force``; nothing is copied
   until every input has passed;
3. each package is copied to a hidden temporary name in ``<channel>/<subdir>/`` (hashing while
   copying) and renamed into place; if a copy fails, the files this batch added are removed;
4. the channel is re-indexed with the records already computed (no package is read twice);
   only then does ``publish`` return.

With ``force``, a file replaced by different bytes is first *unlisted* (repodata rewritten
without it), then its new bytes are renamed over it, then repodata lists it again: there is
no moment at which repodata lists the old size and sha256 next to the new bytes.

A publisher killed at any point leaves: package files that are complete (renames are atomic),
repodata that lists only files present (packages land before the repodata that lists them),
and at worst a package that is present but not (or no longer) listed, which the next index
picks up.  ``tests/test_hostile_channel.py`` kills ``publish --force`` at every rename, unlink
and write to check this.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.digest import Digests, file_digests, hash_stream
from ..core.errors import BadInput, Conflict
from ..core.fsutil import atomic_path
from .cache import Entry, SubdirCache, stat_key
from .gate import check_package
from .index import index_channel
from .lock import DEFAULT_TIMEOUT, channel_lock
from .records import SUBDIR_RE, PackageInfo, check_identity, is_package, make_record, read_package_info
from .repodata import load_patch_instructions, write_patch_instructions
from .results import IndexResult

Status = Literal["added", "unchanged", "replaced"]


@dataclass(frozen=True)
class Published:
    source: Path
    path: Path
    status: Status
    yanked: bool = False  #: the file name is yanked in this channel (publishing does not undo that)


@dataclass
class _Input:
    source: Path
    subdir: str
    info: PackageInfo
    dest: Path
    status: Status = "added"


def publish(
    channel: Path,
    packages: Iterable[Path],
    *,
    force: bool = False,
    move: bool = False,
    lock_timeout: float = DEFAULT_TIMEOUT,
    made_from: Mapping[Path, Path] | None = None,
) -> list[Published]:
    """Place ``packages`` into ``channel/<subdir>/`` and update the repodata.

    Republishing identical bytes is a no-op; different bytes under an existing file name are
    refused (clients cache packages by name and checksum) unless ``force``.  ``move`` renames
    the inputs into the channel instead of copying them when they are on the same file system
    (staging directories inside the channel).  ``made_from`` maps a package to the user's input
    it was converted from: messages name that input, not a staging path that is gone by the
    time they are read.  See the module docstring for the guarantees.
    """
    channel = Path(channel)
    inputs = [_inspect(Path(p), channel) for p in packages]
    with channel_lock(channel, lock_timeout):
        _decide(inputs, force, made_from or {})
        replaced = [i for i in inputs if i.status == "replaced"]
        if replaced:  # unlist the old bytes first: a kill after the rename cannot leave their record on the new bytes
            unlist: dict[str, list[str]] = {}
            for item in replaced:
                unlist.setdefault(item.subdir, []).append(item.dest.name)
            index_channel(channel, set(unlist), unlist=unlist)
        fresh = _place(inputs, move)
        _unyank_added(channel, [i for i in inputs if i.status == "added"])
        result = index_channel(channel, {i.subdir for i in inputs}, fresh=fresh)
    return [_outcome(i, result) for i in inputs]


def _inspect(source: Path, channel: Path) -> _Input:
    if not is_package(source) or not source.is_file():
        raise BadInput(source, "not a conda package file (.conda or .tar.bz2)", hint="convert wheels first ('wheel2conda convert --channel') or give .conda/.tar.bz2 files")
    info = read_package_info(source)
    check_identity(source, info.index)
    subdir = info.index.get("subdir")
    if not isinstance(subdir, str) or not SUBDIR_RE.match(subdir):
        raise BadInput(source, f"info/index.json has no valid subdir ({subdir!r})", hint="the package is malformed: rebuild it")
    check_package(source)  # the gate: member paths, links, metadata models, file name = index.json
    return _Input(source, subdir, info, channel / subdir / source.name)


def _decide(inputs: list[_Input], force: bool, made_from: Mapping[Path, Path]) -> None:
    """Set each input's status; raise Conflict before anything is written."""

    def named(item: _Input) -> str:
        origin = made_from.get(item.source)
        return f"{item.source.name} (converted from {origin})" if origin is not None else str(item.source)

    caches: dict[Path, SubdirCache] = {}
    seen: dict[Path, _Input] = {}

    def sha256_of(path: Path) -> str:
        folder = path.parent
        cache = caches.setdefault(folder, SubdirCache.load(folder))
        hit = cache.lookup(path.name, stat_key(path.stat()))
        return hit.record["sha256"] if hit and "sha256" in hit.record else file_digests(path).sha256

    def same_bytes(a: Path, b: Path) -> bool:
        return a.stat().st_size == b.stat().st_size and sha256_of(a) == sha256_of(b)

    for item in inputs:
        if item.dest in seen:  # the same file name twice in one batch
            if not same_bytes(seen[item.dest].source, item.source):
                raise BadInput(made_from.get(item.source, item.source), f"{item.source.name} differs from {named(seen[item.dest])}, which has the same file name", hint="publish only one of them")
            item.status = "unchanged"
            continue
        seen[item.dest] = item
        if not item.dest.exists():
            continue
        if same_bytes(item.dest, item.source):
            item.status = "unchanged"
        elif force:
            item.status = "replaced"
        else:
            raise Conflict(
                item.dest,
                f"already published with different content than {named(item)}",
                hint="bump the build number (--build-number) or pass --force",
            )


def _place(inputs: list[_Input], move: bool) -> dict[str, dict[str, Entry]]:
    """Copy (or move) the inputs that need it; returns their index entries by subdir."""
    fresh: dict[str, dict[str, Entry]] = {}
    added: list[_Input] = []
    try:
        for item in inputs:
            if item.status == "unchanged":
                continue
            with atomic_path(item.dest) as tmp:
                digests = _move_hashed(item.source, tmp) if move else _copy_hashed(item.source, tmp)
            if item.status == "added":
                added.append(item)
            entry = Entry(stat_key(item.dest.stat()), make_record(item.info.index, digests), item.info.about)
            fresh.setdefault(item.subdir, {})[item.dest.name] = entry
    except BaseException:
        for item in added:  # all or nothing: nothing of this batch is listed yet
            if move:
                os.replace(item.dest, item.source)
            else:
                item.dest.unlink(missing_ok=True)
        raise
    return fresh


def _copy_hashed(source: Path, target: Path) -> Digests:
    with source.open("rb") as src, target.open("wb") as dst:
        return hash_stream(src, dst, "md5")


def _move_hashed(source: Path, target: Path) -> Digests:
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copyfile(source, target)  # another file system: copy, then drop the source
        source.unlink()
    with target.open("rb") as fh:
        return hash_stream(fh, None, "md5")


def _unyank_added(channel: Path, added: list[_Input]) -> None:
    """A file name added anew must be visible: drop it from a stale ``remove`` list (an interrupted remove)."""
    for subdir in {i.subdir for i in added}:
        folder = channel / subdir
        instructions = load_patch_instructions(folder)
        names = {i.dest.name for i in added if i.subdir == subdir}
        if names & set(instructions.get("remove", ())):
            instructions["remove"] = [n for n in instructions["remove"] if n not in names]
            write_patch_instructions(folder, instructions)


def _outcome(item: _Input, result: IndexResult) -> Published:
    yanked = item.dest.name in result.subdirs[item.subdir].visible["removed"]
    return Published(item.source, item.dest, item.status, yanked)
