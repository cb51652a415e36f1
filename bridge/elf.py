"""Facts read from ELF files with pyelftools (its structures, never a hand-written layout).

Only what conversion needs: whether bytes are ELF, and a shared library's ``DT_SONAME``.
Streams must be seekable.  :func:`soname` reads the ELF header and program headers (the first
bytes), the ``PT_DYNAMIC`` segment and one string of ``.dynstr``, nothing else: section headers,
which sit at the very end of a file, are never touched, so a compressed member is read forward
about once (see :class:`bridge.links.SeekableMember`) instead of several times over.
"""

from __future__ import annotations

from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.common.utils import parse_cstring_from_stream, struct_parse
from elftools.construct import ConstructError
from elftools.elf.elffile import ELFFile

ELF_MAGIC = b"\x7fELF"


def is_elf(head: bytes) -> bool:
    """Do these first bytes of a file start an ELF image?"""
    return head[:4] == ELF_MAGIC


def soname(stream: BinaryIO) -> str | None:
    """The ``DT_SONAME`` of an ELF shared library; None when not ELF, not dynamic, or unnamed.

    Malformed ELF data is treated as "no SONAME": this decides optional links, and a file we
    cannot read simply gets none.
    """
    stream.seek(0)
    if not is_elf(stream.read(4)):
        return None
    try:
        elf = ELFFile(stream)  # parses the ELF header only
        structs = elf.structs
        headers = [
            struct_parse(structs.Elf_Phdr, stream, elf["e_phoff"] + i * elf["e_phentsize"]) for i in range(elf["e_phnum"])
        ]
        dynamic = next((h for h in headers if h["p_type"] == "PT_DYNAMIC"), None)
        if dynamic is None:
            return None
        strtab = name = None
        entry = structs.Elf_Dyn.sizeof()
        for i in range(dynamic["p_filesz"] // entry):
            tag = struct_parse(structs.Elf_Dyn, stream, dynamic["p_offset"] + i * entry)
            if tag["d_tag"] == "DT_NULL":
                break
            if tag["d_tag"] == "DT_STRTAB":
                strtab = tag["d_ptr"]
            elif tag["d_tag"] == "DT_SONAME":
                name = tag["d_val"]
        if strtab is None or name is None:
            return None
        for h in headers:  # DT_STRTAB is an address: find its file offset through the loaded segments
            if h["p_type"] == "PT_LOAD" and h["p_vaddr"] <= strtab < h["p_vaddr"] + h["p_filesz"]:
                raw = parse_cstring_from_stream(stream, strtab - h["p_vaddr"] + h["p_offset"] + name)
                return raw.decode("utf-8") if raw else None
        return None
    except (ELFError, ConstructError, ValueError, KeyError, EOFError, UnicodeDecodeError):
        return None
