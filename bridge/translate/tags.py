"""Wheel tags ↔ conda targets (subdir, Python pins, virtual packages).  Pure functions.

A wheel's tag set (``cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64``) becomes one or
more :class:`Target` s: which conda subdir the package goes to, which interpreters it serves and
which virtual packages (``__glibc``, ``__osx``) it needs.  A universal2 wheel yields one target
per macOS subdir; a wheel whose only platform tags have no conda counterpart is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from packaging.tags import Tag
from packaging.version import Version

from ..core.data import load
from .regions import PythonRegion

PythonKind = Literal["any", "exact", "abi3"]

_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY_MANYLINUX = re.compile(r"^(manylinux1|manylinux2010|manylinux2014)_(\w+)$")
_LINUX = re.compile(r"^linux_(\w+)$")
_MACOS = re.compile(r"^macosx_(\d+)_(\d+)_(\w+)$")
_CPYTHON = re.compile(r"^cp(\d)(\d+)$")
_PYTHON = re.compile(r"^py(\d)(\d*)$")
_PYPY = re.compile(r"^pp(\d)(\d+)$")
_PYPY_ABI = re.compile(r"^pypy(\d)(\d+)_pp\d+$")


class TagError(ValueError):
    """A tag set that cannot become a conda target; the message says why and what to do."""


@dataclass(frozen=True, order=True)
class PythonTarget:
    """The interpreters a package serves.

    ``kind`` is ``any`` (pure or ``py3-none-<platform>``: any CPython 3 at or above
    ``version``), ``exact`` (one X.Y and, with an ABI tag, one ABI) or ``abi3`` (the stable
    ABI from ``version`` on).
    """

    kind: PythonKind
    version: tuple[int, int] | None = None  # minimum (any, abi3) or exact (exact)
    abi: str = "none"  # "cp312", "cp313t", "pypy310_pp73", "abi3", "none"
    implementation: str = "cp"  # "cp", "pp" or "py"

    @property
    def xy(self) -> str:
        assert self.version is not None
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def free_threaded(self) -> bool:
        return self.abi.endswith("t") and self.abi.startswith("cp")

    @property
    def build_prefix(self) -> str:
        """Python part of a build string: ``py312``, ``py313t``, ``pp310``, ``py38_abi3``, ``py`` or ``""``."""
        if self.kind == "abi3":
            return f"py{self.version[0]}{self.version[1]}_abi3" if self.version else "py3_abi3"
        if self.kind == "exact":
            assert self.version is not None
            stem = "pp" if self.implementation == "pp" else "py"
            return f"{stem}{self.version[0]}{self.version[1]}{'t' if self.free_threaded else ''}"
        return "py"

    def depends(self) -> list[str]:
        """Run requirements on the interpreter, following conda-forge's conventions."""
        if self.kind == "exact":
            assert self.version is not None
            major, minor = self.version
            pins = [f"python >={major}.{minor},<{major}.{minor + 1}.0a0"]
            if self.abi not in ("none", "abi3"):
                pins.append(f"python_abi {major}.{minor}.* *_{self.abi}")
            return pins
        if self.kind == "abi3":
            floor = f">={self.xy}" if self.version else ">=3"
            return [f"python {floor}", f"cpython {floor}", "_python_abi3_support 1.*"]
        return [f"python >={self.xy}"] if self.version and self.version != (3, 0) else ["python"]

    def site_packages(self, windows: bool) -> str:
        """Install location of site-packages for an ``exact`` target."""
        if windows:
            return "Lib/site-packages"
        assert self.version is not None
        return f"lib/python{self.xy}{'t' if self.free_threaded else ''}/site-packages"


@dataclass(frozen=True, order=True)
class PlatformTarget:
    subdir: str  # "noarch" or "<os>-<arch>"
    virtual: tuple[str, ...] = ()  # e.g. ("__glibc >=2.17",)

    @property
    def windows(self) -> bool:
        return self.subdir.startswith("win-")

    @property
    def os(self) -> str:
        return self.subdir.split("-", 1)[0]


@dataclass(frozen=True, order=True)
class Target:
    """One conda package to produce from a wheel."""

    python: PythonTarget
    platform: PlatformTarget
    region: PythonRegion = PythonRegion()  # the Pythons this build serves, when split by markers

    @property
    def subdir(self) -> str:
        return self.platform.subdir

    @property
    def noarch_python(self) -> bool:
        """Relocated by the client (``noarch: python``): pure, ``py3-none-<platform>`` and abi3.

        In a platform subdir this is the CEP 20 shape: one package serves every Python.
        """
        return self.python.kind in ("any", "abi3") or self.platform.subdir == "noarch"

    @property
    def windows(self) -> bool:
        return self.platform.windows


def targets_for_tags(tags: Iterable[Tag]) -> list[Target]:
    """All conda targets a wheel's tag set maps to (sorted, deduplicated)."""
    tags = list(tags)
    pythons = _python_targets({(t.interpreter, t.abi) for t in tags})
    platforms = _platform_targets({t.platform for t in tags})
    return sorted({Target(py, plat) for py in pythons for plat in platforms})


def _python_targets(pairs: set[tuple[str, str]]) -> list[PythonTarget]:
    generic: list[tuple[int, int]] = []
    abi3: list[tuple[int, int]] = []
    exact: set[PythonTarget] = set()
    for interpreter, abi in pairs:
        if abi == "none":
            m = _PYTHON.match(interpreter)
            if m:
                if m.group(1) == "2":
                    continue  # py2 half of py2.py3: conda Python 2 is gone
                generic.append((int(m.group(1)), int(m.group(2) or 0)))
                continue
            m = _CPYTHON.match(interpreter)
            if m:
                exact.add(PythonTarget("exact", (int(m.group(1)), int(m.group(2))), "none", "cp"))
                continue
        elif abi == "abi3":
            m = _CPYTHON.match(interpreter) or _PYTHON.match(interpreter)
            if m:
                abi3.append((int(m.group(1)), int(m.group(2) or 0)))
                continue
        else:
            m = _CPYTHON.match(interpreter)
            if m and re.fullmatch(rf"cp{m.group(1)}{m.group(2)}[mtdu]*", abi):
                exact.add(PythonTarget("exact", (int(m.group(1)), int(m.group(2))), abi, "cp"))
                continue
            m = _PYPY.match(interpreter)
            if m and _PYPY_ABI.match(abi):
                exact.add(PythonTarget("exact", (int(m.group(1)), int(m.group(2))), abi, "pp"))
                continue
        raise TagError(f"python tag {interpreter}-{abi} has no conda equivalent; convert a CPython (cpXY), abi3 or pure-Python wheel instead")
    result = sorted(exact)
    if abi3:
        result.append(PythonTarget("abi3", min(abi3), "abi3", "cp"))
    if generic and not result:
        result.append(PythonTarget("any", min(generic), "none", "py"))
    if not result:
        raise TagError("the wheel supports only Python 2, which conda no longer ships; convert a Python 3 wheel instead")
    return result


def _platform_targets(platforms: set[str]) -> list[PlatformTarget]:
    if "any" in platforms:
        return [PlatformTarget("noarch")]
    glibc: dict[str, list[Version]] = {}
    macos: dict[str, list[Version]] = {}
    plain: set[str] = set()
    refusals: list[str] = []
    data = load("platforms")
    for tag in sorted(platforms):
        m = _MANYLINUX.match(tag) or _LEGACY_MANYLINUX.match(tag)
        if m:
            arch = m.groups()[-1]
            floor = (
                Version(f"{m.group(1)}.{m.group(2)}")
                if m.re is _MANYLINUX
                else Version(data["legacy_manylinux"][m.group(1)])
            )
            subdir = data["linux_arch"].get(arch)
            if subdir:
                glibc.setdefault(subdir, []).append(floor)
                continue
            refusals.append(f"{tag}: unknown Linux architecture {arch!r} (conda has no subdir for it)")
            continue
        m = _LINUX.match(tag)
        if m:
            subdir = data["linux_arch"].get(m.group(1))
            if subdir:
                plain.add(subdir)
                continue
            refusals.append(f"{tag}: unknown Linux architecture {m.group(1)!r} (conda has no subdir for it)")
            continue
        m = _MACOS.match(tag)
        if m:
            subdirs = data["macos_arch"].get(m.group(3))
            if subdirs:
                for subdir in subdirs:
                    floor = Version(f"{m.group(1)}.{m.group(2)}")
                    minimum = data["macos_minimum"].get(subdir)
                    if minimum:
                        floor = max(floor, Version(minimum))
                    macos.setdefault(subdir, []).append(floor)
                continue
            refusals.append(f"{tag}: unknown macOS architecture {m.group(3)!r} (conda has no subdir for it)")
            continue
        if tag in data["windows"]:
            plain.add(data["windows"][tag])
            continue
        family = tag.split("_", 1)[0]
        refusals.append(data["unsupported"].get(family, f"platform tag {tag!r} has no conda subdir"))
    result: dict[str, PlatformTarget] = {}
    for subdir in plain:
        result[subdir] = PlatformTarget(subdir)
    for subdir, floors in glibc.items():
        result[subdir] = PlatformTarget(subdir, (f"__glibc >={_short(min(floors))}",))
    for subdir, floors in macos.items():
        result[subdir] = PlatformTarget(subdir, (f"__osx >={_short(min(floors))}",))
    if not result:
        text = "; ".join(dict.fromkeys(refusals)) or "no platform tag"
        if not any(r.endswith(" instead") for r in refusals):  # the data table's messages carry their own fix
            text += "; convert a manylinux, macOS or Windows wheel instead"
        raise TagError(text)
    return sorted(result.values())


def _short(version: Version) -> str:
    return ".".join(str(p) for p in version.release[:2]) if len(version.release) > 1 else f"{version.release[0]}.0"


def marker_environment(target: Target) -> dict[str, str]:
    """PEP 508 marker variables a target decides (platform and, for exact targets, Python)."""
    env: dict[str, str] = {}
    if target.subdir != "noarch":
        env.update(load("platforms")["markers"].get(target.subdir, {}))
    py = target.python
    if py.kind == "exact" and py.version:
        env["python_version"] = py.xy
        pypy = py.implementation == "pp"
        env["implementation_name"] = "pypy" if pypy else "cpython"
        env["platform_python_implementation"] = "PyPy" if pypy else "CPython"
    elif py.kind == "abi3":
        env["implementation_name"] = "cpython"
        env["platform_python_implementation"] = "CPython"
    return env
