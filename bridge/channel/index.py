"""Index a local channel incrementally: ``repodata.json`` (+ ``.zst``) per subdir, then the site files.

Only packages that are new or whose stat key changed are opened (``cache.py``); everything is
written by temp file + rename, under the channel lock, and only when its bytes change, so
re-indexing an unchanged channel writes nothing.  After the index, the post-index steps run
(``hooks.py``: the site files, the PyPI name maps, then registered hooks), still under the lock.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..core.errors import BadInput, BridgeError
from ..core.fsutil import TEMP_MARK, is_abandoned, is_stage, remove_abandoned
from .cache import CACHE_DIR, Entry, StatKey, SubdirCache, path_key, stat_key
from .hooks import run_post_index_steps
from .lock import channel_lock, close_inherited_locks
from .records import SUBDIR_RE, is_package, package_name, read_package
from .repodata import PATCH_INSTRUCTIONS, REPODATA, REPODATA_ZST, SHADOWING_DIRS, SHADOWING_FILES, as_dict, dump_repodata, load_patch_instructions, write_repodata
from .results import IndexResult, SubdirIndex
from .site import summarize

#: A temporary file of a live publisher is left alone this long (its pid may be on another host).
STALE_TEMP_SECONDS = 3600.0
ReadOutcome = tuple[dict[str, Any], dict[str, Any]] | BridgeError  #: (record, about subset) or why not
#: Threads hashing package files in ``channel verify`` (hashing releases the GIL).
READ_THREADS = min(8, os.cpu_count() or 1)
#: Processes reading new packages during an index: reading a small package is mostly Python
#: (zip directory, tar headers, JSON, models) and holds the GIL, so threads do not scale (two
#: threads were 2.7x *slower* than one on 2 cores); processes do.
READ_PROCESSES = min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
#: Fewer new packages than this are read in this process (starting workers costs more).
PARALLEL_READ_MIN = 200
#: Fewer than this are read here where workers must be spawned (not forked).
PARALLEL_SPAWN_MIN = 2000
#: Forces a start method for the workers (tests); None chooses as ``PackageReader._start`` says.
READ_START_METHOD: str | None = None
#: Packages a worker reads per task (amortises the round trip; small enough to balance the load).
READ_CHUNK = 64


def subdirs_present(channel: Path) -> list[str]:
    """Subdirectories that hold packages or repodata, plus ``noarch`` (always required)."""
    found = {"noarch"}
    if channel.is_dir():
        for child in channel.iterdir():
            if SUBDIR_RE.match(child.name) and child.is_dir() and (
                (child / REPODATA).exists() or any(is_package(p) for p in child.iterdir())
            ):
                found.add(child.name)
    return sorted(found)


def index_channel(
    channel: Path,
    subdirs: Iterable[str] | None = None,
    *,
    rehash: bool = False,
    fresh: Mapping[str, Mapping[str, Entry]] | None = None,
    unlist: Mapping[str, Iterable[str]] | None = None,
) -> IndexResult:
    """Bring repodata of every subdir present (plus ``subdirs`` and ``noarch``) up to date.

    ``rehash`` re-reads every package instead of trusting the cache.  ``fresh`` maps subdir →
    file name → :class:`Entry` for packages whose record the caller already computed (publish).
    ``unlist`` maps subdir → file names to leave out although present (publish, before it
    replaces their bytes: repodata never lists a file with another file's size and sha256).
    Takes the channel lock (re-entrant: callers holding it may call this).
    """
    channel = Path(channel)
    if not channel.is_dir():
        raise BadInput(channel, "no such directory", hint="publish packages into it, or create it first")
    for name in subdirs or ():
        if not SUBDIR_RE.match(name):
            raise BadInput(channel / name, "not a conda subdir name (noarch or <os>-<arch>)", hint="use a subdir such as noarch, linux-64, osx-arm64 or win-64")
    with channel_lock(channel):
        wanted = sorted(set(subdirs_present(channel)) | set(subdirs or ()))
        result = IndexResult(channel, {}, rehash=rehash)
        result.removed_temps += sweep_temps(channel)
        with PackageReader() as reader:
            for subdir in wanted:
                result.subdirs[subdir] = index_subdir(
                    channel,
                    subdir,
                    result,
                    rehash=rehash,
                    fresh=(fresh or {}).get(subdir, {}),
                    unlist=frozenset((unlist or {}).get(subdir, ())),
                    reader=reader,
                )
        run_post_index_steps(result)
    return result


def index_subdir(
    channel: Path,
    subdir: str,
    result: IndexResult,
    *,
    rehash: bool = False,
    fresh: Mapping[str, Entry] = {},
    unlist: frozenset[str] = frozenset(),
    reader: PackageReader | None = None,
) -> SubdirIndex:
    """Index one subdir (the caller holds the channel lock); sweeps its stale temporary files
    into ``result.removed_temps`` and adds what it writes to ``result.written``.  New packages
    are read by ``reader`` (default: one for this subdir alone)."""
    folder = channel / subdir
    folder.mkdir(parents=True, exist_ok=True)
    cache = SubdirCache.load(folder)
    entries: dict[str, Entry] = {}
    to_read: list[tuple[str, StatKey]] = []
    now = time.time()
    with os.scandir(folder) as it:
        for dirent in it:
            name = dirent.name
            if name in unlist:
                continue
            if not is_package(name) or not dirent.is_file():
                if TEMP_MARK in name and dirent.is_file() and _is_stale(Path(dirent.path), now):
                    Path(dirent.path).unlink(missing_ok=True)
                    result.removed_temps.append(Path(dirent.path))
                continue
            key = stat_key(dirent.stat())
            known = fresh.get(name)
            if known is not None and known.key == key:
                entries[name] = known
            elif (hit := None if rehash else cache.lookup(name, key)) is not None:
                entries[name] = hit
            else:
                to_read.append((name, key))

    sub = SubdirIndex(subdir, folder, entries, load_patch_instructions(folder))
    if reader is None:
        with PackageReader() as own:
            reads = own.read(folder, to_read)
    else:
        reads = reader.read(folder, to_read)
    for name, key, read in reads:
        if isinstance(read, BridgeError):
            sub.skipped.append(read)
            continue
        record, about = read
        declared = record.setdefault("subdir", subdir)
        if declared != subdir:
            sub.skipped.append(
                BadInput(folder / name, f"info/index.json says subdir {declared!r} but the file is in {subdir}/", hint=f"publish it (it goes into {declared}/)")
            )
            continue
        entries[name] = Entry(key, record, about)
    sub.read = len(to_read)
    sub.entries = entries = dict(sorted(entries.items()))

    inputs = {PATCH_INSTRUCTIONS: path_key(folder / PATCH_INSTRUCTIONS)}
    changed_files = {n for n, e in entries.items() if cache.entries.get(n) is not e} | (cache.entries.keys() - entries.keys())
    shadowed = any((folder / name).exists() for name in (*SHADOWING_FILES, *SHADOWING_DIRS))
    if not rehash and not changed_files and not shadowed and cache.outputs == {**inputs, **_output_keys(folder)}:
        sub.summaries = cache.summaries
        return sub  # nothing changed since the last index: no need to serialise anything
    sub.current = False
    sub.changed = write_repodata(folder, dump_repodata(sub.visible))
    if sub.changed:
        result.written += [folder / REPODATA, folder / REPODATA_ZST]
    everything = rehash or not cache.entries or cache.outputs.get(PATCH_INSTRUCTIONS, "none") != inputs[PATCH_INSTRUCTIONS]
    sub.summaries = _summaries(sub, cache.summaries, None if everything else {package_name(n) for n in changed_files})
    cache.entries, cache.summaries = entries, sub.summaries
    cache.outputs = {**inputs, **_output_keys(folder)}
    cache.save()
    return sub


def _summaries(sub: SubdirIndex, old: dict[str, dict[str, Any]], touched: set[str] | None) -> dict[str, dict[str, Any]]:
    """Channeldata contributions of ``sub``: recomputed for the ``touched`` package names (all if None)."""
    builds: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for group in ("packages", "packages.conda"):
        for filename, record in sub.visible[group].items():
            name = package_name(filename)
            if touched is None or name in touched:
                builds.setdefault(name, []).append((as_dict(record), sub.entries[filename].about))
    summaries = {} if touched is None else {n: v for n, v in old.items() if n not in touched}
    summaries.update((name, summarize(found)) for name, found in builds.items())
    return summaries


def _output_keys(folder: Path) -> dict[str, StatKey | None]:
    return {name: path_key(folder / name) for name in (REPODATA, REPODATA_ZST)}


def _read_one(folder: Path, item: tuple[str, StatKey]) -> tuple[str, StatKey, ReadOutcome]:
    name, key = item
    try:
        return name, key, read_package(folder / name)
    except BridgeError as exc:
        return name, key, exc
    except OSError as exc:
        return name, key, BadInput(folder / name, f"cannot read ({exc.strerror or exc})")


def _read_chunk(folder: Path, items: list[tuple[str, StatKey]]) -> list[tuple[str, StatKey, ReadOutcome]]:
    return [_read_one(folder, item) for item in items]


def _init_worker() -> None:
    close_inherited_locks()


class PackageReader:
    """Reads the new packages of one index run: here when they are few, else in worker processes
    (started on first need, shared by every subdir, stopped on exit).  Results come back in
    input order, so the index does not depend on the number of workers."""

    def __init__(self, processes: int | None = None):
        self.processes = READ_PROCESSES if processes is None else processes
        self._pool: Executor | None = None

    def __enter__(self) -> PackageReader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def read(self, folder: Path, items: list[tuple[str, StatKey]]) -> list[tuple[str, StatKey, ReadOutcome]]:
        """``(name, key, (record, about) or BridgeError)`` for each ``(name, key)``, in order."""
        pool = self._start(len(items))
        if pool is None:
            return _read_chunk(folder, items)
        chunks = [items[i : i + READ_CHUNK] for i in range(0, len(items), READ_CHUNK)]
        try:
            return [read for part in pool.map(_read_chunk, [folder] * len(chunks), chunks) for read in part]
        except BrokenProcessPool:  # a worker died (out of memory, killed): read here instead
            self.processes = 1
            self.__exit__()
            return _read_chunk(folder, items)

    def _start(self, count: int) -> Executor | None:
        if self._pool is not None:
            return self._pool
        if self.processes < 2 or count < PARALLEL_READ_MIN:
            return None
        # fork: a worker starts in milliseconds with everything imported; only from a single-
        # threaded process on Linux (forking threads or macOS frameworks is unsafe).  Elsewhere
        # spawn, whose workers import the package first (~0.2 s), so only for large batches.
        if READ_START_METHOD is not None:
            context = multiprocessing.get_context(READ_START_METHOD)
        elif sys.platform == "linux" and threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        elif count >= PARALLEL_SPAWN_MIN:
            context = multiprocessing.get_context("spawn")
        else:
            return None
        workers = min(self.processes, -(-count // READ_CHUNK))
        self._pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
        return self._pool


def sweep_temps(channel: Path) -> list[Path]:
    """Delete stale temporary files at the channel root and in the subdirs' ``.cache/``, and
    staging folders (``.w2c-stage-*``) of killed ``convert --channel``/``recipes build`` runs
    (the caller holds the lock; ``index_subdir`` sweeps the subdirs themselves while it scans them)."""
    swept = []
    caches = [p / CACHE_DIR for p in channel.iterdir() if SUBDIR_RE.match(p.name) and (p / CACHE_DIR).is_dir()]
    now = time.time()
    for folder in [channel, *caches]:
        for path in folder.iterdir():
            stale_file = TEMP_MARK in path.name and path.is_file() and not path.is_symlink()
            stale_stage = folder == channel and is_stage(path)
            if (stale_file or stale_stage) and _is_stale(path, now):
                remove_abandoned(path)
                swept.append(path)
    return swept


def _is_stale(path: Path, now: float) -> bool:
    """Older than an hour, or (POSIX) its writer's pid is no longer running on this host."""
    return is_abandoned(path, now, STALE_TEMP_SECONDS)
