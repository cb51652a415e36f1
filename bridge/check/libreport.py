"""Shared libraries shipped by more than one package of a channel (the same SONAME), and plain
files shipped at the same path by packages of different names.

Two packages that ship a library with the same SONAME either overwrite each other's file
(same path: the client reports a clash, the last one linked wins) or put two copies in the
environment, and the process loads whichever its search path finds first, possibly twice
under different paths.  Both are worth knowing before a user installs them together.

Packages are read as streams with conda-package-streaming: nothing is extracted to disk.
pyelftools needs a seekable file, so each ELF member is copied into a
:class:`tempfile.SpooledTemporaryFile` that stays in memory up to :data:`SPOOL_MEMORY`
bytes and spills to an anonymous temporary file beyond (a 700 MB library costs 700 MB
of temporary disk for a moment, never of memory); non-ELF members are skipped after
their first four bytes.

Plain files come from each package's ``info/paths.json`` (sha256 and size included, so only the
small ``info`` component is read).  Two packages with the same file path clobber each other
(conda reports ``ClobberError``, the last one linked wins), e.g. ``nvidia/__init__.py`` in several
``nvidia-*-cu12`` 12.8 wheels (``shared/docs/gpu-wheels.md`` §12).  Paths are compared as
installed: ``site-packages/…`` of a ``noarch: python`` package meets ``lib/pythonX.Y/site-packages/…``
and ``Lib/site-packages/…`` of the platform packages beside it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from conda_package_streaming.package_streaming import CondaComponent, stream_conda_component, stream_conda_info

from ..binary.elf import BadElf, is_elf, read_dynamic
from ..channel.records import is_package, read_package_info
from ..channel.repodata import iter_records
from ..core.digest import Digests
from ..core.errors import BadInput

#: Bytes of one member kept in memory while reading its ELF headers; beyond, a temp file.
SPOOL_MEMORY = 32 << 20


@dataclass(frozen=True)
class SharedLibrary:
    """One ELF shared library (with a SONAME) inside one package file."""

    package: str  # subdir/file name
    name: str  # conda package name
    path: str  # path inside the package
    soname: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Duplicate:
    """A SONAME shipped by packages of two or more different names, in one subdir."""

    subdir: str
    soname: str
    copies: tuple[SharedLibrary, ...]

    @property
    def kind(self) -> Literal["same-path", "different-paths"]:
        """``same-path``: the files overwrite each other; ``different-paths``: two copies load."""
        return "same-path" if len({c.path for c in self.copies}) == 1 else "different-paths"

    @property
    def identical(self) -> bool:
        return len({c.sha256 for c in self.copies}) == 1

    @property
    def names(self) -> list[str]:
        return sorted({c.name for c in self.copies})

    def to_dict(self) -> dict[str, Any]:
        return {
            "subdir": self.subdir,
            "soname": self.soname,
            "kind": self.kind,
            "identical": self.identical,
            "packages": self.names,
            "copies": [asdict(c) for c in self.copies],
        }


def shared_libraries(package: Path, label: str | None = None, name: str | None = None) -> Iterator[SharedLibrary]:
    """Every ELF member of ``package`` that has a SONAME, streamed."""
    package = Path(package)
    label = label or package.name
    name = name or package.name
    try:
        for tar, member in stream_conda_component(str(package), component=CondaComponent.pkg):
            if not member.isfile() or member.name.startswith("info/"):
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            head = fh.read(4)
            if not is_elf(head):
                continue
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, prefix="w2c-libs-") as copy:
                digest = Digests()
                digest.update(head)
                copy.write(head)
                digest.consume(fh, copy)
                try:
                    info = read_dynamic(copy)  # type: ignore[arg-type]
                except BadElf:
                    continue
            if info is not None and info.shared and info.soname:
                yield SharedLibrary(label, name, member.name, info.soname, member.size, digest.sha256)
    except BadInput:
        raise
    except Exception as exc:  # cps raises assorted zip/tar/zstd errors
        raise BadInput(package, f"not a readable conda package ({exc})", hint="the file is damaged: download or build it again, then run 'wheel2conda index'") from None


def channel_packages(channel: Path, subdirs: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """``(subdir, file name, package name)`` from the channel's repodata; ``.conda`` preferred over
    a ``.tar.bz2`` of the same stem."""
    channel = Path(channel)
    if not (channel / "noarch" / "repodata.json").is_file():
        raise BadInput(channel, "not a channel (no noarch/repodata.json)", hint="run wheel2conda index first")
    listed = sorted(iter_records(channel, sorted(subdirs) if subdirs else None), key=lambda p: (p.subdir, p.filename))
    stems = {(p.subdir, p.filename[: -len(".conda")]) for p in listed if p.filename.endswith(".conda")}
    return [
        (p.subdir, p.filename, p.name)
        for p in listed
        if not (p.filename.endswith(".tar.bz2") and (p.subdir, p.filename[: -len(".tar.bz2")]) in stems)
    ]


def duplicate_libraries(channel: Path, subdirs: Iterable[str] | None = None) -> list[Duplicate]:
    """SONAMEs shipped by more than one package name, per subdir, sorted by subdir and SONAME."""
    channel = Path(channel)
    return _duplicates((channel / subdir / filename, subdir, name) for subdir, filename, name in channel_packages(channel, subdirs))


def duplicate_libraries_in(files: Iterable[Path], subdirs: Iterable[str] | None = None) -> list[Duplicate]:
    """:func:`duplicate_libraries` of package files that are not (yet) a channel: ``convert -o`` output.

    Subdir and name come from each package's ``info/index.json``."""
    wanted = set(subdirs or ())
    packages = []
    for path in files:
        index = read_package_info(path).index
        subdir, name = str(index.get("subdir", "")), str(index.get("name", ""))
        if not wanted or subdir in wanted:
            packages.append((path, subdir, name))
    return _duplicates(packages)


def _duplicates(packages: Iterable[tuple[Path, str, str]]) -> list[Duplicate]:
    found: dict[tuple[str, str], list[SharedLibrary]] = defaultdict(list)
    for path, subdir, name in packages:
        if not is_package(path):
            continue
        for lib in shared_libraries(path, f"{subdir}/{path.name}", name):
            found[(subdir, lib.soname)].append(lib)
    return [
        Duplicate(subdir, so, tuple(sorted(copies, key=lambda c: (c.name, c.package, c.path))))
        for (subdir, so), copies in sorted(found.items())
        if len({c.name for c in copies}) > 1
    ]


# -- plain files at the same path ------------------------------------------------------------

_SITE_PACKAGES = re.compile(r"^(?:lib/python\d+\.\d+t?/|Lib/)site-packages/")


@dataclass(frozen=True)
class ShippedFile:
    """One file of one package, from its ``info/paths.json``."""

    package: str  # subdir/file name
    name: str  # conda package name
    path: str  # path inside the package
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class FileClash:
    """An installed path shipped by packages of two or more different names (one subdir, noarch included)."""

    subdir: str
    path: str  # as installed, site-packages paths as ``site-packages/…``
    copies: tuple[ShippedFile, ...]

    @property
    def identical(self) -> bool:
        return len({c.sha256 for c in self.copies}) == 1

    @property
    def names(self) -> list[str]:
        return sorted({c.name for c in self.copies})

    def to_dict(self) -> dict[str, Any]:
        return {
            "subdir": self.subdir,
            "path": self.path,
            "kind": "file-clash",
            "identical": self.identical,
            "packages": self.names,
            "copies": [asdict(c) for c in self.copies],
        }


def installed_path(path: str, noarch_python: bool) -> str:
    """The path two packages would compete for: site-packages paths without their Python prefix."""
    if noarch_python:
        return path
    return _SITE_PACKAGES.sub("site-packages/", path)


def shipped_files(package: Path, label: str | None = None, name: str | None = None) -> tuple[bool, list[ShippedFile]]:
    """``(noarch python, files)`` of ``package`` from ``info/paths.json`` (``info/files`` for old packages)."""
    package = Path(package)
    label = label or package.name
    name = name or package.name
    paths: dict[str, Any] | None = None
    listed: list[str] | None = None
    index: dict[str, Any] = {}
    try:
        for tar, member in stream_conda_info(str(package)):
            if member.name in ("info/paths.json", "info/index.json", "info/files") and member.isfile():
                fh = tar.extractfile(member)
                assert fh is not None
                if member.name == "info/paths.json":
                    paths = json.load(fh)
                elif member.name == "info/index.json":
                    index = json.load(fh)
                else:
                    listed = [line for line in fh.read().decode("utf-8").splitlines() if line]
    except Exception as exc:  # cps raises assorted zip/tar/zstd errors
        raise BadInput(package, f"not a readable conda package ({exc})", hint="the file is damaged: download or build it again, then run 'wheel2conda index'") from None
    noarch_python = index.get("noarch") == "python" or (isinstance(index.get("noarch"), dict) and index["noarch"].get("type") == "python")
    if paths is not None:
        entries = [
            ShippedFile(label, name, str(e["_path"]), e.get("size_in_bytes"), e.get("sha256"))
            for e in paths.get("paths") or ()
            if e.get("path_type", "hardlink") != "directory"
        ]
    else:
        entries = [ShippedFile(label, name, p, None, None) for p in listed or ()]
    return noarch_python, entries


def _family_tag(record: Mapping[str, Any]) -> str | None:
    """The ROCm family tag a record pins the family mutexes to (``rocm``, ``rocm-sdk-core`` with
    ``*gfx110X*``), if any: packages of different families can never be installed together, so
    the files they share are no clash."""
    from ..translate.variants import family_mutex, family_pins

    mutexes = {family_mutex(), *family_pins()}
    for spec in [*(record.get("depends") or ()), *(record.get("constrains") or ())]:
        parts = str(spec).split(" ")
        if len(parts) == 3 and parts[0] in mutexes and re.fullmatch(r"\*[A-Za-z0-9_]+\*", parts[2]):
            return parts[2].strip("*")
    return None


def _gpu_family_tags(channel: Path) -> dict[str, str]:
    """``subdir/file`` → its record's family tag (:func:`_family_tag`), from the channel's repodata."""
    return {f"{p.subdir}/{p.filename}": tag for p in iter_records(channel, skip_broken=True) if (tag := _family_tag(p.record))}


def _coinstallable(copies: list[ShippedFile], tags: dict[str, str]) -> bool:
    """Whether two of ``copies`` from different package names could share an environment."""
    for i, a in enumerate(copies):
        for b in copies[i + 1 :]:
            ta, tb = tags.get(a.package), tags.get(b.package)
            if a.name != b.name and (ta is None or tb is None or ta == tb):
                return True
    return False


def file_clashes(channel: Path, subdirs: Iterable[str] | None = None) -> list[FileClash]:
    """Installed paths shipped by more than one package name, per subdir (noarch packages count in
    every subdir, and alone under ``noarch``), sorted by subdir and path.  Packages pinned to
    different ROCm families (which never share an environment) do not clash with each other."""
    channel = Path(channel)
    packages = [(channel / subdir / filename, subdir, name) for subdir, filename, name in channel_packages(channel, subdirs)]
    return _clashes(packages, _gpu_family_tags(channel))


def file_clashes_in(files: Iterable[Path], subdirs: Iterable[str] | None = None) -> list[FileClash]:
    """:func:`file_clashes` of package files that are not (yet) a channel: ``convert -o`` output.

    Subdir, name and family tag come from each package's ``info/index.json``."""
    wanted = set(subdirs or ())
    packages, tags = [], {}
    for path in files:
        index = read_package_info(path).index
        subdir, name = str(index.get("subdir", "")), str(index.get("name", ""))
        if not wanted or subdir in wanted:
            packages.append((path, subdir, name))
            if tag := _family_tag(index):
                tags[f"{subdir}/{path.name}"] = tag
    return _clashes(packages, tags)


def _clashes(packages: Iterable[tuple[Path, str, str]], tags: dict[str, str]) -> list[FileClash]:
    by_subdir: dict[str, list[tuple[str, ShippedFile]]] = defaultdict(list)  # subdir → (installed path, file)
    for path, subdir, name in packages:
        if not is_package(path):
            continue
        noarch_python, files = shipped_files(path, f"{subdir}/{path.name}", name)
        by_subdir[subdir].extend((installed_path(f.path, noarch_python), f) for f in files)
    noarch = by_subdir.get("noarch", [])
    result = []
    for subdir in sorted(by_subdir):
        groups: dict[str, list[ShippedFile]] = defaultdict(list)
        for where, f in by_subdir[subdir] + (noarch if subdir != "noarch" else []):
            groups[where].append(f)
        for where, copies in sorted(groups.items()):
            if len({c.name for c in copies}) < 2 or not _coinstallable(copies, tags):
                continue
            if subdir != "noarch" and all(c.package.startswith("noarch/") for c in copies):
                continue  # reported once, under noarch
            result.append(FileClash(subdir, where, tuple(sorted(copies, key=lambda c: (c.name, c.package, c.path)))))
    return result
