"""Payload access: the bytes of each planned file, streamed from its source.

Below the planners and used by every writer: a planned file's bytes are inline content, a
distribution member (verified against RECORD as it is read, optionally with its first line
replaced) or an entry of a nested tar archive (``rocm-sdk-devel``'s ``_devel.tar``), read once per
write in archive order and verified against the digest taken while planning.  Writers never
import a planner module; they see planned files through :class:`PayloadFile`.
"""

from __future__ import annotations

import io
import lzma
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import closing
from typing import BinaryIO, Protocol, TypeVar

from ..core.digest import CHUNK, HeadReplaced, VerifyingReader
from ..core.errors import BadInput
from ..model import Distribution, Member
from ..model.wheel import NestedRef


class PayloadFile(Protocol):
    """What a writer needs to know of a planned file to stream its bytes."""

    @property
    def path(self) -> str: ...
    @property
    def is_link(self) -> bool: ...
    @property
    def content(self) -> bytes | None: ...
    @property
    def member(self) -> Member | None: ...
    @property
    def nested(self) -> NestedRef | None: ...
    @property
    def head(self) -> bytes | None: ...
    @property
    def skip(self) -> int: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def size(self) -> int: ...


F = TypeVar("F", bound=PayloadFile)


_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error)


def iter_tar(dist: Distribution, member: Member) -> Iterator[tuple[int, tarfile.TarInfo, BinaryIO | None]]:
    """``(index, info, stream or None)`` for each entry, reading the archive once, forward only.

    The whole archive is verified against RECORD when it has been read to the end.
    """
    where = dist.provenance.path
    with dist.open(member) as reader:
        try:
            tar = tarfile.open(fileobj=reader, mode="r|*")  # type: ignore[call-overload]  # small buffer: tarfile copies it per header
            index = 0
            while (info := tar.next()) is not None:
                tar.members = []  # stream mode keeps every TarInfo otherwise: unbounded on big trees
                stream = _TarEntry(tar.extractfile(info), where, f"{member.origin}:{info.name}") if info.isreg() else None
                yield index, info, stream  # type: ignore[misc]
                index += 1
        except _TAR_ERRORS as exc:
            raise BadInput(where, f"{member.origin}: not a readable tar archive ({exc})") from None


class _TarEntry:
    """A nested archive entry whose read errors name the wheel and the entry."""

    def __init__(self, raw: BinaryIO | None, where: str, label: str):
        self._raw, self._where, self._label = raw, where, label

    def read(self, n: int = -1) -> bytes:
        try:
            return self._raw.read(n) if self._raw is not None else b""
        except _TAR_ERRORS as exc:
            raise BadInput(self._where, f"{self._label}: corrupt data ({exc})") from None


def open_payload(files: Iterable[F], dist: Distribution, *, verify: bool = True) -> Iterator[tuple[F, BinaryIO | None]]:
    """Each planned file with a stream of its bytes (None for links), in the order given.

    Distribution members are verified against RECORD, nested entries against the digest taken
    while planning; each nested archive is read once, so its files must come in archive order
    (:func:`bridge.plan.links.write_order`).  A mismatch raises :class:`BadInput` when the stream is done.
    ``verify=False`` streams plain members unhashed, for a pass that only looks at the bytes (the
    zstd window trial) ahead of the verified write.
    """
    nested: Iterator[tuple[int, tarfile.TarInfo, BinaryIO | None]] | None = None
    nested_member: Member | None = None
    try:
        for f in files:
            if f.is_link:
                yield f, None
            elif f.content is not None:
                yield f, io.BytesIO(f.content)
            elif f.nested is None and f.head is not None:
                assert f.member is not None
                with dist.open(f.member) as stream:
                    rewritten = HeadReplaced(stream, f.head, f.skip, where=dist.provenance.path, label=f.member.origin or f.path, expected=f.sha256)  # type: ignore[arg-type]
                    yield f, rewritten  # type: ignore[misc]
                    rewritten.verify()
            elif f.nested is None and not verify:
                assert f.member is not None
                with closing(dist.opener(f.member)) as raw:
                    yield f, raw
            elif f.nested is None:
                assert f.member is not None
                with dist.open(f.member) as stream:
                    yield f, stream  # type: ignore[misc]
            else:
                if nested is None or nested_member != f.member:
                    _close(nested)
                    assert f.member is not None
                    nested, nested_member = iter_tar(dist, f.member), f.member
                stream = _seek_entry(nested, f, dist)
                yield f, stream  # type: ignore[misc]
                stream.verify()
    finally:
        _close(nested)


def _seek_entry(entries: Iterator[tuple[int, tarfile.TarInfo, BinaryIO | None]], f: PayloadFile, dist: Distribution) -> VerifyingReader:
    assert f.nested is not None and f.member is not None
    for index, info, stream in entries:
        if index < f.nested.index:
            continue
        if index != f.nested.index or info.name != f.nested.name or stream is None:
            break
        return VerifyingReader(
            stream,  # type: ignore[arg-type]
            label=f"{f.member.origin}:{f.nested.name}",
            where=dist.provenance.path,
            size=f.size,
            expected=("sha256", f.sha256) if f.sha256 else None,
        )
    raise BadInput(dist.provenance.path, f"{f.member.origin}: entry {f.nested.name} changed since it was planned")


def _close(entries: Iterator[object] | None) -> None:
    if entries is not None:
        entries.close()  # type: ignore[attr-defined]


class SeekableMember:
    """A seekable, read-only view of a member that can only be read forward (e.g. a deflated zip member).

    ``seek(0, SEEK_END)`` is answered from the member's size; the first MiB is kept, forward
    seeks read and discard, and a backward seek past the kept head re-opens the member.
    """

    HEAD = 1 << 20

    def __init__(self, dist: Distribution, member: Member):
        self._dist, self._member = dist, member
        self._raw: BinaryIO | None = None
        self._raw_pos = 0
        self._pos = 0
        self._head = self._read_raw(self.HEAD)

    def __enter__(self) -> SeekableMember:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._member.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = max(0, self._member.size - self._pos)
        end = self._pos + n
        if end <= len(self._head):
            data = self._head[self._pos : end]
        else:
            if self._raw is None or self._raw_pos > self._pos:
                self.close()
                self._raw_pos = 0
            self._skip_to(self._pos)
            data = self._read_raw(n)
        self._pos += len(data)
        return data

    def _skip_to(self, pos: int) -> None:
        while self._raw_pos < pos:
            if not self._read_raw(min(CHUNK, pos - self._raw_pos)):
                break

    def _read_raw(self, n: int) -> bytes:
        if self._raw is None:
            self._raw = self._dist.opener(self._member)
            self._raw_pos = 0
        data = self._raw.read(n)
        self._raw_pos += len(data)
        return data
