"""Windows PE files (``.dll``, ``.pyd``, ``.exe``): the DLLs they import, read with ``pefile``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pefile


class BadPE(ValueError):
    """Not a readable PE file."""


@dataclass(frozen=True)
class PEInfo:
    machine: int
    imports: tuple[str, ...]  # DLL names as written in the import tables (regular and delay-load)
    delayed: frozenset[str]  # the delay-loaded ones: loaded on first use, may be optional


def is_pe(head: bytes) -> bool:
    return head[:2] == b"MZ"


def read_imports(path: str | Path) -> PEInfo:
    """The DLLs a PE file imports."""
    try:
        pe = pefile.PE(str(path), fast_load=True)
        try:
            pe.parse_data_directories(
                directories=[
                    pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
                    pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"],
                ]
            )
            regular = [e.dll.decode("ascii", "replace") for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])]
            delayed = [e.dll.decode("ascii", "replace") for e in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])]
            return PEInfo(pe.FILE_HEADER.Machine, tuple(dict.fromkeys(regular + delayed)), frozenset(delayed) - set(regular))
        finally:
            pe.close()
    except pefile.PEFormatError as exc:
        raise BadPE(f"not a readable PE file ({exc})") from None
