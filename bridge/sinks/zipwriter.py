"""A deterministic ZIP writer: deflate spread over all cores, zstd members, raw entry copies.

:mod:`zipfile` compresses a member on one thread and cannot store bytes compressed elsewhere,
so this writer lays out the container itself (APPNOTE 6.3.10):

* **deflate in parallel, pigz-style**: a member is cut into fixed 1 MiB chunks; each chunk is
  deflated on a worker thread (zlib releases the GIL) with the previous 32 KiB as preset
  dictionary and ends with a sync flush, the member's last chunk with a final block.  The
  concatenation is one ordinary deflate stream.  Chunk boundaries are fixed, so the bytes do
  not depend on the thread count.  At most ``2 × threads + 2`` chunks are in flight.
* **zstd** (method 93, read by Python 3.14's :mod:`zipfile`): one frame per member from a
  multi-threaded compressor (its output does not depend on the thread count either).
* **duplicates**: a finished entry's compressed bytes are copied under another name (used to
  dereference symlinks without compressing their target twice).

Local headers are written before the data and patched afterwards (the output must be a
seekable file): no data descriptors, so general-purpose flags are 0 (bit 11 for UTF-8 names).
Zip64 extra fields and end records are written when sizes, offsets or the entry count need them.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, Literal

from .compression import ZstdSettings, default_threads

DEFLATED = 8
ZSTANDARD = 93
CHUNK = 1 << 20
WINDOW = 32 * 1024  # deflate's history: the preset dictionary of the next chunk
ZIP64_LIMIT = 0xFFFFFFFF  # sizes/offsets at or above this need zip64 fields (tests lower it)
COUNT_LIMIT = 0xFFFF
_MARK32 = 0xFFFFFFFF
_VERSION = {DEFLATED: 20, ZSTANDARD: 63}
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")


@dataclass
class ZipMember:
    """One written member."""

    name: str
    method: int
    mode: int
    offset: int = 0  # of the local header
    data_offset: int = 0
    crc: int = 0
    csize: int = 0
    usize: int = 0
    zip64_local: bool = False


def dos_date_time(epoch: int) -> tuple[int, int]:
    """``(date, time)`` fields for a UTC timestamp, clamped to 1980–2107."""
    year, month, day, hour, minute, second = time.gmtime(epoch)[:6]
    if year < 1980:
        year, month, day, hour, minute, second = 1980, 1, 1, 0, 0, 0
    year = min(year, 2107)
    return (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2


def _deflate(data: bytes, zdict: bytes, final: bool, level: int) -> bytes:
    comp = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=zdict) if zdict else zlib.compressobj(level, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def _read_exact(read: Callable[[int], bytes], n: int) -> bytes:
    """``n`` bytes unless the stream ends first (chunk boundaries must not depend on the reader)."""
    data = read(n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


#: What the writer queues, in file order: a member's start, a chunk being deflated, a member's end
#: (with its CRC-32 and uncompressed size).
_Queued = tuple[Literal["start"], ZipMember] | tuple[Literal["data"], "Future[bytes]"] | tuple[Literal["end"], ZipMember, int, int]


class ZipWriter:
    """Writes entries into ``fh`` (seekable, readable for :meth:`duplicate`); :meth:`close` ends it."""

    def __init__(self, fh: BinaryIO, *, mtime: int = 0, level: int = 6, threads: int = 0, zstd: ZstdSettings | None = None):
        self._fh = fh
        self._date, self._time = dos_date_time(mtime)
        self._level = level
        self._zstd = zstd or ZstdSettings()
        workers = threads or default_threads()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deflate")
        self._max_pending = 2 * workers + 2
        self._queue: deque[_Queued] = deque()
        self._pending = 0
        self._current: ZipMember | None = None
        self.entries: list[ZipMember] = []
        self._names: set[str] = set()

    # -- public -------------------------------------------------------------------------
    def write_stream(self, name: str, read: Callable[[int], bytes], size: int, mode: int, method: int = DEFLATED) -> ZipMember:
        """Compress a stream of (about) ``size`` bytes as ``name``; returns its entry once queued."""
        entry = self._new_entry(name, method, mode, size)
        if method == ZSTANDARD:
            self._write_zstd(entry, read, size)
            return entry
        self._push(("start", entry))
        crc = total = 0
        chunk = _read_exact(read, CHUNK)
        zdict = b""
        while True:
            following = _read_exact(read, CHUNK) if len(chunk) == CHUNK else b""
            final = not following
            crc = zlib.crc32(chunk, crc)
            total += len(chunk)
            self._push(("data", self._pool.submit(_deflate, chunk, zdict, final, self._level)))
            if final:
                break
            zdict = chunk[-WINDOW:]
            chunk = following
        self._push(("end", entry, crc, total))
        return entry

    def write_bytes(self, name: str, data: bytes, mode: int = 0o644, method: int = DEFLATED) -> ZipMember:
        view = memoryview(data)
        offset = 0

        def read(n: int) -> bytes:
            nonlocal offset
            piece = bytes(view[offset : offset + n])
            offset += len(piece)
            return piece

        return self.write_stream(name, read, len(data), mode, method)

    def duplicate(self, name: str, source: ZipMember, mode: int | None = None) -> ZipMember:
        """A new entry holding ``source``'s compressed bytes (no recompression)."""
        self._drain(0)
        entry = self._new_entry(name, source.method, source.mode if mode is None else mode, source.usize)
        entry.crc, entry.csize, entry.usize = source.crc, source.csize, source.usize
        self._start(entry)
        remaining, position = source.csize, source.data_offset
        while remaining:
            self._fh.seek(position)
            piece = self._fh.read(min(CHUNK, remaining))
            self._fh.seek(0, 2)
            self._fh.write(piece)
            position += len(piece)
            remaining -= len(piece)
        self._finish(entry)
        return entry

    def flush(self) -> None:
        """Write everything queued (entries are complete afterwards)."""
        self._drain(0)

    def close(self) -> None:
        """Write the central directory and end records; ``fh`` stays open."""
        try:
            self._drain(0)
            self._write_central_directory()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- queue ----------------------------------------------------------------------------
    def _push(self, item: _Queued) -> None:
        self._queue.append(item)
        if item[0] == "data":
            self._pending += 1
            if self._pending > self._max_pending:
                self._drain(self._max_pending // 2)

    def _drain(self, keep: int) -> None:
        while self._queue and (self._pending > keep or self._queue[0][0] != "data"):
            item = self._queue.popleft()
            if item[0] == "start":
                self._start(item[1])
            elif item[0] == "data":
                self._pending -= 1
                data = item[1].result()
                self._fh.write(data)
                assert self._current is not None
                self._current.csize += len(data)
            else:
                _, entry, crc, total = item
                entry.crc, entry.usize = crc, total
                self._finish(entry)

    # -- entries --------------------------------------------------------------------------
    def _new_entry(self, name: str, method: int, mode: int, size: int) -> ZipMember:
        if name in self._names:
            raise ValueError(f"duplicate zip member {name!r}")
        self._names.add(name)
        return ZipMember(name, method, mode, zip64_local=size * 1.05 + 1024 >= ZIP64_LIMIT)

    def _flags(self, name: str) -> int:
        return 0 if name.isascii() else 0x800

    def _version(self, entry: ZipMember, zip64: bool) -> int:
        return max(_VERSION[entry.method], 45 if zip64 else 0)

    def _start(self, entry: ZipMember) -> None:
        self._fh.seek(0, 2)
        entry.offset = self._fh.tell()
        name = entry.name.encode("utf-8")
        extra = struct.pack("<HHQQ", 1, 16, 0, 0) if entry.zip64_local else b""
        self._fh.write(
            _LOCAL.pack(0x04034B50, self._version(entry, entry.zip64_local), self._flags(entry.name), entry.method,
                        self._time, self._date, 0, 0, 0, len(name), len(extra))
        )
        self._fh.write(name + extra)
        entry.data_offset = self._fh.tell()
        self._current = entry

    def _finish(self, entry: ZipMember) -> None:
        if not entry.zip64_local and max(entry.csize, entry.usize) >= ZIP64_LIMIT:
            raise ValueError(f"{entry.name}: grew past 4 GiB after compression; cannot patch its header")
        self._fh.seek(entry.offset + 14)
        if entry.zip64_local:
            self._fh.write(struct.pack("<III", entry.crc, _MARK32, _MARK32))
            self._fh.seek(entry.offset + 30 + len(entry.name.encode("utf-8")) + 4)
            self._fh.write(struct.pack("<QQ", entry.usize, entry.csize))
        else:
            self._fh.write(struct.pack("<III", entry.crc, entry.csize, entry.usize))
        self._fh.seek(0, 2)
        self.entries.append(entry)
        self._current = None

    def _write_zstd(self, entry: ZipMember, read: Callable[[int], bytes], size: int) -> None:
        self._drain(0)
        self._start(entry)
        crc = total = 0
        cctx = self._zstd.compressor(size)
        with cctx.stream_writer(self._fh, size=size, closefd=False, write_return_read=True) as writer:
            while chunk := read(CHUNK):
                crc = zlib.crc32(chunk, crc)
                total += len(chunk)
                writer.write(chunk)
        entry.crc, entry.usize = crc, total
        entry.csize = self._fh.tell() - entry.data_offset
        self._finish(entry)

    def _write_central_directory(self) -> None:
        self._fh.seek(0, 2)
        start = self._fh.tell()
        for e in self.entries:
            fields = []
            usize, csize, offset = e.usize, e.csize, e.offset
            if usize >= ZIP64_LIMIT:
                fields.append(usize)
                usize = _MARK32
            if csize >= ZIP64_LIMIT:
                fields.append(csize)
                csize = _MARK32
            if offset >= ZIP64_LIMIT:
                fields.append(offset)
                offset = _MARK32
            extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
            version = self._version(e, bool(fields) or e.zip64_local)
            name = e.name.encode("utf-8")
            self._fh.write(
                _CENTRAL.pack(0x02014B50, 3 << 8 | version, version, self._flags(e.name), e.method, self._time, self._date,
                              e.crc, csize, usize, len(name), len(extra), 0, 0, 0, (0o100000 | e.mode) << 16, offset)
            )
            self._fh.write(name + extra)
        end = self._fh.tell()
        count, size = len(self.entries), end - start
        if count >= COUNT_LIMIT or size >= ZIP64_LIMIT or start >= ZIP64_LIMIT:
            self._fh.write(_EOCD64.pack(0x06064B50, 44, 3 << 8 | 45, 45, 0, 0, count, count, size, start))
            self._fh.write(_LOCATOR64.pack(0x07064B50, 0, end, 1))
        entries = 0xFFFF if count >= COUNT_LIMIT else count
        self._fh.write(
            _EOCD.pack(0x06054B50, 0, 0, entries, entries, _MARK32 if size >= ZIP64_LIMIT else size,
                       _MARK32 if start >= ZIP64_LIMIT else start, 0)
        )
