"""Read a conda package (``.conda`` or ``.tar.bz2``) into a :class:`Distribution`, streaming.

Nothing is extracted.  ``info/`` is read first (``index.json``, ``paths.json``, ``about.json``,
``link.json``).  One pass over the payload (conda-package-streaming) then collects what must be
known before anything is written: symlink targets, the ``.dist-info`` files (small, kept in
memory) and the first bytes of every prefix-placeholder script.  Payload members are served
by a second pass in archive order, which is the order of :attr:`Distribution.members`: opened
in that order the archive is decompressed once more; an out-of-order open restarts it.

Translation decisions (tags, version, schemes) come from :mod:`bridge.translate.reverse`;
everything a converter needs beyond the :class:`Distribution` is in ``dist.extra["conda"]``
(a :class:`CondaSource`).
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from conda_package_streaming.package_streaming import stream_conda_component
from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..plan import roundtrip
from ..sinks.compression import zstd_errors
from ..core.digest import sha256_bytes, sha256_file
from ..core.errors import BadInput
from ..core.limits import check_metadata_size, read_capped, require_regular_file
from ..model import Distribution, EntryPoint, Member, Provenance
from ..translate.names import NameMap
from ..translate.reverse import (
    ReverseDecision,
    ReverseError,
    ReverseLayout,
    launcher_paths,
    local_label,
    platform_tag,
    pypi_version,
    python_pins,
    site_packages_dirs,
    site_python,
    synthesize_metadata,
    wheel_tags,
)
from ..translate.shebang import restore_shebang
from ..model.conda import AboutJson, IndexJson, LinkJson, PathsJson, ProvenanceRecord, parse_json
from ..model.paths import zip_overlap
from ..model.paths import check_relative_path
from .distinfo import REGENERATED, WheelFile, is_bytecode, metadata_kwargs, parse_build_tag, parse_metadata, parse_wheel_file
from ..translate.entry_points import entry_points_txt, parse_entry_points

SUFFIXES = (".conda", ".tar.bz2")
_ARCHIVE_ERRORS = (zipfile.BadZipFile, tarfile.TarError, LookupError, EOFError, OSError, ValueError, RuntimeError, *zstd_errors())
_HEAD = 8192  # bytes read from a placeholder script to recognise its shebang
_INFO = ("info/index.json", "info/paths.json", "info/about.json", "info/link.json")
#: Hints for refused packages: broken by whoever built it, or damaged on the way.
MALFORMED = "the package breaks the conda package format: rebuild it (conda-build, rattler-build) or report it to its publisher"
DAMAGED = "the file is damaged: download it again"


@dataclass
class CondaSource:
    """What the conda package said, for converters (``dist.extra["conda"]``)."""

    filename: str
    index: dict[str, Any]
    about: dict[str, Any]
    link: dict[str, Any] | None
    paths: dict[str, dict[str, Any]]  # paths.json entries by path
    site_packages: str | None
    dist_info: str  # "own", "synthesized" or "wheel" (a package wheel2conda made from a wheel)
    wheel_filename: str | None = None  # the original wheel's name, when recorded
    dist_info_dir: str | None = None  # archive path of the own .dist-info
    changed_dist_info: dict[str, bytes] = field(default_factory=dict)  # own dist-info files the wheel drops or rewrites
    scripts: dict[str, bytes] = field(default_factory=dict)  # rewritten scripts → their original interpreter
    placeholders: list[str] = field(default_factory=list)  # other files carrying a prefix placeholder
    dropped: list[str] = field(default_factory=list)  # launchers and bytecode left out
    decisions: list[ReverseDecision] = field(default_factory=list)  # depends → Requires-Dist (synthesized METADATA)
    notes: list[str] = field(default_factory=list)

    @property
    def importable(self) -> bool:
        """Whether anything but metadata lands in site-packages."""
        prefix = (self.site_packages or "\0") + "/"
        return any(
            p.startswith(prefix) and not re.match(r"[^/]+\.(dist|egg)-info(/|$)", p[len(prefix) :]) for p in self.paths
        )

    def record(self) -> roundtrip.CondaRecord:
        """The ``conda-package.json`` that lets wheel → conda rebuild this package."""
        prefix = f"{self.dist_info_dir}/" if self.dist_info_dir else "\0"
        special: dict[str, dict[str, Any]] = {}
        for path, entry in self.paths.items():
            if entry.get("prefix_placeholder") or entry.get("no_link"):
                kept = {k: entry[k] for k in ("prefix_placeholder", "file_mode", "no_link", "sha256") if k in entry}
                if path in self.scripts:
                    kept["interpreter"] = self.scripts[path].decode("utf-8", "surrogateescape")
                special[path] = kept
        about = dict(self.about)  # verbatim, extra.wheel2conda (the first source's provenance) included
        return roundtrip.CondaRecord(
            package=self.filename.removesuffix(".conda").removesuffix(".tar.bz2"),  # the same for both formats
            index=self.index,
            about=about,
            link=self.link,
            dist_info="synthesized" if self.dist_info == "synthesized" else "own",
            paths=special,
            dist_info_files=sorted(p[len(prefix) :] for p in self.paths if p.startswith(prefix)),
            dist_info_text={k: v.decode("utf-8", "surrogateescape") for k, v in sorted(self.changed_dist_info.items())},
        )


@contextmanager
def open_conda(
    path: str | Path, *, names: NameMap | None = None, glibc: tuple[int, int] | None = None, hash_source: bool = True
) -> Iterator[Distribution]:
    """Open a ``.conda``/``.tar.bz2``; members stream from it until exit.

    ``names`` maps conda names back to PyPI names (for synthesized Requires-Dist); ``glibc``
    is the floor assumed for a Linux package that does not depend on ``__glibc``;
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
        yield _read(archive, names or NameMap(), glibc, hash_source)
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
class _Payload:
    """What the first pass over ``pkg`` learnt."""

    order: list[str] = field(default_factory=list)  # files and links, archive order
    links: dict[str, str] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)  # dist-info files
    heads: dict[str, bytes] = field(default_factory=dict)  # placeholder scripts


def _first_pass(archive: _Archive, wanted: Callable[[str], bool], heads: set[str]) -> _Payload:
    payload = _Payload()
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


def _read(archive: _Archive, names: NameMap, glibc: tuple[int, int] | None, hash_source: bool = True) -> Distribution:
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
    index = {**index_model.raw, "subdir": index_model.subdir}
    about = dict(about_model.raw)
    link = dict(link_model.raw) if link_model is not None else None
    entries = {p: dict(e.raw) for p, e in paths_model.files().items()}
    origin = about_model.provenance or ProvenanceRecord()

    sites = site_packages_dirs(entries)
    if len(sites) > 1:
        raise BadInput(where, f"files in several site-packages directories ({', '.join(sorted(sites))})", hint="split the package so that each holds one Python's site-packages")
    site = next(iter(sites), None)
    noarch_python = index.get("noarch") == "python"
    windows = index["subdir"].startswith("win-")
    scripts_dir = "python-scripts" if noarch_python else ("Scripts" if windows else "bin")
    placeholder_scripts = {p for p, e in entries.items() if e.get("prefix_placeholder") and p.startswith(scripts_dir + "/")}

    def wanted(name: str) -> bool:  # dist-info files, except the (possibly huge) RECORD
        if site is None or not name.startswith(site + "/"):
            return False
        parts = name[len(site) + 1 :].split("/")
        return len(parts) > 1 and parts[0].endswith(".dist-info") and parts[-1] != "RECORD"

    payload = _first_pass(archive, wanted, placeholder_scripts)
    _check_against_paths(where, entries, payload)

    from_wheel = bool(origin.pypi_name and origin.wheel_tags) and not origin.conda_record
    source = CondaSource(
        filename=archive.path.name, index=index, about=about, link=link, paths=entries, site_packages=site, dist_info="synthesized"
    )
    dist_info = _choose_dist_info(where, site, payload, names.to_pypi(index["name"]))
    build_number = index_model.build_number

    # -- identity ---------------------------------------------------------------------------
    wheel_meta: WheelFile | None = None
    if dist_info is not None:
        metadata = payload.contents[f"{site}/{dist_info}/METADATA"]
        fields = parse_metadata(where, metadata, label=f"{dist_info}/METADATA", hint=MALFORMED)
        name, version = str(fields["name"]), Version(str(fields["version"]))
        wheel_text = payload.contents.get(f"{site}/{dist_info}/WHEEL")
        wheel_meta = parse_wheel_file(where, wheel_text, strict=False) if wheel_text is not None else None
        source.dist_info = "own"
    if from_wheel and dist_info is not None:
        source.dist_info = "wheel"
        try:
            tags = frozenset(t for text in origin.wheel_tags for t in parse_tag(text))
            version = Version(origin.pypi_version or str(version))
        except (ValueError, InvalidVersion) as exc:
            raise BadInput(where, f"about.json extra.wheel2conda is inconsistent ({exc})", hint=MALFORMED) from None
        build_tag = parse_build_tag(origin.build_tag or "")
        source.wheel_filename = origin.source
    else:
        pins = python_pins(index, site_python(site) if site else None)
        try:
            platform, notes = platform_tag(index["subdir"], index.get("depends") or (), glibc)
            if dist_info is None:
                name = names.to_pypi(index["name"])
                version = pypi_version(index["version"], local_label(index["build"], build_number))
        except ReverseError as exc:
            raise BadInput(where, str(exc)) from None
        source.notes += notes
        tags = wheel_tags(pins, platform)
        build_tag = (build_number, "") if build_number else ()
        label = local_label(index["build"], build_number)
        if dist_info is not None and label and not version.local:
            source.notes.append(f"the build variant ({label}) is not in the wheel version {version}: METADATA is kept as built")
    root_is_purelib = (
        wheel_meta.purelib
        if wheel_meta is not None and wheel_meta.purelib is not None
        else noarch_python and "abi3" not in {t.abi for t in tags} and all(t.platform == "any" for t in tags)
    )

    # -- dist-info --------------------------------------------------------------------------
    generated: dict[str, bytes] = {}
    if dist_info is None:
        dist_info = f"{str(canonicalize_name(name)).replace('-', '_')}-{version}.dist-info"
        synthesized = synthesize_metadata(name, version, about, index, names)
        source.decisions = synthesized.decisions
        metadata = synthesized.text
        generated["METADATA"] = metadata
        if link_model is not None and link_model.entry_points:
            generated["entry_points.txt"] = entry_points_txt(EntryPoint(ep.name, ep.module, ep.attr) for ep in link_model.entry_points)
        fields = parse_metadata(where, metadata, label=f"{dist_info}/METADATA", hint=MALFORMED)
    keep_wheel = wheel_meta is not None and wheel_meta.tags == tags and wheel_meta.build_tag == build_tag
    dist_info_dir = f"{site}/{dist_info}/" if site else "\0"
    if source.dist_info != "synthesized":
        source.dist_info_dir = dist_info_dir[:-1]
    ep_text = generated.get("entry_points.txt") or payload.contents.get(f"{dist_info_dir}entry_points.txt")
    entry_points = parse_entry_points(where, ep_text, hint=MALFORMED) if ep_text else ()

    # -- members ----------------------------------------------------------------------------
    layout = ReverseLayout.create(site, noarch_python, windows, name, root_is_purelib)
    launchers = set() if noarch_python else launcher_paths(entry_points, layout.scripts_dir, windows)
    overrides = dict(origin.schemes)
    members: list[Member] = []
    transformed: dict[str, tuple[bytes, int]] = {}  # origin → (new head, bytes of the old one)
    cached: dict[str, bytes] = {}
    for path in payload.order:
        entry = entries[path]
        if path in launchers or is_bytecode(path):
            source.dropped.append(path)
            continue
        if path.startswith(dist_info_dir):
            inner = path[len(dist_info_dir) :]
            if inner in REGENERATED or inner in roundtrip.CONSUMED or (inner == "WHEEL" and not keep_wheel):
                if inner != "RECORD" and path in payload.contents:
                    source.changed_dist_info[inner] = payload.contents[path]
                continue
            cached[path] = payload.contents[path]
        placeholder = entry.get("prefix_placeholder")
        size = entry["size_in_bytes"] if entry.get("size_in_bytes") is not None else payload.sizes.get(path, 0)
        sha = entry.get("sha256")
        python_script = False
        if placeholder and path in payload.heads:
            found = restore_shebang(payload.heads[path], str(placeholder))
            if found is not None:
                wheel_head, token = found
                head = wheel_head[: len(wheel_head) - (len(payload.heads[path]) - len(token))]  # b"#!python[w]"
                transformed[path] = (head, len(token))
                source.scripts[path] = token
                size, sha, python_script = size - len(token) + len(head), None, True
        if placeholder and not python_script:
            source.placeholders.append(path)
        try:
            scheme, rel = layout.scheme_for(path, python_script, overrides.get(path))
        except ReverseError as exc:
            raise BadInput(where, str(exc)) from None
        members.append(
            Member(scheme, rel, size, sha, payload.modes[path], target=payload.links.get(path), origin=path)
        )
    for inner, data in generated.items():
        origin_name = f"<generated>/{dist_info}/{inner}"
        cached[origin_name] = data
        members.append(Member(layout.root_scheme, f"{dist_info}/{inner}", len(data), sha256_bytes(data), origin=origin_name))
    if payload.links:
        try:  # a link to a directory or to another package's path becomes a LINKS row without a copy
            resolved = roundtrip.resolve_links(payload.links, set(payload.sizes), directories=True, outside=True)
        except ValueError as exc:
            raise BadInput(where, f"cannot dereference links: {exc}") from None
        directories = roundtrip.directories_of(payload.sizes)
        elsewhere = sorted(link for link, path in resolved.items() if path not in payload.sizes and path not in directories)
        if elsewhere:
            more = f" and {len(elsewhere) - 1} more" if len(elsewhere) > 1 else ""
            source.notes.append(f"{elsewhere[0]}{more}: link to a path this package does not hold (another package's file, or dangling); listed in LINKS without a copy, so pip installs nothing there")

    license_files = sorted(
        m.path[len(dist_info) + 1 :]
        for m in members
        if m.scheme.in_site_packages and m.path.startswith(dist_info + "/licenses/")
    )
    cursor = _Cursor(archive)

    def opener(member: Member) -> BinaryIO:
        if member.origin in cached:
            return io.BytesIO(cached[member.origin])
        raw = cursor.open(member.origin)
        if member.origin in transformed:
            head, skip = transformed[member.origin]
            return _Replaced(head, raw, skip)
        return raw

    timestamp = index_model.timestamp or 0
    return Distribution(
        **{**metadata_kwargs(fields), "name": name, "version": version},  # the recorded wheel identity wins
        metadata=metadata,
        tags=tags,
        build_tag=build_tag,
        root_is_purelib=root_is_purelib,
        dist_info=dist_info,
        entry_points=entry_points,
        members=tuple(members),
        provenance=Provenance(
            path=where,
            filename=archive.path.name,
            sha256=sha256_file(archive.path) if hash_source else None,
            size=archive.path.stat().st_size,
            timestamp=timestamp // 1000 if timestamp > 253402300799 else timestamp,
        ),
        opener=opener,
        license_files=tuple(license_files),
        extra={"conda": source},
    )


def _check_against_paths(where: str, entries: dict[str, dict[str, Any]], payload: _Payload) -> None:
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


def _choose_dist_info(where: str, site: str | None, payload: _Payload, pypi_name: str) -> str | None:
    """The ``.dist-info`` directory of the package's own distribution, if it has one."""
    if site is None:
        return None
    found = sorted({p[len(site) + 1 :].split("/", 1)[0] for p in payload.contents})
    if len(found) > 1:
        mine = [d for d in found if canonicalize_name(d[: -len(".dist-info")].rpartition("-")[0]) == canonicalize_name(pypi_name)]
        if len(mine) != 1:
            raise BadInput(where, f"several .dist-info directories ({', '.join(found)}) and none is clearly {pypi_name}'s", hint=MALFORMED)
        found = mine
    if not found:
        return None
    if f"{site}/{found[0]}/METADATA" not in payload.contents:
        raise BadInput(where, f"{site}/{found[0]} has no METADATA", hint=MALFORMED)
    return found[0]


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
                return _Guarded(fh, self._archive.where, name)  # type: ignore[return-value]
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


class _Replaced(io.RawIOBase):
    """``head`` followed by ``raw`` minus its first ``skip`` bytes (a script's new ``#!python``)."""

    def __init__(self, head: bytes, raw: BinaryIO, skip: int):
        super().__init__()
        self._head, self._raw, self._skip = head, raw, skip

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        while self._skip:
            skipped = self._raw.read(self._skip)
            if not skipped:
                break
            self._skip -= len(skipped)
        if not self._head:
            return self._raw.read(n)
        if n < 0:
            data, self._head = self._head + self._raw.read(), b""
            return data
        data, self._head = self._head[:n], self._head[n:]
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()
