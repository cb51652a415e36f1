"""ELF dynamic sections: SONAME, DT_NEEDED and RPATH/RUNPATH, read with pyelftools.

Only what the dynamic loader uses to find libraries is read: the ELF header, the program
headers and the ``PT_DYNAMIC`` segment with its string table (pyelftools also reads the
section headers, at the end of the file).  pyelftools needs a seekable stream; callers
holding a forward-only stream (a tar member) spool it first (``bridge.check.libreport``).
:func:`soname` alone never touches the section headers, so on a compressed wheel member
(``bridge.sources.payload.SeekableMember``) it reads forward about once instead of several times over.
Mach-O and PE files are not read here: ``verify`` checks ELF only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.common.utils import parse_cstring_from_stream, struct_parse
from elftools.construct.core import ConstructError
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile

ELF_MAGIC = b"\x7fELF"

_STRING_TAGS = ("DT_NEEDED", "DT_SONAME", "DT_RPATH", "DT_RUNPATH")


class BadElf(ValueError):
    """The bytes start like ELF but its headers or dynamic section cannot be read."""


@dataclass(frozen=True)
class DynamicInfo:
    """What the dynamic loader reads from one ELF object."""

    machine: str  # e_machine, e.g. "EM_X86_64"
    elfclass: int  # 32 or 64
    shared: bool  # e_type ET_DYN (shared libraries, extension modules, PIE executables)
    soname: str | None = None
    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()  # DT_RPATH entries (ignored by the loader when DT_RUNPATH exists)
    runpath: tuple[str, ...] = ()

    @property
    def search_path(self) -> tuple[str, ...]:
        """The object's own directories, in the loader's order (RUNPATH replaces RPATH)."""
        return self.runpath if self.runpath else self.rpath


def is_elf(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts with the ELF magic."""
    return head[:4] == ELF_MAGIC


def read_dynamic(stream: BinaryIO) -> DynamicInfo | None:
    """The dynamic-section facts of a seekable ``stream``; None when it is not ELF.

    Static executables and objects without ``PT_DYNAMIC`` give a :class:`DynamicInfo` with
    empty fields. Raises :class:`BadElf` when the ELF structures are damaged.
    """
    stream.seek(0)
    if not is_elf(stream.read(4)):
        return None
    stream.seek(0)
    try:
        elf = ELFFile(stream)
        needed: list[str] = []
        rpath: list[str] = []
        runpath: list[str] = []
        soname_value: str | None = None
        for segment in elf.iter_segments():
            if not isinstance(segment, DynamicSegment):  # what pyelftools makes of PT_DYNAMIC
                continue
            for tag in segment.iter_tags():
                kind = tag.entry.d_tag
                if kind in _STRING_TAGS:
                    # pyelftools sets the string of these tags as an attribute named after the tag
                    value = str(getattr(tag, kind[3:].lower()))
                    if kind == "DT_NEEDED":
                        needed.append(value)
                    elif kind == "DT_SONAME":
                        soname_value = value
                    elif kind == "DT_RPATH":
                        rpath.extend(_split_path(value))
                    else:
                        runpath.extend(_split_path(value))
            break
        return DynamicInfo(
            machine=str(elf["e_machine"]),
            elfclass=elf.elfclass,
            shared=elf["e_type"] == "ET_DYN",
            soname=soname_value,
            needed=tuple(needed),
            rpath=tuple(rpath),
            runpath=tuple(runpath),
        )
    except (ELFError, ConstructError, ValueError, KeyError, AttributeError, UnicodeDecodeError, AssertionError) as exc:
        # damage surfaces as pyelftools/construct parse errors, or as assorted lookups failing
        raise BadElf(f"unreadable ELF ({type(exc).__name__}: {exc})") from None


def read_dynamic_file(path: Path) -> DynamicInfo | None:
    """:func:`read_dynamic` of a file on disk (None for non-ELF files)."""
    with open(path, "rb") as fh:
        return read_dynamic(fh)


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


def expand_origin(entry: str, origin: str) -> str | None:
    """An RPATH/RUNPATH entry with ``$ORIGIN``/``$LIB`` expanded; None for ``$PLATFORM`` ones.

    ``origin`` is the directory of the object that holds the entry.
    """
    value = entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
    value = value.replace("${LIB}", "lib").replace("$LIB", "lib")
    if "$PLATFORM" in value or "${PLATFORM}" in value:
        return None
    return value


def _split_path(value: str) -> list[str]:
    return [part for part in value.split(":") if part]


def machine_compatible(a: DynamicInfo, b: DynamicInfo) -> bool:
    """Whether the loader would accept ``b`` for ``a`` (same machine and class)."""
    return a.machine == b.machine and a.elfclass == b.elfclass


__all__ = [
    "BadElf",
    "DynamicInfo",
    "ELF_MAGIC",
    "expand_origin",
    "is_elf",
    "machine_compatible",
    "read_dynamic",
    "read_dynamic_file",
    "soname",
]
