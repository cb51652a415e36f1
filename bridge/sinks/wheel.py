"""Write a :class:`Distribution` as a PEP 427 wheel: deterministic, streaming, deflate on all cores.

Members are written in :attr:`Distribution.members` order (a conda source's archive order, so
it is read once), ``.dist-info`` last and ``RECORD`` at the very end; each member is hashed
while it streams (the reader verifies it at the same time) and RECORD is built from those
digests.  Symlinks become copies of their target (a zip entry duplicated without
recompressing it) listed in ``.dist-info/LINKS`` (:mod:`bridge.model.roundtrip`).  Timestamps come
from the distribution, so the same input gives the same bytes whatever the thread count.

zstd members (ZIP method 93) are opt-in and refused unless every tag needs Python 3.14 or
later, the first CPython whose :mod:`zipfile` reads them; ``.dist-info`` stays deflated.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag

from .. import __version__
from ..core.digest import RecordEntry, format_record, sha256_bytes
from ..core.errors import BadInput, Unsupported
from ..core.fsutil import atomic_path
from ..model import Distribution, Member
from ..model.paths import check_file_name, contained_output
from ..model.roundtrip import LINKS, directories_of, format_links, resolve_links
from .compression import DEFAULT_LEVEL, ZstdSettings
from .members import check_members
from .settings import ProgressFn, WriteSettings
from .zipwriter import DEFLATED, ZSTANDARD, ZipMember, ZipWriter

DEFLATE_LEVEL = 6  # zlib's default, what wheel builders use


def zstd_refusal(tags: Collection[Tag], requires_python: SpecifierSet | None) -> str | None:
    """Why zstd members would make this wheel unreadable somewhere, or None."""
    for tag in sorted(tags, key=str):
        m = re.fullmatch(r"(?:cp|pp|py)(\d)(\d*)", tag.interpreter)
        if m and m.group(2) and (int(m.group(1)), int(m.group(2))) >= (3, 14):
            continue
        if requires_python is not None and not any(
            requires_python.contains(f"3.{minor}.{patch}", prereleases=True) for minor in range(14) for patch in (0, 99)
        ):
            continue  # e.g. py3-none-any with Requires-Python >=3.14
        return f"zstd-compressed members need Python 3.14 or later to install, but tag {tag} admits older Pythons"
    return None


def wheel_filename(dist: Distribution, variant_label: str | None = None) -> str:
    """``{name}-{version}[-{build}]-{python}-{abi}-{platform}[-{variant}].whl`` (tags compressed)."""
    interpreters = sorted({t.interpreter for t in dist.tags})
    abis = sorted({t.abi for t in dist.tags})
    platforms = sorted({t.platform for t in dist.tags})
    if len(interpreters) * len(abis) * len(platforms) != len(dist.tags):
        raise Unsupported(dist.provenance.path, f"tags {sorted(map(str, dist.tags))} do not form one compressed tag set")
    parts = [re.sub(r"[-_.]+", "_", dist.name).lower(), str(dist.version)]
    if dist.build_tag:
        parts.append(f"{dist.build_tag[0]}{dist.build_tag[1]}")
    parts += [".".join(interpreters), ".".join(abis), ".".join(platforms)]
    if variant_label:
        parts.append(variant_label)
    return "-".join(parts) + ".whl"


def wheel_file(dist: Distribution) -> bytes:
    """The ``WHEEL`` metadata file for ``dist``."""
    lines = ["Wheel-Version: 1.0", f"Generator: wheel2conda ({__version__})", f"Root-Is-Purelib: {str(dist.root_is_purelib).lower()}"]
    if dist.build_tag:
        lines.append(f"Build: {dist.build_tag[0]}{dist.build_tag[1]}")
    lines += [f"Tag: {t}" for t in sorted(map(str, dist.tags))]
    return ("\n".join(lines) + "\n").encode()


def write_wheel(
    dist: Distribution,
    out_dir: Path,
    settings: WriteSettings | None = None,
    *,
    filename: str | None = None,
    extra_dist_info: Mapping[str, bytes] | None = None,
) -> Path:
    """Write ``dist`` as a wheel into ``out_dir`` atomically; returns its path.

    ``extra_dist_info`` adds generated ``.dist-info`` files (name → bytes).
    """
    where = dist.provenance.path
    settings = settings or WriteSettings()
    compression = settings.wheel_compression
    if compression.method == "zstd":
        reason = zstd_refusal(dist.tags, dist.requires_python)
        if reason:
            raise Unsupported(where, reason, hint="use the default deflate compression")
    name = filename or wheel_filename(dist)
    problem = check_file_name(name, "wheel file name")
    if problem:
        raise BadInput(where, f"refusing to write: {problem}", hint="never install this input; report it to its publisher")
    links = [(m.path, m.target) for m in dist.members if m.target is not None]
    check_members(where, [*(m.path for m in dist.members), *(f"{dist.dist_info}/{n}" for n in extra_dist_info or {})], links, casefold=False)
    final = contained_output(Path(out_dir), name, where)
    files = {m.origin: m for m in dist.members if not m.is_link}
    try:
        targets = resolve_links({m.origin: m.target for m in dist.members if m.target is not None}, set(files), directories=True, outside=True)
    except ValueError as exc:
        raise BadInput(where, f"cannot dereference links: {exc}") from None
    with atomic_path(final) as tmp, tmp.open("w+b") as fh:
        writer = ZipWriter(
            fh,
            mtime=dist.provenance.timestamp,
            level=compression.level or DEFLATE_LEVEL,
            threads=compression.threads,
            zstd=ZstdSettings(level=compression.level or DEFAULT_LEVEL, threads=compression.threads),
        )
        try:
            _Writer(dist, writer, files, targets, compression.method == "zstd", settings.progress).write(extra_dist_info or {})
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return final


class _Writer:
    """One wheel's member bookkeeping: RECORD rows, links waiting for their target."""

    def __init__(self, dist: Distribution, zw: ZipWriter, files: dict[str, Member], targets: dict[str, str], zstd: bool, progress: ProgressFn | None):
        self.dist, self.zw, self.files, self.targets = dist, zw, files, targets
        self.method = ZSTANDARD if zstd else DEFLATED
        self.progress = progress
        self.data_dir = dist.dist_info[: -len(".dist-info")] + ".data"
        self.rows: list[RecordEntry] = []
        self.written: dict[str, tuple[ZipMember, str, int]] = {}  # origin → (entry, sha256, size)
        self.waiting: dict[str, list[Member]] = {}
        self.link_rows: list[tuple[str, str]] = []
        self.directories = directories_of(files)

    def write(self, extra: Mapping[str, bytes]) -> None:
        prefix = self.dist.dist_info + "/"
        metadata = [m for m in self.dist.members if m.scheme.in_site_packages and m.path.startswith(prefix)]
        for member in self.dist.members:
            if not (member.scheme.in_site_packages and member.path.startswith(prefix)):
                self._member(member, self.method)
        for member in sorted(metadata, key=lambda m: m.path):
            self._member(member, DEFLATED)
        if self.waiting:
            left = sorted(m.origin for links in self.waiting.values() for m in links)
            raise BadInput(self.dist.provenance.path, f"links whose target is not in the wheel: {', '.join(left)}")
        generated = dict(extra)
        if self.link_rows:
            generated[LINKS] = format_links(self.link_rows)
        if not any(m.path == prefix + "WHEEL" for m in metadata):
            generated["WHEEL"] = wheel_file(self.dist)
        for name in sorted(generated):
            self._bytes(prefix + name, generated[name])
        record = prefix + "RECORD"
        self.zw.write_bytes(record, format_record([*self.rows, (record, None, None)]))

    def _arcname(self, member: Member) -> str:
        if member.scheme == self.dist.site_scheme:
            return member.path
        return f"{self.data_dir}/{member.scheme.value}/{member.path}"

    def _member(self, member: Member, method: int) -> None:
        if member.target is not None:
            target = self.targets[member.origin]
            if target not in self.files:  # a directory (a copy would duplicate the tree) or another package's path: only a LINKS row
                self.link_rows.append((self._arcname(member) + ("/" if target in self.directories else ""), str(member.target)))
                return
            if target in self.written:
                self._copy(member, target)
            else:
                self.waiting.setdefault(target, []).append(member)
            return
        name = self._arcname(member)
        with self.dist.open(member) as stream:
            entry = self.zw.write_stream(name, stream.read, member.size, member.mode, method)
        self.written[member.origin] = (entry, stream.sha256, stream.count)
        self.rows.append((name, stream.sha256, stream.count))
        if self.progress is not None:
            self.progress(stream.count, 1)
        for link in self.waiting.pop(member.origin, []):
            self._copy(link, member.origin)

    def _copy(self, link: Member, target: str) -> None:
        entry, sha, size = self.written[target]
        name = self._arcname(link)
        self.zw.duplicate(name, entry, self.files[target].mode)
        self.rows.append((name, sha, size))
        self.link_rows.append((name, str(link.target)))

    def _bytes(self, name: str, data: bytes) -> None:
        self.zw.write_bytes(name, data)
        self.rows.append((name, sha256_bytes(data), len(data)))
