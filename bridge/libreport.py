"""Shared libraries shipped by more than one package of a channel (the same SONAME).

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
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from conda_package_streaming.package_streaming import CondaComponent, stream_conda_component

from .channel.records import is_package, package_name, read_package_info
from .channel.repodata import read_repodata
from .digest import CHUNK
from .elf import BadElf, is_elf, read_dynamic
from .errors import BadInput

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
                digest = hashlib.sha256(head)
                copy.write(head)
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    copy.write(chunk)
                try:
                    info = read_dynamic(copy)  # type: ignore[arg-type]
                except BadElf:
                    continue
            if info is not None and info.shared and info.soname:
                yield SharedLibrary(label, name, member.name, info.soname, member.size, digest.hexdigest())
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
    wanted = sorted(subdirs) if subdirs else sorted(
        p.name for p in channel.iterdir() if (p / "repodata.json").is_file()
    )
    result = []
    for subdir in wanted:
        repodata = channel / subdir / "repodata.json"
        if not repodata.is_file():
            continue
        data = read_repodata(repodata.parent)  # checked: groups are objects keyed by safe file names
        conda = data.get("packages.conda") or {}
        stems = {f[: -len(".conda")] for f in conda}
        for filename, record in sorted({**(data.get("packages") or {}), **conda}.items()):
            if filename.endswith(".tar.bz2") and filename[: -len(".tar.bz2")] in stems:
                continue
            result.append((subdir, filename, record["name"] if isinstance(record.get("name"), str) else package_name(filename)))
    return result


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
