"""Facts read from ELF files with pyelftools (never a hand-written parser).

Only what conversion needs: whether bytes are ELF, and a shared library's ``DT_SONAME``.
Streams must be seekable; pyelftools reads the ELF header, the program and section headers
and the dynamic section, so a caller holding a compressed member should hand in a stream
that answers ``seek(0, SEEK_END)`` from a known size (see :class:`bridge.links.SeekableMember`).
"""

from __future__ import annotations

from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.construct import ConstructError
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile

ELF_MAGIC = b"\x7fELF"


def is_elf(head: bytes) -> bool:
    """Do these first bytes of a file start an ELF image?"""
    return head[:4] == ELF_MAGIC


def soname(stream: BinaryIO) -> str | None:
    """The ``DT_SONAME`` of an ELF shared library; None when not ELF, not dynamic, or unnamed.

    Malformed ELF data is treated as "no SONAME": this is used to decide optional links, and a
    file we cannot read simply gets none.
    """
    stream.seek(0)
    if not is_elf(stream.read(4)):
        return None
    try:
        elf = ELFFile(stream)
        for segment in elf.iter_segments():
            if isinstance(segment, DynamicSegment):
                for tag in segment.iter_tags("DT_SONAME"):
                    return str(tag.soname)
        return None
    except (ELFError, ConstructError, ValueError, KeyError, EOFError, UnicodeDecodeError):
        return None
