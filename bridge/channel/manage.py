"""Managing what a channel offers: yank, unyank, remove; list and search.

* **yank** keeps the file (existing lock files and caches still resolve it) but hides it from
  solvers: its name goes into ``<subdir>/patch_instructions.json`` ``remove`` (the conda-index
  convention, so re-indexing with conda-index keeps it yanked) and repodata lists it under
  ``removed`` instead of ``packages``.
* **remove** deletes the file and its record.  Crash-safe order: yank and re-index (the file is
  no longer listed), delete the file, drop the yank, re-index.  A publisher killed in between
  leaves an unlisted file or a yank of a missing file, never a listed file that is missing.

Packages are chosen by file name (``foo-1.0-0.conda``, optionally ``linux-64/…``) or by a conda
MatchSpec (``foo``, ``"foo 1.0.*"``, ``"foo[build=*cuda*]"``), matched with py-rattler.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import BadInput, BridgeError
from .cache import SubdirCache
from .index import index_channel, subdirs_present
from .lock import channel_lock
from .records import is_package, read_package, version_key
from .repodata import iter_repodata, listed_files, load_patch_instructions, write_patch_instructions
from .results import IndexResult


@dataclass(frozen=True)
class PackageRow:
    """One package file of a channel."""

    subdir: str
    filename: str
    record: dict[str, Any]
    yanked: bool

    @property
    def path(self) -> str:
        return f"{self.subdir}/{self.filename}"


def catalog(channel: Path, subdirs: Iterable[str] | None = None) -> list[PackageRow]:
    """Every package file listed by the channel's repodata, yanked ones included, sorted."""
    channel = Path(channel)
    if not (channel / "noarch" / "repodata.json").is_file():
        raise BadInput(channel, "not a conda channel (no noarch/repodata.json)", hint="run 'wheel2conda index' on it")
    rows = []
    for subdir, repodata in iter_repodata(channel, subdirs or subdirs_present(channel)):
        folder = channel / subdir
        rows += [PackageRow(subdir, fn, record, False) for fn, record in listed_files(repodata)]
        yanked = repodata.get("removed") or []
        if yanked:
            cache = SubdirCache.load(folder)
            for fn in yanked:
                entry = cache.entries.get(fn)
                if entry is not None:
                    record = entry.record
                elif (folder / fn).is_file():
                    record = read_package(folder / fn)[0]
                else:
                    continue
                rows.append(PackageRow(subdir, fn, record, True))
    return sort_rows(rows)


def sort_rows(rows: Iterable[PackageRow]) -> list[PackageRow]:
    return sorted(
        rows,
        key=lambda r: (r.record.get("name", ""), version_key(str(r.record.get("version", "0"))), r.record.get("build_number", 0), r.record.get("build", ""), r.path),
    )


def search(channel: Path, spec: str, subdirs: Iterable[str] | None = None) -> list[PackageRow]:
    """Packages matching a conda MatchSpec (``numpy``, ``"numpy >=2"``, ``"torch[build=*cu124*]"``, ``"tor*"``)."""
    return match_rows(catalog(channel, subdirs), spec)


def match_rows(rows: Sequence[PackageRow], spec: str) -> list[PackageRow]:
    """The rows whose record matches ``spec``, decided by py-rattler's MatchSpec."""
    import rattler

    try:
        match = rattler.MatchSpec(spec, exact_names_only=False)
    except Exception as exc:
        raise BadInput(None, f"invalid match spec {spec!r}: {exc}", hint="write it as conda does: 'numpy', 'numpy >=2', 'torch[build=*cu124*]'") from None
    by_subdir: dict[str, list[PackageRow]] = {}
    for row in rows:
        by_subdir.setdefault(row.subdir, []).append(row)
    hits: set[tuple[str, str]] = set()
    with tempfile.TemporaryDirectory(prefix="w2c-search-") as tmp:
        for subdir, group in by_subdir.items():
            # rattler parses repodata only from a file; each row is keyed by its path for the round trip
            data: dict[str, dict[str, Any]] = {"info": {"subdir": subdir}, "packages": {}, "packages.conda": {}}
            for row in group:
                data["packages.conda" if row.filename.endswith(".conda") else "packages"][row.filename] = {**row.record, "subdir": subdir}
            path = Path(tmp) / f"{subdir}.json"
            path.write_text(json.dumps(data), encoding="utf-8")
            for record in rattler.RepoData.from_path(path).into_repo_data(rattler.Channel("file:///channel")):
                if match.matches(record):
                    hits.add((subdir, record.file_name))
    return [row for row in rows if (row.subdir, row.filename) in hits]


def select(channel: Path, selectors: Sequence[str]) -> list[PackageRow]:
    """Rows named by file names (``[subdir/]name-version-build.conda``) or match specs; each must match."""
    rows = catalog(channel)
    chosen: dict[str, PackageRow] = {}
    for selector in selectors:
        if is_package(selector.rsplit("/", 1)[-1]):
            subdir, _, filename = selector.rpartition("/")
            found = [r for r in rows if r.filename == filename and subdir in ("", r.subdir)]
            if not found:
                raise BadInput(channel / (selector if subdir else "*/" + filename), "no such package in the channel", hint="see 'wheel2conda channel list' for what it holds")
            if len(found) > 1:
                raise BadInput(channel / filename, f"in several subdirs ({', '.join(r.subdir for r in found)})", hint="name it as SUBDIR/FILE")
        else:
            found = match_rows(rows, selector)
            if not found:
                raise BadInput(channel, f"no package matches {selector!r}", hint="see 'wheel2conda channel list' for what it holds")
        chosen.update((r.path, r) for r in found)
    return list(chosen.values())


def _set_yanked(channel: Path, rows: Iterable[PackageRow], yanked: bool) -> None:
    """Add or drop file names in each subdir's ``remove`` list."""
    by_subdir: dict[str, set[str]] = {}
    for row in rows:
        by_subdir.setdefault(row.subdir, set()).add(row.filename)
    for subdir, names in by_subdir.items():
        folder = channel / subdir
        instructions = load_patch_instructions(folder)
        before = set(instructions.get("remove", ()))
        after = before | names if yanked else before - names
        if after != before:
            instructions["remove"] = sorted(after)
            write_patch_instructions(folder, instructions)


def yank(channel: Path, selectors: Sequence[str], *, undo: bool = False) -> tuple[list[PackageRow], IndexResult]:
    """Hide (``undo``: show again) the selected packages; files stay in the channel."""
    channel = Path(channel)
    with channel_lock(channel):
        index_channel(channel)  # so that a package copied in but not yet listed can be selected
        rows = select(channel, selectors)
        _set_yanked(channel, rows, not undo)
        return rows, index_channel(channel)


def remove(channel: Path, selectors: Sequence[str]) -> tuple[list[PackageRow], IndexResult]:
    """Delete the selected package files and their records (crash-safe order: module docstring)."""
    channel = Path(channel)
    with channel_lock(channel):
        index_channel(channel)  # so that a package copied in but not yet listed can be selected
        rows = select(channel, selectors)
        _set_yanked(channel, rows, True)
        index_channel(channel)
        for row in rows:
            try:
                (channel / row.subdir / row.filename).unlink(missing_ok=True)
            except OSError as exc:
                raise BridgeError(channel / row.path, f"cannot delete ({exc.strerror or exc}); it stays yanked") from None
        _set_yanked(channel, rows, False)
        return rows, index_channel(channel)
