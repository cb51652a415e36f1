"""Hashing while streaming: RECORD digests, verified readers, and copy helpers."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from collections.abc import Iterable
from typing import BinaryIO, Protocol

from .errors import BadInput

CHUNK = 1 << 20  # 1 MiB: large enough for throughput, small enough for bounded memory


def record_digest(sha256_hex: str) -> str:
    """``sha256=<urlsafe base64 without padding>`` as written in a wheel RECORD."""
    raw = bytes.fromhex(sha256_hex)
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


#: A RECORD entry to write: path, sha256 hex digest and size, or None and None (RECORD itself, links, files changed at install).
RecordEntry = tuple[str, "str | None", "int | None"]


def format_record(entries: Iterable[RecordEntry]) -> bytes:
    """A RECORD file (PEP 376/627: CSV, "\\n" line ends) of ``entries`` in the order given."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        (path, record_digest(sha256) if sha256 is not None else "", str(size) if size is not None else "") for path, sha256, size in entries
    )
    return buf.getvalue().encode()


def parse_record_digest(value: str) -> tuple[str, str]:
    """``algo=b64`` → ``(algo, hex digest)``; raises ValueError on malformed input."""
    algo, sep, encoded = value.partition("=")
    if not sep or not algo or not encoded:
        raise ValueError(f"malformed hash {value!r}")
    if algo not in hashlib.algorithms_guaranteed or algo in {"md5", "sha1"}:
        raise ValueError(f"hash algorithm {algo!r} is not allowed in RECORD")
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if len(raw) != hashlib.new(algo).digest_size:
        raise ValueError(f"hash {value!r} has the wrong length for {algo}")
    return algo, raw.hex()


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class Digests:
    """sha256 and size of a byte stream, plus any other algorithms named (``md5``, RECORD's), updated chunk by chunk."""

    def __init__(self, *others: str) -> None:
        self._sha256 = hashlib.sha256()
        self._others = {algo: hashlib.new(algo) for algo in others if algo != "sha256"}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        for other in self._others.values():
            other.update(chunk)
        self.size += len(chunk)

    def consume(self, stream: Readable, copy_to: Writable | None = None) -> Digests:
        """Digest ``stream`` to its end (writing every chunk to ``copy_to`` as well when given); returns self."""
        while chunk := stream.read(CHUNK):
            self.update(chunk)
            if copy_to is not None:
                copy_to.write(chunk)
        return self

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> str:
        return self.hexdigest("md5")

    def hexdigest(self, algo: str) -> str:
        """The hex digest of ``algo`` (sha256 or one named at construction)."""
        return self.sha256 if algo == "sha256" else self._others[algo].hexdigest()


def hash_stream(stream: Readable, copy_to: Writable | None = None, *others: str) -> Digests:
    """:class:`Digests` of ``stream`` to its end, copied to ``copy_to`` when given."""
    return Digests(*others).consume(stream, copy_to)


def file_digests(path: str | os.PathLike[str], *others: str) -> Digests:
    """:class:`Digests` of a file, read once in chunks."""
    with open(path, "rb") as fh:
        return hash_stream(fh, None, *others)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, read in chunks."""
    return file_digests(path).sha256


class VerifyingReader:
    """Reads a member stream, hashing as it goes; :meth:`verify` checks size and digest.

    ``expected`` is ``(algorithm, hex digest)`` or None.  The sha256 of what was read is
    always available afterwards as :attr:`sha256`, so writers never re-read a file to hash it.
    """

    def __init__(
        self,
        raw: BinaryIO,
        *,
        label: str,
        where: str,
        size: int | None = None,
        expected: tuple[str, str] | None = None,
    ):
        self._raw = raw
        self._label = label
        self._where = where
        self._size = size
        self._expected = expected
        self._digests = Digests(*expected[:1]) if expected else Digests()

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        if data:
            self._digests.update(data)
        return data

    @property
    def count(self) -> int:
        """Bytes read so far."""
        return self._digests.size

    @property
    def sha256(self) -> str:
        return self._digests.sha256

    def drain(self) -> None:
        """Read whatever the consumer left, so size and digest cover the whole member."""
        while self.read(CHUNK):
            pass

    def verify(self) -> str:
        """Drain, then compare with RECORD; returns the sha256 hex digest."""
        self.drain()
        if self._size is not None and self.count != self._size:
            raise BadInput(
                self._where,
                f"{self._label}: size is {self.count} bytes but RECORD says {self._size}",
                hint="the file is damaged or was modified: download (or reinstall) it again",
            )
        if self._expected is not None:
            algo, want = self._expected
            if self._digests.hexdigest(algo) != want:
                raise BadInput(self._where, f"{self._label}: {algo} does not match RECORD", hint="the file is damaged or was modified: download (or reinstall) it again")
        return self.sha256


#: Most bytes looked at to find a script's first line (a longer shebang line is left as it is).
FIRST_LINE_LIMIT = 8192


def read_first_line(stream: BinaryIO | VerifyingReader, limit: int = FIRST_LINE_LIMIT) -> tuple[bytes, bytes]:
    """``(first line with its newline, bytes read past it)``, looking at no more than ``limit`` bytes."""
    head = b""
    while len(head) < limit and not head.endswith(b"\n"):
        piece = stream.read(min(256, limit - len(head)))
        if not piece:
            break
        cut = piece.find(b"\n")
        if cut >= 0:
            # give back what follows the newline: keep it as the start of the rest
            return head + piece[: cut + 1], piece[cut + 1 :]
        head += piece
    return head, b""


class HeadReplaced:
    """A stream whose first ``skip`` bytes are replaced by ``head`` (a rewritten shebang line).

    Reads the rest of ``raw`` in chunks: memory is bounded whatever the size of the member.
    With ``expected`` (a sha256 hex digest), :meth:`verify` checks the bytes served.
    """

    def __init__(self, raw: BinaryIO, head: bytes, skip: int, *, where: str = "", label: str = "", expected: str | None = None):
        self._raw, self._pending, self._skip = raw, head, skip
        self._where, self._label, self._expected = where, label, expected
        self._digests = Digests()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n`` < 0); fewer only at the end."""
        while self._skip:
            skipped = self._raw.read(min(self._skip, CHUNK))
            if not skipped:
                break
            self._skip -= len(skipped)
        if n is None or n < 0:
            data = self._pending + b"".join(iter(lambda: self._raw.read(CHUNK), b""))
            self._pending = b""
        else:
            data, self._pending = self._pending[:n], self._pending[n:]
            while len(data) < n:  # tarfile refuses short reads before the end
                more = self._raw.read(n - len(data))
                if not more:
                    break
                data += more
        self._digests.update(data)
        return data

    @property
    def sha256(self) -> str:
        return self._digests.sha256

    def close(self) -> None:
        self._raw.close()

    def verify(self) -> None:
        """Drain, then compare what was served with ``expected``."""
        while self.read(CHUNK):
            pass
        if self._expected is not None and self._digests.sha256 != self._expected:
            raise BadInput(self._where, f"{self._label}: content changed since it was planned", hint="the file is damaged or was modified: read it again")
