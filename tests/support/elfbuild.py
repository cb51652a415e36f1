"""Tiny real ELF shared libraries for tests, compiled with the host C compiler.

Tests that need them use :data:`needs_cc` or :data:`HAVE_CC` (skipped where ``cc`` is missing or the host is
not Linux, since only ELF is produced and checked).
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

CC = shutil.which("cc") or shutil.which("gcc")
HAVE_CC = CC is not None and sys.platform.startswith("linux")
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="needs a C compiler on Linux")

#: The manylinux platform tag of this machine, for test wheels holding its ELF files.
MANYLINUX_TAG = f"manylinux_2_17_{platform.machine()}"
#: A Linux platform tag of another machine (its packages install, but nothing runs here).
OTHER_MANYLINUX_TAG = "manylinux_2_17_aarch64" if platform.machine() != "aarch64" else "manylinux_2_17_x86_64"


def compile_shared(
    out: Path,
    source: str,
    *,
    soname: str | None = None,
    needed: Sequence[Path] = (),
    runpath: str | None = None,
    rpath: str | None = None,
) -> bytes:
    """Compile ``source`` (C) into the shared library ``out`` and return its bytes.

    ``needed`` are libraries to link against (recorded as DT_NEEDED by their SONAME or file
    name); ``runpath`` sets DT_RUNPATH, ``rpath`` sets DT_RPATH instead.
    """
    assert CC is not None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_name(out.name + ".c")
    src.write_text(source)
    cmd = [CC, "-shared", "-fPIC", "-o", str(out), str(src), "-Wl,--no-as-needed"]
    if soname:
        cmd.append(f"-Wl,-soname,{soname}")
    for lib in needed:
        cmd += [f"-L{lib.parent}", f"-l:{lib.name}"]
    if runpath is not None:
        cmd += ["-Wl,--enable-new-dtags", f"-Wl,-rpath,{runpath}"]
    if rpath is not None:
        cmd += ["-Wl,--disable-new-dtags", f"-Wl,-rpath,{rpath}"]
    subprocess.run(cmd, check=True, capture_output=True)
    return out.read_bytes()
