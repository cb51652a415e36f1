"""Fixtures for the symlink tests: a minimal ELF shared library and rocm-sdk-like wheels.

The ``rocm-sdk-devel`` fixture mimics TheRock's layout (``build_tools/_therock_utils/py_packaging.py``
``populate_devel_files``): ``rocm_sdk_devel/_devel.tar`` holds ``_rocm_sdk_devel/...`` relative to
site-packages, with ``_rocm_sdk_devel/__init__.py``, directory entries, files only the devel package
has, SONAME alias links, and links ``../../<n>/_rocm_sdk_core/<relpath>`` to files a runtime wheel
already ships.
"""

from __future__ import annotations

import io
import struct
import tarfile
from collections.abc import Mapping
from pathlib import Path

from tests.support.wheels import build_wheel

VERSION = "7.11.0a20260104"
PLATFORM_TAG = "py3-none-linux_x86_64"


def minimal_elf(soname: str | None, padding: int = 0) -> bytes:
    """A tiny valid ELF64 x86-64 shared object with a dynamic section (DT_SONAME when given)."""
    strtab = b"\0" + (soname.encode() + b"\0" if soname else b"")
    ehdr_size, phdr_size = 64, 56
    str_off = ehdr_size + 2 * phdr_size
    dyn_off = (str_off + len(strtab) + 7) & ~7
    tags = [(5, str_off), (10, len(strtab))] + ([(14, 1)] if soname else []) + [(0, 0)]
    dynamic = b"".join(struct.pack("<qQ", tag, value) for tag, value in tags)
    total = dyn_off + len(dynamic) + padding
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, ehdr_size, 0, 0, ehdr_size, phdr_size, 2, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, total, total, 0x1000)
    dyn = struct.pack("<IIQQQQQQ", 2, 6, dyn_off, dyn_off, dyn_off, len(dynamic), len(dynamic), 8)
    head = ehdr + load + dyn + strtab
    return head + bytes(dyn_off - len(head)) + dynamic + bytes(padding)


def tar_bytes(entries: list[tuple[str, bytes | str | None, int]], compression: str = "") -> bytes:
    """A tar of ``(name, content, mode)``: bytes → file, str → symlink to it, None → directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}" if compression else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, mode in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = 1704067200, mode
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


#: Files of the runtime wheel ``rocm-sdk-core`` (relative to site-packages).
CORE_FILES: Mapping[str, bytes] = {
    "rocm_sdk_core/__init__.py": b"",
    "_rocm_sdk_core/__init__.py": b"",
    "_rocm_sdk_core/lib/libamdhip64.so.7": minimal_elf("libamdhip64.so.7", 4096),
    "_rocm_sdk_core/lib/llvm/bin/clang": b"#!/bin/sh\necho clang\n",
    "_rocm_sdk_core/bin/hipconfig": b"#!/bin/sh\necho 7.11\n",
}

#: ``_devel.tar`` entries as TheRock writes them (os.walk order, directories included).
DEVEL_ENTRIES: list[tuple[str, bytes | str | None, int]] = [
    ("_rocm_sdk_devel", None, 0o755),
    ("_rocm_sdk_devel/__init__.py", b"", 0o644),
    ("_rocm_sdk_devel/bin", None, 0o755),
    ("_rocm_sdk_devel/bin/hipconfig", "../../_rocm_sdk_core/bin/hipconfig", 0o777),
    ("_rocm_sdk_devel/bin/hipcc", b"#!/bin/sh\necho hipcc\n", 0o755),
    ("_rocm_sdk_devel/include", None, 0o755),
    ("_rocm_sdk_devel/include/hip", None, 0o755),
    ("_rocm_sdk_devel/include/hip/hip_runtime.h", b"#pragma once\n/* HIP */\n", 0o644),
    ("_rocm_sdk_devel/include/hip_legacy", "hip", 0o777),  # a directory link inside the tree
    ("_rocm_sdk_devel/include/runtime.h", "hip_legacy/hip_runtime.h", 0o777),  # goes through it
    ("_rocm_sdk_devel/lib", None, 0o755),
    ("_rocm_sdk_devel/lib/libamdhip64.so.7", "../../_rocm_sdk_core/lib/libamdhip64.so.7", 0o777),
    ("_rocm_sdk_devel/lib/libamdhip64.so", "libamdhip64.so.7", 0o777),  # SONAME alias, a chain
    ("_rocm_sdk_devel/lib/llvm", "../../_rocm_sdk_core/lib/llvm", 0o777),  # a directory in a sibling
    ("_rocm_sdk_devel/lib/cmake/hip/hip-config.cmake", b"set(HIP_FOUND TRUE)\n", 0o644),
]


def core_wheel(out_dir: Path) -> Path:
    return build_wheel(out_dir, "rocm-sdk-core", VERSION, tag=PLATFORM_TAG, files=CORE_FILES, executable=["_rocm_sdk_core/bin/hipconfig", "_rocm_sdk_core/lib/llvm/bin/clang"])


def devel_wheel(
    out_dir: Path, entries: list[tuple[str, bytes | str | None, int]] = DEVEL_ENTRIES, compression: str = "", tag: str = PLATFORM_TAG
) -> Path:
    name = "rocm_sdk_devel/_devel.tar" + (f".{compression}" if compression else "")
    files = {"rocm_sdk_devel/__init__.py": b"", name: tar_bytes(entries, compression)}
    return build_wheel(out_dir, "rocm-sdk-devel", VERSION, tag=tag, files=files, requires_dist=[f"rocm-sdk-core=={VERSION}"])


def expected_devel_tree() -> tuple[dict[str, bytes], dict[str, str]]:
    """What ``rocm_sdk`` would leave in site-packages: files by content, links by target."""
    files = {n: c for n, c, _ in DEVEL_ENTRIES if isinstance(c, bytes)}
    links = {n: c for n, c, _ in DEVEL_ENTRIES if isinstance(c, str)}
    return files, links
