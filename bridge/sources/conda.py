"""Read a conda package (``.conda`` or ``.tar.bz2``) into a :class:`CondaArchive`, streaming.

Nothing is extracted.  ``info/`` is read first (``index.json``, ``paths.json``, ``about.json``,
``link.json``).  One pass over the payload (conda-package-streaming) then collects what must be
known before anything is written: symlink targets, the ``.dist-info`` files (small, kept in
memory) and the first bytes of every prefix-placeholder script.  Payload members are served
by a second pass in archive order: opened in that order the archive is decompressed once more;
an out-of-order open restarts it.

Nothing is translated here: :mod:`bridge.plan.conda_to_wheel` turns the archive into the
:class:`Distribution` a wheel is written from.
"""

from __future__ import annotations

import importlib
import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import zstandard
from conda_package_streaming.package_streaming import stream_conda_component

from ..core.digest import sha256_file
from ..core.errors import BadInput
from ..core.limits import check_metadata_size, read_capped, require_regular_file
from ..model import Provenance
from ..model.conda import AboutJson, IndexJson, LinkJson, PathsJson, parse_json
from ..model.paths import check_relative_path, zip_overlap
from ..translate.reverse import site_packages_dirs


def _zstd_errors() -> tuple[type[Exception], ...]:
    """Error types any zstd binding may raise while a package is read: python-zstandard's, and
    those of the module conda-package-streaming decodes with (``compression.zstd`` on Python
    3.14+, ``backports.zstd`` before; its own choice, not a public name of that package)."""
    errors: list[type[Exception]] = [zstandard.ZstdError]
    for module in ("compression.zstd", "backports.zstd"):
        try:
            errors.append(importlib.import_module(module).ZstdError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


SUFFIXES = (".conda", ".tar.bz2")
_ARCHIVE_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, tarfile.TarError, LookupError, EOFError, OSError, ValueError, RuntimeError, *_zstd_errors())

_HEAD = 8192  # bytes read from a placeholder script to recognise its shebang
_INFO = ("info/index.json", "info/paths.json", "info/about.json", "info/link.json")
#: Hints for refused packages: broken by whoever built it, or damaged on the way.
MALFORMED = "the package breaks the conda package format: rebuild it (conda-build, rattler-build) or report it to its publisher"
DAMAGED = "the file is damaged: download it again"


@contextmanager
def open_conda(path: str | Path, *, hash_source: bool = True) -> Iterator[CondaArchive]:
    """Open a ``.conda``/``.tar.bz2``; members stream from it until exit.

    ``hash_source=False`` skips hashing the whole file for provenance.
    """
    path = Path(path)
    where = str(path)
    if not path.name.endswith(SUFFIXES):
        raise BadInput(where, "not a conda package (.conda or .tar.bz2)", hint="give a .conda or .tar.bz2 file")
    require_regular_file(path, "conda package")
    zf = None
    try:
        if path.name.endswith(".conda"):
            try:
                zf = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
                raise BadInput(where, f"not a valid .conda (zip) archive ({exc})", hint="the download may be truncated") from None
            overlap = zip_overlap(zf.infolist(), zf.start_dir)
            if overlap:
                zf.close()
                raise BadInput(where, f"not a valid .conda (zip) archive ({overlap})", hint=MALFORMED)
        archive = _Archive(path, zf)
        yield _read(archive, hash_source)
    finally:
        if zf is not None:
            zf.close()


class _Archive:
    """Streams of one package's components; errors become :class:`BadInput`."""

    def __init__(self, path: Path, zf: zipfile.ZipFile | None):
        self.path, self.zf = path, zf
        self.where = str(path)

    def members(self, component: str) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
        """``(tar, member)`` of ``info`` or ``pkg`` (a ``.tar.bz2`` holds both in one stream)."""
        try:
            if self.zf is None:
                stream = stream_conda_component(str(self.path), component=component)
            else:
                stream = stream_conda_component(str(self.path), component=component, zf=self.zf)
            for tar, member in stream:
                name = member.name[2:] if member.name.startswith("./") else member.name
                member.name = name
                if self.zf is None and (name.startswith("info/") != (component == "info")):
                    continue
                yield tar, member
        except _ARCHIVE_ERRORS as exc:
            raise BadInput(self.where, f"cannot read the {component} component ({type(exc).__name__}: {exc})", hint="the file may be truncated or corrupt") from None

    def read(self, tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int | None = None) -> bytes:
        """A member held in memory: the first ``limit`` bytes, or all of a metadata-like one (capped)."""
        if limit is None:
            check_metadata_size(self.where, member.name, member.size)
        try:
            fh = tar.extractfile(member)
            assert fh is not None
            return read_capped(fh, self.where, member.name) if limit is None else fh.read(limit)
        except _ARCHIVE_ERRORS as exc:
            raise BadInput(self.where, f"{member.name}: cannot be read ({exc})", hint=DAMAGED) from None


def _read_info(archive: _Archive) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for tar, member in archive.members("info"):
        if member.name in _INFO:
            found[member.name] = archive.read(tar, member)
        if archive.zf is None and "info/index.json" in found and "info/paths.json" in found and len(found) == len(_INFO):
            break
    return found


def _json(archive: _Archive, info: dict[str, bytes], name: str, required: bool) -> Any:
    if name not in info:
        if required:
            hint = "a package older than conda 4.3; rebuild it" if name.endswith("paths.json") else None
            raise BadInput(archive.where, f"{name} is missing", hint=hint)
        return None
    try:
        return parse_json(archive.where, name, info[name])
    except BadInput as exc:
        raise BadInput(archive.where, exc.reason, hint=MALFORMED) from None


@dataclass
class Payload:
    """What the first pass over ``pkg`` learnt (archive order, links, modes, sizes; dist-info files and
    the first bytes of placeholder scripts held in memory)."""

    order: list[str] = field(default_factory=list)  # files and links, archive order
    links: dict[str, str] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)  # dist-info files
    heads: dict[str, bytes] = field(default_factory=dict)  # placeholder scripts


def _first_pass(archive: _Archive, wanted: Callable[[str], bool], heads: set[str]) -> Payload:
    payload = Payload()
    for tar, member in archive.members("pkg"):
        name = member.name
        if member.isdir():
            continue
        problem = check_relative_path(name)
        if problem:
            raise BadInput(archive.where, f"unsafe member name {name!r}: {problem}", hint="never install this package; report it to its publisher")
        if name in payload.modes:
            raise BadInput(archive.where, f"duplicate member {name!r}", hint=MALFORMED)
        if member.issym():
            payload.links[name] = member.linkname
        elif member.islnk():
            raise BadInput(archive.where, f"{name}: a tar hard link (to {member.linkname}); not supported", hint="repack the package without hard links")
        elif member.isfile():
            payload.sizes[name] = member.size
            if wanted(name):
                payload.contents[name] = archive.read(tar, member)
            elif name in heads:
                payload.heads[name] = archive.read(tar, member, _HEAD)
        else:
            raise BadInput(archive.where, f"{name}: unsupported tar member type {member.type!r}", hint=MALFORMED)
        payload.modes[name] = 0o755 if member.mode & 0o111 else 0o644
        payload.order.append(name)
    return payload


@dataclass
class CondaArchive:
    """A conda package as read: its ``info/`` models, what one pass over the payload learnt, and
    :meth:`open` for payload members (archive order streams once; going back restarts)."""

    path: Path
    index: IndexJson
    paths: PathsJson
    about: AboutJson
    link: LinkJson | None
    entries: dict[str, dict[str, Any]]  # paths.json entries by path (verbatim JSON: the round-trip record keeps them)
    site_packages: str | None
    payload: Payload
    provenance: Provenance
    _cursor: _Cursor = field(repr=False)

    @property
    def where(self) -> str:
        return str(self.path)

    def open(self, name: str) -> BinaryIO:
        """Stream the payload member ``name``."""
        return self._cursor.open(name)


def _read(archive: _Archive, hash_source: bool = True) -> CondaArchive:
    where = archive.where
    info = _read_info(archive)
    try:
        index_model = IndexJson.from_raw(_json(archive, info, "info/index.json", True), where, default_subdir=True)
        paths_model = PathsJson.from_raw(_json(archive, info, "info/paths.json", True), where, subdir=index_model.subdir)
        about_raw = _json(archive, info, "info/about.json", False)
        about_model = AboutJson.from_raw({} if about_raw is None else about_raw, where)
        link_raw = _json(archive, info, "info/link.json", False)
        link_model = LinkJson.from_raw(link_raw, where) if link_raw is not None else None
    except BadInput as exc:
        raise BadInput(where, exc.reason, hint=MALFORMED) from None
    entries = {p: dict(e.raw) for p, e in paths_model.files().items()}

    sites = site_packages_dirs(entries)
    if len(sites) > 1:
        raise BadInput(where, f"files in several site-packages directories ({', '.join(sorted(sites))})", hint="split the package so that each holds one Python's site-packages")
    site = next(iter(sites), None)
    noarch_python = index_model.raw.get("noarch") == "python"
    windows = index_model.subdir.startswith("win-")
    scripts_dir = "python-scripts" if noarch_python else ("Scripts" if windows else "bin")
    placeholder_scripts = {p for p, e in entries.items() if e.get("prefix_placeholder") and p.startswith(scripts_dir + "/")}

    def wanted(name: str) -> bool:  # dist-info files, except the (possibly huge) RECORD
        if site is None or not name.startswith(site + "/"):
            return False
        parts = name[len(site) + 1 :].split("/")
        return len(parts) > 1 and parts[0].endswith(".dist-info") and parts[-1] != "RECORD"

    payload = _first_pass(archive, wanted, placeholder_scripts)
    _check_against_paths(where, entries, payload)
    timestamp = index_model.timestamp or 0
    provenance = Provenance(
        path=where,
        filename=archive.path.name,
        sha256=sha256_file(archive.path) if hash_source else None,
        size=archive.path.stat().st_size,
        timestamp=timestamp // 1000 if timestamp > 253402300799 else timestamp,
    )
    return CondaArchive(archive.path, index_model, paths_model, about_model, link_model, entries, site, payload, provenance, _Cursor(archive))


def _check_against_paths(where: str, entries: dict[str, dict[str, Any]], payload: Payload) -> None:
    in_archive = set(payload.order)
    for problem, paths in (
        ("listed in info/paths.json but missing from the archive", set(entries) - in_archive),
        ("in the archive but not listed in info/paths.json", in_archive - set(entries)),
    ):
        if paths:
            shown = sorted(paths)
            raise BadInput(where, f"{', '.join(shown[:5])}{' …' if len(shown) > 5 else ''}: {problem}", hint=MALFORMED)
    for path, entry in entries.items():
        is_link = entry.get("path_type") == "softlink"
        if is_link != (path in payload.links):
            raise BadInput(where, f"{path}: info/paths.json says {entry.get('path_type')} but the archive disagrees", hint=MALFORMED)
        if not is_link and entry.get("size_in_bytes") is not None and entry["size_in_bytes"] != payload.sizes[path]:
            raise BadInput(where, f"{path}: {payload.sizes[path]} bytes but info/paths.json says {entry['size_in_bytes']}", hint=DAMAGED)


class _Cursor:
    """Opens payload members by walking the ``pkg`` stream forward (restarting when asked to go back)."""

    def __init__(self, archive: _Archive):
        self._archive = archive
        self._stream: Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]] | None = None
        self._passed: set[str] = set()

    def open(self, name: str) -> BinaryIO:
        if self._stream is None or name in self._passed:
            self._stream, self._passed = self._archive.members("pkg"), set()
        for tar, member in self._stream:
            self._passed.add(member.name)
            if member.name == name and member.isfile():
                fh = tar.extractfile(member)
                assert fh is not None
                return _Guarded(fh, self._archive.where, name)  # type: ignore[return-value,arg-type]
        raise BadInput(self._archive.where, f"{name}: not found in the archive on the second pass", hint="the file changed while it was read; run again")


class _Guarded(io.RawIOBase):
    """A member stream whose decompression errors name the package and the member."""

    def __init__(self, raw: BinaryIO, where: str, label: str):
        super().__init__()
        self._raw, self._where, self._label = raw, where, label

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        try:
            return self._raw.read(n)
        except _ARCHIVE_ERRORS as exc:
            raise BadInput(self._where, f"{self._label}: corrupt data ({exc})", hint=DAMAGED) from None

    def close(self) -> None:
        self._raw.close()
        super().close()
