"""Mach-O files (``.dylib``, ``.so``, executables, fat binaries): load commands, read with ``macholib``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from macholib import mach_o
from macholib.MachO import MachO

#: ``cputype`` per conda subdir.
CPU_TYPES = {"osx-arm64": 0x0100000C, "osx-64": 0x01000007}  # CPU_TYPE_ARM64, CPU_TYPE_X86_64
_MAGICS = {
    b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe",  # thin, 32/64-bit, both byte orders
    b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf",  # fat (Java class files share the first magic: macholib rejects them)
}
_LOAD = {mach_o.LC_LOAD_DYLIB: False, mach_o.LC_LOAD_WEAK_DYLIB: True, mach_o.LC_REEXPORT_DYLIB: False, mach_o.LC_LOAD_UPWARD_DYLIB: False}


class BadMachO(ValueError):
    """Not a readable Mach-O file."""


@dataclass(frozen=True)
class MachOInfo:
    cputype: int
    needed: tuple[str, ...]  # install names of the dylibs it loads
    weak: frozenset[str]  # weakly linked: may be absent at run time
    rpaths: tuple[str, ...]  # LC_RPATH entries, unexpanded (@loader_path/…)


def is_macho(head: bytes) -> bool:
    return head[:4] in _MAGICS


def read_load_commands(path: str | Path, subdir: str | None = None) -> MachOInfo:
    """Dylibs and rpaths of the slice for ``subdir`` (a fat binary's first slice if it has none)."""
    try:
        headers = MachO(str(path)).headers
    except (ValueError, KeyError, OSError, EOFError, AttributeError) as exc:
        raise BadMachO(f"not a readable Mach-O file ({type(exc).__name__}: {exc})") from None
    if not headers:
        raise BadMachO("no Mach-O header")
    wanted = CPU_TYPES.get(subdir or "")
    header = next((h for h in headers if h.header.cputype == wanted), headers[0])
    needed: list[str] = []
    weak: set[str] = set()
    rpaths: list[str] = []
    for load, _command, data in header.commands:
        text = data.decode("utf-8", "replace").split("\0", 1)[0] if isinstance(data, bytes) else ""
        if load.cmd in _LOAD and text:
            needed.append(text)
            if _LOAD[load.cmd]:
                weak.add(text)
        elif load.cmd == mach_o.LC_RPATH and text:
            rpaths.append(text)
    return MachOInfo(header.header.cputype, tuple(dict.fromkeys(needed)), frozenset(weak), tuple(rpaths))
