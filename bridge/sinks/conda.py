"""Write a planned conda package as ``.conda`` (v2) or ``.tar.bz2`` (v1), streaming.

Payload bytes flow from the source member through a tar stream into the compressor and
straight into the output file: no temporary tree, no whole-file buffers (128 KiB copy chunks;
memory is dominated by the zstd window, see :mod:`bridge.sinks.compression`).  Each member is
verified against its expected size and sha256 as it passes; any mismatch aborts the write
and leaves no file behind (the output is renamed into place only when complete).  Files
inside a nested archive (an expanded devel tarball) are streamed out of it in archive order.
"""

from __future__ import annotations

import bz2
import io
import json
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from ..core.errors import BadInput
from ..core.fsutil import atomic_path
from ..model import Distribution
from ..model.conda import IndexJson, LinkJson
from ..model.paths import contained_output
from ..plan.types import CondaPackage, PackageFormat, PlannedFile
from ..sources.payload import open_payload
from .compression import ZstdSettings, choose_window_log
from .members import check_members
from .settings import ProgressFn, WriteSettings

_ZIP_EPOCH = 315532800  # 1980-01-01, the earliest ZIP date
#: Bytes per copy from a source into the compressor.  Smaller writes let multi-threaded zstd keep
#: fewer job buffers in flight: 128 KiB instead of 1 MiB lowers a cuBLAS conversion's peak RSS by
#: ~20 MiB at no measurable cost in speed, and does not change the output.
COPY_CHUNK = 128 << 10


def write_package(pkg: CondaPackage, dist: Distribution, out_dir: Path, settings: WriteSettings) -> Path:
    """Write ``pkg`` as a ``.conda`` or ``.tar.bz2`` (``settings.format``) into ``out_dir`` atomically; returns the final path."""
    fmt = settings.format
    final = output_path(pkg, dist, Path(out_dir), fmt)
    with atomic_path(final) as tmp:
        if fmt == "conda":
            _write_v2(pkg, dist, tmp, settings.zstd, settings.progress)
        elif fmt == "tar.bz2":
            _write_v1(pkg, dist, tmp, settings.progress)
        else:
            raise ValueError(f"not an archive format: {fmt}")
    return final


def output_path(pkg: CondaPackage, dist: Distribution, out_dir: Path, fmt: PackageFormat) -> Path:
    """Where ``pkg`` goes: its file name checked against conda's grammar, its members against the
    path rule, and the result joined to ``out_dir`` only through the contained join."""
    where = dist.provenance.path
    try:
        name = pkg.filename(fmt)
    except ValueError as exc:
        raise BadInput(where, f"refusing to write package {pkg.stem!r}: {exc}", hint="never install this input; report it to its publisher") from None
    files = [*pkg.files, *pkg.info_files]
    check_members(where, [f.path for f in files], [(f.path, f.target) for f in files if f.target is not None], windows=pkg.target.windows)
    IndexJson.from_raw(pkg.index_json(), where, "info/index.json (to be written)")  # a restored index.json too
    if pkg.link is not None:
        LinkJson.from_raw(pkg.link, where, "info/link.json (to be written)")
    return contained_output(out_dir, name, where)


def _write_v2(pkg: CondaPackage, dist: Distribution, path: Path, zstd: ZstdSettings, progress: ProgressFn | None) -> None:
    mtime = pkg.timestamp_ms // 1000
    with path.open("wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_zip_info("metadata.json", mtime), json.dumps({"conda_pkg_format_version": 2}))
        payload = sum(f.size for f in pkg.files if not f.is_link) + 1024 * (len(pkg.files) + 2)
        window_log = choose_window_log(zstd, payload, lambda: _payload_chunks(pkg.files, dist))
        with zf.open(_zip_info(f"pkg-{pkg.stem}.tar.zst", mtime), "w", force_zip64=True) as member:
            _write_tar_zst(member, zstd, payload, window_log, lambda tar: _add_files(tar, pkg.files, dist, mtime, progress))
        info_size = sum(len(d) for _, d in pkg.metadata_files()) + sum(f.size for f in pkg.info_files) + 8192
        with zf.open(_zip_info(f"info-{pkg.stem}.tar.zst", mtime), "w", force_zip64=True) as member:
            _write_tar_zst(member, zstd, info_size, None, lambda tar: _add_info(tar, pkg, dist, mtime))


def _payload_chunks(files: Iterable[PlannedFile], dist: Distribution) -> Iterator[bytes]:
    """The payload's file contents in write order, for the window trial (not hashed: the write that
    follows verifies every byte)."""
    for _, stream in open_payload(files, dist, verify=False):
        if stream is not None:
            while chunk := stream.read(COPY_CHUNK * 8):
                yield chunk


def _write_tar_zst(raw: IO[bytes], zstd: ZstdSettings, size_hint: int, window_log: int | None, fill: Callable[[tarfile.TarFile], None]) -> None:
    with zstd.compressor(size_hint, window_log).stream_writer(raw, closefd=False) as compressed:
        with _tar_writer(compressed) as tar:
            fill(tar)


def _write_v1(pkg: CondaPackage, dist: Distribution, path: Path, progress: ProgressFn | None) -> None:
    mtime = pkg.timestamp_ms // 1000
    with path.open("wb") as fh, bz2.BZ2File(fh, "wb", compresslevel=9) as compressed:
        with _tar_writer(compressed) as tar:
            _add_info(tar, pkg, dist, mtime)  # info/ first: readers find index.json early
            _add_files(tar, pkg.files, dist, mtime, progress)


def _tar_writer(stream: object) -> tarfile.TarFile:
    """A tar writer straight into ``stream`` (the compressor).

    Plain ``w`` mode, not ``w|``: the stream mode's buffer is re-sliced per 10 KiB record (a copy of
    the rest each time), which cost more CPU than compressing at the default level.  Both write
    the same bytes; ``w`` only asks the stream for ``tell()`` once, and never seeks.
    """
    return tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT)  # type: ignore[call-overload]


def _add_info(tar: tarfile.TarFile, pkg: CondaPackage, dist: Distribution, mtime: int) -> None:
    entries: list[tuple[str, bytes | PlannedFile]] = [(p, d) for p, d in pkg.metadata_files()]
    entries += [(f.path, f) for f in pkg.info_files]
    for path, item in sorted(entries, key=lambda e: e[0]):
        if isinstance(item, bytes):
            tar.addfile(_tar_info(path, len(item), 0o644, mtime), io.BytesIO(item))
        else:
            _add_files(tar, [item], dist, mtime, None)


def _add_files(tar: tarfile.TarFile, files: Iterable[PlannedFile], dist: Distribution, mtime: int, progress: ProgressFn | None) -> None:
    tar.copybufsize = COPY_CHUNK  # type: ignore[attr-defined]
    for f, stream in open_payload(files, dist):
        if f.target is not None:
            tar.addfile(_tar_info(f.path, 0, 0o777, mtime, link=f.target))
        else:
            assert stream is not None
            source = stream if progress is None else _Counting(stream, progress)
            tar.addfile(_tar_info(f.path, f.size, f.mode, mtime), source)  # type: ignore[arg-type]
        tar.members.clear()  # type: ignore[attr-defined]  # a writer never needs them back: bounded memory on trees of many files
        if progress is not None:
            progress(0, 1)


class _Counting:
    """Reports bytes as they are read, so progress moves inside a multi-GB file too."""

    def __init__(self, stream: object, progress: ProgressFn):
        self._stream, self._progress = stream, progress

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)  # type: ignore[attr-defined]
        if data:
            self._progress(len(data), 0)
        return data


def _tar_info(path: str, size: int, mode: int, mtime: int, link: str | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.size = size
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if link is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = link
        info.size = 0
    return info


def _zip_info(name: str, mtime: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, time.gmtime(max(mtime, _ZIP_EPOCH))[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info
