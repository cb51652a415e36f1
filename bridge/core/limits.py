"""Caps and file-kind checks applied to every input before it is read (docs/security.md).

* Only regular files are read as inputs: a FIFO, device or socket given as a wheel, a conda
  package, a channel file or a recipes file is refused *before it is opened* (opening a FIFO
  for reading blocks until a writer appears; ``/dev/zero`` never ends).
* Metadata-like members (``.dist-info`` files, ``info/*``, licences, entry points, RECORD,
  recipes files) are held in memory to be parsed, so each is capped at :data:`METADATA_CAP`
  bytes; a bigger one refuses the input.  Payload members of any size are streamed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from .errors import BadInput

#: Largest metadata-like file read into memory (64 MiB): real ones are kilobytes to a few MiB
#: (a RECORD of 100,000 files is about 15 MiB).
METADATA_CAP = 64 << 20

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def special_kind(mode: int) -> str | None:
    """What a non-regular file is (``"a FIFO (named pipe)"``), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((text for test, text in _KINDS if test(mode)), "not a regular file")


def require_regular_file(path: str | os.PathLike[str], what: str = "input") -> Path:
    """Refuse ``path`` unless it is (a symlink to) an existing regular file; never opens it."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise BadInput(path, "no such file") from None
    except OSError as exc:
        raise BadInput(path, f"cannot be read ({exc.strerror or exc})") from None
    kind = special_kind(st.st_mode)
    if kind is not None:
        raise BadInput(path, f"is {kind}, not a regular file", hint=f"give the {what} as a regular file")
    return path


def check_metadata_size(where: str | os.PathLike[str], name: str, size: int, cap: int = METADATA_CAP) -> None:
    """Refuse a metadata-like member ``name`` of ``size`` bytes beyond ``cap`` (before reading it)."""
    if size > cap:
        raise BadInput(
            where,
            f"{name} is {size} bytes, over the {cap >> 20} MiB limit for metadata files",
            hint="metadata this large is not plausible; see docs/security.md (caps)",
        )


def read_capped(stream: IO[bytes], where: str | os.PathLike[str], name: str, cap: int = METADATA_CAP) -> bytes:
    """Read a stream of unknown length into memory, refusing it once it passes ``cap`` bytes."""
    data = stream.read(cap + 1)
    if len(data) > cap:
        check_metadata_size(where, name, len(data), cap)
    return data


def read_small_file(path: str | os.PathLike[str], what: str = "metadata file", cap: int = METADATA_CAP) -> bytes:
    """A regular file's bytes, refused (before opening) when special or over ``cap`` bytes."""
    path = require_regular_file(path, what)
    check_metadata_size(path, path.name, path.stat().st_size, cap)
    with open(path, "rb") as fh:
        return read_capped(fh, path, path.name, cap)
