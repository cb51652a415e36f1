"""``repodata.json`` of one subdir: build it, patch it, serialise it, and write it with its ``.zst``.

Write invariant (``write_repodata``): at every instant ``repodata.json.zst`` is either absent or
decompresses to exactly the bytes of ``repodata.json``; it is never older than the json.  conda
26 reads the ``.zst`` when present and falls back to the json when absent; rattler reads only
the json for ``file://`` channels.  The steps, each a single rename or unlink:

1. remove files that clients would read *instead of* ``repodata.json`` (sharded index,
   ``current_repodata.json``, ``.bz2``) so they can never hide what is written next;
2. write both new files under temporary names (fsynced);
3. unlink the old ``.zst`` (readers now use the old json, which the old zst equalled);
4. rename the new json into place (readers see the new json, no zst);
5. rename the new zst into place (pair complete).

A crash between any two steps leaves a state every client reads consistently; the next index
completes the pair.  Temporary files are hidden (``.<name>.w2c-tmp-…``) and ignored by clients.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

from ..core.errors import BadInput
from ..core.fsutil import atomic_path
from ..core.limits import read_small_file
from ..model.conda import check_repodata
from .cache import Entry, encode_record, parse_records
from .records import package_name

REPODATA = "repodata.json"
#: Largest repodata.json read back (local channels; conda-forge's whole linux-64 is ~250 MiB).
REPODATA_CAP = 512 << 20
REPODATA_ZST = "repodata.json.zst"
PATCH_INSTRUCTIONS = "patch_instructions.json"
#: zstd level of ``repodata.json.zst``: ~5x smaller than the json in ~3 ms/MB; level 19 is 15% smaller and 100x slower.
ZST_LEVEL = 3

#: Files other tools write that conda would read instead of (or before) our repodata.json.
SHADOWING_FILES = (
    "repodata_shards.msgpack.zst",
    "current_repodata.json",
    "current_repodata.json.zst",
    "current_repodata.json.bz2",
    "repodata.json.bz2",
    "repodata_from_packages.json",
    "repodata_from_packages.json.zst",
    "repodata_from_packages.json.bz2",
)
#: Directories of the sharded repodata, only meaningful next to its (removed) index.
SHADOWING_DIRS = ("shards",)


Record = Entry | dict[str, Any]  #: a cached entry (decoded only when needed) or a plain record


def as_dict(record: Record) -> dict[str, Any]:
    return record.record if isinstance(record, Entry) else record


def build_repodata(subdir: str, records: Mapping[str, Record], instructions: Mapping[str, Any]) -> dict[str, Any]:
    """Repodata from ``{file name: record}``, with conda-index style ``patch_instructions.json`` applied.

    Values stay what they were given (cache entries are not decoded), except patched records,
    which become new dicts; :func:`dump_repodata` and :func:`materialize` accept both."""
    packages: dict[str, Record] = {}
    packages_conda: dict[str, Record] = {}
    for name in sorted(records):
        (packages_conda if name.endswith(".conda") else packages)[name] = records[name]
    repodata = {
        "info": {"subdir": subdir},
        "packages": packages,
        "packages.conda": packages_conda,
        "removed": [],
        "repodata_version": 1,
    }
    if instructions:
        apply_patch_instructions(repodata, instructions)
    return repodata


def materialize(repodata: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``repodata`` whose records are all plain dicts (cache entries decoded in one go)."""
    groups = ("packages", "packages.conda")
    parse_records(v for g in groups for v in repodata[g].values() if isinstance(v, Entry))
    return {**repodata, **{g: {name: as_dict(v) for name, v in repodata[g].items()} for g in groups}}


def apply_patch_instructions(repodata: dict[str, Any], instructions: Mapping[str, Any]) -> None:
    """conda-index semantics: ``packages``/``packages.conda`` record patches (a ``.tar.bz2`` patch also
    applies to its ``.conda`` twin), ``revoke`` (unsatisfiable dependency) and ``remove``
    (hidden from clients, listed under ``removed``).  Patched records are new dicts."""
    groups = {"packages": repodata["packages"], "packages.conda": repodata["packages.conda"]}

    def patch(group: str, name: str, changes: Mapping[str, Any]) -> None:
        records = groups[group]
        if name in records:
            records[name] = {**as_dict(records[name]), **changes}

    for name, changes in instructions.get("packages", {}).items():
        patch("packages", name, changes)
        if name.endswith(".tar.bz2"):
            patch("packages.conda", name[: -len(".tar.bz2")] + ".conda", changes)
    for name, changes in instructions.get("packages.conda", {}).items():
        patch("packages.conda", name, changes)
    for name in instructions.get("revoke", ()):
        for group, records in groups.items():
            if name in records:
                depends = as_dict(records[name]).get("depends", [])
                patch(group, name, {"revoked": True, "depends": [*depends, "package_has_been_revoked"]})
    removed = set()
    for name in instructions.get("remove", ()):
        for records in groups.values():
            if records.pop(name, None) is not None:
                removed.add(name)
    repodata["removed"] = sorted(removed)


def load_patch_instructions(folder: Path) -> dict[str, Any]:
    path = folder / PATCH_INSTRUCTIONS
    try:
        if not os.path.lexists(path):
            raise FileNotFoundError(path)
        data = json.loads(read_small_file(path, "patch_instructions.json"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise BadInput(path, f"not valid JSON ({exc})", hint="fix or delete the file, then run 'wheel2conda index'") from None
    version = data.get("patch_instructions_version", 1) if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(version, int) or isinstance(version, bool) or version > 1:
        raise BadInput(path, "unsupported patch instructions (need an object with patch_instructions_version 1)", hint="write patch_instructions_version 1 (conda-index's format)")
    return data


def write_patch_instructions(folder: Path, instructions: Mapping[str, Any]) -> None:
    """Write (atomically) ``patch_instructions.json``, or delete it when no instruction is left."""
    path = folder / PATCH_INSTRUCTIONS
    if not any(v for k, v in instructions.items() if k != "patch_instructions_version"):
        path.unlink(missing_ok=True)
        return
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"patch_instructions_version": 1, **instructions}, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def dump_repodata(repodata: Mapping[str, Any]) -> bytes:
    """Deterministic JSON with one package record per line.

    Records are compact and key-sorted (``cache.encode_record``); a cache entry contributes its
    stored JSON text, so an unchanged record is never encoded again.  One record per line makes
    the file greppable and its diffs readable; keys are sorted at every level, so equal
    repodata gives equal bytes.
    """
    parts = []
    for key in sorted(repodata):
        value = repodata[key]
        if key in ("packages", "packages.conda") and value:
            lines = ",\n".join(
                f"{json.dumps(name)}:{v.text if isinstance(v, Entry) else encode_record(v)}"
                for name, v in sorted(value.items())
            )
            parts.append(f"{json.dumps(key)}:{{\n{lines}\n}}")
        else:
            parts.append(f"{json.dumps(key)}:{json.dumps(value, sort_keys=True, separators=(',', ':'))}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")


def remove_shadowing(folder: Path) -> list[Path]:
    """Delete what other indexers leave that conda would read instead of our repodata.json."""
    removed = []
    for name in SHADOWING_FILES:
        path = folder / name
        if path.is_file():
            path.unlink()
            removed.append(path)
    for name in SHADOWING_DIRS:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(path)
    return removed


def pair_is_current(folder: Path, data: bytes) -> bool:
    """``repodata.json`` equals ``data`` and ``repodata.json.zst`` decompresses to it."""
    try:
        for name in (REPODATA, REPODATA_ZST):  # a FIFO or a link to a device is replaced, never read
            if not stat.S_ISREG((folder / name).lstat().st_mode):
                return False
        if (folder / REPODATA).read_bytes() != data:
            return False
        return zstandard.ZstdDecompressor().decompress((folder / REPODATA_ZST).read_bytes()) == data
    except (OSError, zstandard.ZstdError):
        return False


def write_repodata(folder: Path, data: bytes) -> bool:
    """Write ``repodata.json`` and its ``.zst`` as a pair (module docstring); False if already current."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_shadowing(folder)
    if pair_is_current(folder, data):
        return False
    compressed = zstandard.ZstdCompressor(level=ZST_LEVEL, write_content_size=True).compress(data)
    zst = folder / REPODATA_ZST
    # atomic_path renames on exit: the inner (json) block exits first, then the outer (zst).
    with atomic_path(zst) as zst_tmp:
        with atomic_path(folder / REPODATA) as json_tmp:
            json_tmp.write_bytes(data)
            zst_tmp.write_bytes(compressed)
            zst.unlink(missing_ok=True)
    return True


def read_repodata(folder: Path) -> dict[str, Any]:
    """Parse ``folder/repodata.json``; BadInput naming the file if it is missing or broken."""
    path = folder / REPODATA
    try:
        if not os.path.lexists(path):
            raise FileNotFoundError(path)
        data = json.loads(read_small_file(path, "repodata.json", cap=REPODATA_CAP))
    except FileNotFoundError:
        raise BadInput(path, "no repodata.json", hint="run 'wheel2conda index' on the channel") from None
    except ValueError as exc:
        raise BadInput(path, f"not valid JSON ({exc})", hint="fix or delete the file, then run 'wheel2conda index'") from None
    if not isinstance(data, dict):
        raise BadInput(path, "repodata is not a JSON object", hint="delete it and run 'wheel2conda index'")
    try:
        return check_repodata(data, str(path), "repodata.json")
    except BadInput as exc:
        raise BadInput(path, exc.reason.removeprefix("repodata.json: "), hint="delete it and run 'wheel2conda index'") from None


def listed_files(repodata: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """``(file name, record)`` of every package a client can install."""
    for group in ("packages", "packages.conda"):
        yield from (repodata.get(group) or {}).items()


@dataclass(frozen=True)
class ListedPackage:
    """One package file a channel's repodata lists (what a client can install)."""

    subdir: str
    filename: str
    record: Mapping[str, Any]  #: its repodata record, as the document has it

    @property
    def name(self) -> str:
        """The record's package name (else the one in the file name)."""
        name = self.record.get("name")
        return name if isinstance(name, str) else package_name(self.filename)


def indexed_subdirs(channel: Path) -> list[str]:
    """Subdirs of ``channel`` that have a ``repodata.json``, sorted."""
    return sorted(p.parent.name for p in Path(channel).glob(f"*/{REPODATA}"))


def iter_repodata(channel: Path, subdirs: Iterable[str] | None = None, *, skip_broken: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(subdir, repodata)`` of each of ``subdirs`` (in that order; default: every indexed one)
    that has a ``repodata.json``, read by :func:`read_repodata`; a broken one is a BadInput, or skipped."""
    for subdir in subdirs if subdirs is not None else indexed_subdirs(channel):
        folder = Path(channel) / subdir
        if not (folder / REPODATA).is_file():
            continue
        try:
            repodata = read_repodata(folder)
        except BadInput:
            if skip_broken:
                continue
            raise
        yield subdir, repodata


def iter_records(channel: Path, subdirs: Iterable[str] | None = None, *, skip_broken: bool = False) -> Iterator[ListedPackage]:
    """Every package file the channel's repodata lists (yanked ones are not), subdir by subdir,
    ``packages`` then ``packages.conda``.  The one walk over a channel's records;
    :func:`iter_repodata` says which subdirs and what a broken one does."""
    for subdir, repodata in iter_repodata(channel, subdirs, skip_broken=skip_broken):
        for filename, record in listed_files(repodata):
            yield ListedPackage(subdir, filename, record)
