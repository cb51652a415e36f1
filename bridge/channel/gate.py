"""The channel's gate: what a package file must be before it is published, indexed for install or verified.

``publish`` (and so ``convert --channel`` and ``recipes build``) opens every package with
:func:`check_package` and refuses it when:

* a tar member (``info/`` or payload) breaks the path rule (:mod:`bridge.model.paths`): absolute,
  ``..``, backslash, NUL/control characters, invalid UTF-8; case clashes or Windows device names
  where the subdir's file systems need it; a symlink whose target leaves the package; a hard link,
  device, FIFO or other special member;
* ``info/index.json``, ``info/paths.json``, ``info/about.json`` or ``info/link.json`` breaks its
  model (:mod:`bridge.model.conda`): identity outside conda's grammar, unknown subdir, malformed
  entry points, ``paths.json`` paths that are unsafe or disagree with the archive;
* ``info/index.json`` disagrees with the file name.

``channel verify`` reports the same for packages already in a channel, and ``verify`` refuses to
install such a package at all.  One streaming pass over the archive; nothing is extracted.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from conda_package_streaming.package_streaming import stream_conda_component

from ..core.errors import BadInput
from ..model.conda import AboutJson, IndexJson, LinkJson, PathsJson, check_member_names, package_filename, parse_json
from ..model.paths import check_link_target, check_relative_path, zip_overlap
from .records import RENAME_HINT, package_stem

NEVER_INSTALL = "never install this package; report it to its publisher"
_INFO_FILES = ("info/index.json", "info/paths.json", "info/about.json", "info/link.json")
_INFO_LIMIT = 64 << 20  # metadata files larger than this are not metadata


def check_package(path: Path) -> IndexJson:
    """Refuse (BadInput) a package file that must not enter a channel; returns its parsed index.json."""
    path = Path(path)
    where = str(path)
    if path.name.endswith(".conda"):
        try:
            with zipfile.ZipFile(path) as zf:
                _check_zip(zf, where)
        except (zipfile.BadZipFile, OSError, ValueError, UnicodeDecodeError) as exc:
            raise BadInput(where, f"not a readable conda package ({type(exc).__name__}: {exc})", hint="the file is damaged: download or build it again") from None
    info: dict[str, bytes] = {}
    members: dict[str, tarfile.TarInfo] = {}
    try:
        for component in ("info", "pkg") if path.name.endswith(".conda") else ("pkg",):
            for tar, member in _members(path, component):
                name = member.name[2:] if member.name.startswith("./") else member.name
                _check_member(where, name, member)
                if member.isdir():
                    continue
                if name in members:
                    raise BadInput(where, f"tar member {name!r} appears twice", hint=NEVER_INSTALL)
                members[name] = member
                if name in _INFO_FILES and member.isfile():
                    if member.size > _INFO_LIMIT:
                        raise BadInput(where, f"{name} is implausibly large ({member.size} bytes)", hint=NEVER_INSTALL)
                    fh = tar.extractfile(member)
                    assert fh is not None
                    info[name] = fh.read()
    except BadInput:
        raise
    except Exception as exc:  # cps, tarfile and zstd raise assorted errors on damaged files
        raise BadInput(where, f"not a readable conda package ({type(exc).__name__}: {exc})", hint="the file is damaged: download or build it again") from None

    index = IndexJson.from_raw(_load(where, info, "info/index.json", required=True), where)
    try:
        expected = package_filename(index.name, index.version, index.build, path.name[len(package_stem(path.name)) :])
    except ValueError as exc:
        raise BadInput(where, f"info/index.json: {exc}", hint=NEVER_INSTALL) from None
    if expected != path.name:
        raise BadInput(where, f"file name does not match info/index.json (expected {expected})", hint=RENAME_HINT)
    payload = {n: m for n, m in members.items() if not n.startswith("info/")}
    check_member_names(where, "tar members", payload, index.subdir)
    raw_paths = _load(where, info, "info/paths.json", required=False)
    if raw_paths is not None:
        paths = PathsJson.from_raw(raw_paths, where, subdir=index.subdir).files()
        listed, present = set(paths), set(payload)
        for problem, names in (("listed in info/paths.json but not in the archive", listed - present), ("in the archive but not in info/paths.json", present - listed)):
            if names:
                raise BadInput(where, f"{sorted(names)[0]!r}: {problem}", hint=NEVER_INSTALL)
    raw_about = _load(where, info, "info/about.json", required=False)
    if raw_about is not None:
        AboutJson.from_raw(raw_about, where)
    raw_link = _load(where, info, "info/link.json", required=False)
    if raw_link is not None:
        LinkJson.from_raw(raw_link, where)
    return index


def _members(path: Path, component: str) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    with closing(stream_conda_component(str(path), component=component)) as stream:
        yield from stream


def _check_zip(zf: zipfile.ZipFile, where: str) -> None:
    """The outer zip of a ``.conda``: plain member names, each once."""
    overlap = zip_overlap(zf.infolist(), zf.start_dir)
    if overlap:
        raise BadInput(where, overlap, hint=NEVER_INSTALL)
    seen: set[str] = set()
    for info in zf.infolist():
        problem = check_relative_path(info.filename)
        if problem or "/" in info.filename:
            raise BadInput(where, f"unsafe zip member {info.filename!r}: {problem or 'not at the top level'}", hint=NEVER_INSTALL)
        if info.filename in seen:
            raise BadInput(where, f"zip member {info.filename!r} appears twice", hint=NEVER_INSTALL)
        seen.add(info.filename)


def _check_member(where: str, name: str, member: tarfile.TarInfo) -> None:
    problem = check_relative_path(name.rstrip("/") if member.isdir() else name)
    if problem:
        raise BadInput(where, f"unsafe tar member {name!r}: {problem}", hint=NEVER_INSTALL)
    if member.issym():
        problem = check_link_target(name, member.linkname)
        if problem:
            raise BadInput(where, f"symlink {name!r}: {problem}", hint=NEVER_INSTALL)
    elif member.islnk():
        problem = check_relative_path(member.linkname)
        if problem:
            raise BadInput(where, f"hard link {name!r} to {member.linkname!r}: {problem}", hint=NEVER_INSTALL)
    elif not (member.isfile() or member.isdir()):
        raise BadInput(where, f"tar member {name!r} is a device, FIFO or other special file", hint=NEVER_INSTALL)


def _load(where: str, info: dict[str, bytes], name: str, *, required: bool) -> object:
    if name not in info:
        if required:
            raise BadInput(where, f"{name} is missing", hint=NEVER_INSTALL)
        return None
    try:
        return parse_json(where, name, info[name])
    except BadInput as exc:
        raise BadInput(where, exc.reason, hint=NEVER_INSTALL) from None
