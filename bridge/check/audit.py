"""``channel verify``: is a channel's repodata true to its files?  (:func:`audit_channel`)

Independent of the index cache: every listed file is opened and hashed again.  Checks:

* ``noarch/repodata.json`` exists; each subdir's ``repodata.json`` parses and its
  ``info.subdir`` equals the folder name;
* every listed package exists, with the listed size, sha256 and md5, and its file name is
  ``name-version-build`` of its record;
* every listed package passes the channel's gate (:mod:`bridge.channel.gate`: safe member paths
  and links, valid ``info/*.json``, file name matching index.json) — checked with the hashes;
* every package file in a subdir is listed (under ``packages``/``packages.conda`` or
  ``removed``);
* ``repodata.json.zst``, when present, decompresses to exactly ``repodata.json``, and nothing
  that conda would read instead of it (shards, ``current_repodata.json``) is present.

Files shipped at the same installed path by packages of different names are reported as
``clashes`` (:func:`.libreport.file_clashes`): not a broken channel, but packages that
overwrite each other when installed together.

Leftover temporary files of a killed publisher are reported as notes, not problems (the next
publish or index sweeps them).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import zstandard

from ..channel.gate import check_package
from ..channel.index import READ_THREADS
from ..channel.lock import channel_lock
from ..channel.records import SUBDIR_RE, is_package, package_stem
from ..channel.repodata import REPODATA, REPODATA_ZST, SHADOWING_DIRS, SHADOWING_FILES, listed_files, read_repodata
from ..core.digest import file_digests
from ..core.errors import BridgeError
from ..core.fsutil import TEMP_MARK, is_abandoned, is_stage
from ..core.limits import special_kind
from ..model.conda import RepodataRecord
from .libreport import FileClash, file_clashes

ProblemKind = Literal["not-a-channel", "no-repodata", "bad-repodata", "stale", "unlisted", "misfiled", "missing-file", "changed-file", "temporary", "unsafe-package", "unreadable"]


@dataclass
class Problem:
    path: Path
    reason: str
    kind: ProblemKind  #: what is wrong, so that the CLI can say how to fix it


@dataclass
class AuditReport:
    channel: Path
    subdirs: list[str] = field(default_factory=list)
    checked: int = 0  #: listed package files checked
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    clashes: list[FileClash] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_channel(channel: Path, *, hashes: bool = True, lock: bool = True) -> AuditReport:
    """Check ``channel`` (module docstring).  ``hashes=False`` checks sizes only.  With ``lock``
    (default) a concurrent publish cannot show up as a half-done state."""
    channel = Path(channel)
    report = AuditReport(channel)
    if not channel.is_dir():
        report.problems.append(Problem(channel, "no such directory", "not-a-channel"))
        return report
    with ExitStack() as stack:
        if lock:
            try:
                stack.enter_context(channel_lock(channel))
            except OSError:  # a read-only channel: nobody can be publishing into it
                pass
        _audit(channel, report, hashes)
    return report


def _audit(channel: Path, report: AuditReport, hashes: bool) -> None:
    if not (channel / "noarch" / REPODATA).is_file():
        report.problems.append(Problem(channel / "noarch" / REPODATA, "missing (every conda channel needs it)", "no-repodata"))
    report.notes += [Problem(p, "temporary file left by an interrupted publish", "temporary") for p in channel.iterdir() if TEMP_MARK in p.name]
    report.notes += [
        Problem(p, "staging folder of an interrupted 'convert --channel' or 'recipes build'" + ("; the next publish or index removes it" if is_abandoned(p) else " (still running?)"), "temporary")
        for p in sorted(channel.iterdir())
        if is_stage(p)
    ]
    folders = sorted(p for p in channel.iterdir() if p.is_dir() and SUBDIR_RE.match(p.name))
    to_hash: list[tuple[Path, dict[str, Any]]] = []
    for folder in folders:
        to_hash += _audit_subdir(folder, report)
    report.checked = len(to_hash)
    with ThreadPoolExecutor(READ_THREADS) as pool:
        for problem in pool.map(lambda item: _check_file(item[0], item[1], hashes), to_hash):
            if problem is not None:
                report.problems.append(problem)
    if not report.problems and report.subdirs:
        try:
            report.clashes = file_clashes(channel, report.subdirs)
        except BridgeError as exc:
            report.problems.append(Problem(Path(exc.path or channel), exc.reason, "unreadable"))


def _audit_subdir(folder: Path, report: AuditReport) -> list[tuple[Path, dict[str, Any]]]:
    """Structural checks of one subdir; returns the listed files still to be checked on disk."""
    on_disk = {p.name for p in folder.iterdir() if is_package(p)}
    report.notes += [Problem(p, "temporary file left by an interrupted publish", "temporary") for p in _temps(folder)]
    if not (folder / REPODATA).is_file():
        if on_disk:
            report.problems.append(Problem(folder / REPODATA, f"missing, but {len(on_disk)} package files are here", "no-repodata"))
        return []
    report.subdirs.append(folder.name)
    try:
        repodata = read_repodata(folder)
    except BridgeError as exc:
        report.problems.append(Problem(folder / REPODATA, exc.reason, "bad-repodata"))
        return []
    subdir = (repodata.get("info") or {}).get("subdir")
    if subdir != folder.name:
        report.problems.append(Problem(folder / REPODATA, f"info.subdir is {subdir!r}, not {folder.name!r}", "bad-repodata"))
    _check_zst(folder, report)
    for name in (*SHADOWING_FILES, *SHADOWING_DIRS):
        if (folder / name).exists():
            report.problems.append(Problem(folder / name, "stale: conda would read it instead of repodata.json", "stale"))

    listed = dict(listed_files(repodata))
    yanked = set(repodata.get("removed") or ())
    for name in sorted(on_disk - listed.keys() - yanked):
        report.problems.append(Problem(folder / name, "package file not listed in repodata.json", "unlisted"))
    todo = []
    for name, record in listed.items():
        try:
            RepodataRecord.from_raw(record, str(folder / REPODATA), f"{REPODATA}: {name}", subdir=folder.name)
        except BridgeError as exc:
            report.problems.append(Problem(folder / name, exc.reason, "bad-repodata"))
            continue
        expected = f"{record.get('name')}-{record.get('version')}-{record.get('build')}"
        if not is_package(name) or package_stem(name) != expected:
            report.problems.append(Problem(folder / name, f"listed under a name that is not its name-version-build ({expected})", "bad-repodata"))
        elif record.get("subdir", folder.name) != folder.name:
            report.problems.append(Problem(folder / name, f"record subdir {record.get('subdir')!r} in folder {folder.name!r}", "misfiled"))
        todo.append((folder / name, record))
    return todo


def _check_file(path: Path, record: dict[str, Any], hashes: bool) -> Problem | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return Problem(path, "listed in repodata.json but missing", "missing-file")
    kind = special_kind(st.st_mode)
    if kind is not None:
        return Problem(path, f"is {kind}, not a package file", "changed-file")
    size = st.st_size
    if size != record.get("size"):
        return Problem(path, f"size is {size} bytes, repodata says {record.get('size')}", "changed-file")
    if hashes:
        digests = file_digests(path, "md5")
        md5, sha256 = digests.md5, digests.sha256
        if sha256 != record.get("sha256"):
            return Problem(path, "sha256 differs from repodata.json", "changed-file")
        if "md5" in record and md5 != record["md5"]:
            return Problem(path, "md5 differs from repodata.json", "changed-file")
        try:
            check_package(path)  # what publish's gate refuses, reported for packages already here
        except BridgeError as exc:
            return Problem(path, exc.reason, "unsafe-package")
    return None


def _check_zst(folder: Path, report: AuditReport) -> None:
    zst = folder / REPODATA_ZST
    if not zst.exists():
        return
    if special_kind(zst.stat().st_mode) is not None:
        report.problems.append(Problem(zst, "not a regular file", "stale"))
        return
    try:
        same = zstandard.ZstdDecompressor().decompress(zst.read_bytes(), max_output_size=1 << 31) == (folder / REPODATA).read_bytes()
    except zstandard.ZstdError as exc:
        report.problems.append(Problem(zst, f"not valid zstd ({exc})", "stale"))
        return
    if not same:
        report.problems.append(Problem(zst, "stale: differs from repodata.json (conda reads the .zst first)", "stale"))


def _temps(folder: Path) -> Iterable[Path]:
    yield from (p for p in folder.iterdir() if TEMP_MARK in p.name)
    cache = folder / ".cache"
    if cache.is_dir():
        yield from (p for p in cache.iterdir() if TEMP_MARK in p.name)
