"""What the user named on the command line → the package files a command reads.

Every command that reads packages (``convert``, ``inspect``, ``publish``, ``to-wheel``,
``verify``, ``libs``) takes files, channel folders and ``convert -o`` output folders alike: a
folder contributes the files directly in it and those one level down in ``<subdir>/`` folders
(``noarch``, ``linux-64``, …), which is how both a channel and ``convert -o DIR`` lay them out.

Nothing here opens a package: files are told apart by name (:func:`kind_of`), so this module
stays cheap to import (the CLI imports it before it knows what it will do).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..core.errors import BadInput

Kind = Literal["wheel", "conda", "rocm-sdist", "sdist", "other"]

#: A conda subdir folder name (``bridge.channel.records.SUBDIR_RE``, repeated to keep this module light).
SUBDIR_RE = re.compile(r"^(noarch|[a-z0-9]+-[a-z0-9]+)$")
#: ROCm's meta sdist, which ``convert`` turns into rocm meta packages (``bridge.gpu.rocm``).
ROCM_SDIST_RE = re.compile(r"^rocm-(?P<version>[^-/\\]+)\.tar\.gz$", re.IGNORECASE)
CONDA_SUFFIXES = (".conda", ".tar.bz2")
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.xz")

_NOUNS: dict[Kind, tuple[str, str]] = {
    "wheel": ("wheel", "wheels"),
    "conda": ("conda package", "conda packages"),
    "rocm-sdist": ("rocm sdist", "rocm sdists"),
    "sdist": ("sdist", "sdists"),
    "other": ("other file", "other files"),
}


def kind_of(path: Path | str) -> Kind:
    """What a file is, by its name (hidden files are ``other``)."""
    name = Path(path).name
    lower = name.lower()
    if name.startswith("."):
        return "other"
    if lower.endswith(".whl"):
        return "wheel"
    if lower.endswith(CONDA_SUFFIXES):
        return "conda"
    if ROCM_SDIST_RE.match(name):
        return "rocm-sdist"
    if lower.endswith(SDIST_SUFFIXES):
        return "sdist"
    return "other"


def count_phrase(counts: Counter[Kind] | dict[Kind, int]) -> str:
    """``"3 wheels, 1 sdist"``, in :data:`_NOUNS` order."""
    return ", ".join(f"{n} {_NOUNS[k][n != 1]}" for k in _NOUNS if (n := counts.get(k, 0)))


def refusal(path: Path, kind: Kind, accepted: frozenset[Kind]) -> BadInput:
    """Why a file of ``kind`` named by the user is not read by a command taking ``accepted``."""
    if "wheel" in accepted:
        if kind == "sdist":
            return BadInput(path, "not a wheel: a source distribution", hint=f"build a wheel first: pip wheel --no-deps {path}")
        if kind == "conda":
            return BadInput(
                path,
                "a conda package, not a wheel: convert makes conda packages from wheels",
                hint=f"to add it to a channel use 'wheel2conda publish {path} --channel CHANNEL'; to re-convert it, make a wheel with 'wheel2conda to-wheel' first",
            )
        return BadInput(path, "not a wheel (.whl)", hint="give wheels, or folders holding them")
    if kind == "wheel":
        return BadInput(path, "a wheel, not a conda package", hint=f"convert it first: wheel2conda convert {path}")
    if kind in ("sdist", "rocm-sdist"):
        return BadInput(path, "a source distribution, not a conda package", hint=f"build a wheel (pip wheel --no-deps {path}) and convert it first")
    return BadInput(path, "not a conda package (.conda or .tar.bz2)", hint="give package files, a channel, or a folder 'wheel2conda convert -o' wrote")


@dataclass
class Folder:
    """One folder the user named: what was found in it (by kind) and in which ``<subdir>/``."""

    path: Path
    found: Counter[Kind] = field(default_factory=Counter)
    subdirs: Counter[str] = field(default_factory=Counter)  # accepted files per subdir folder ("" = the folder itself)
    files: list[Path] = field(default_factory=list)  # the accepted files, sorted by relative path
    skipped: list[tuple[Path, Kind]] = field(default_factory=list)


@dataclass
class Inputs:
    """The files to read, in command-line order (each folder's sorted), and the folders they came from."""

    files: list[Path] = field(default_factory=list)
    folders: list[Folder] = field(default_factory=list)


def folder_files(folder: Path) -> Iterable[Path]:
    """Files in ``folder`` and in its ``<subdir>/`` folders, sorted by relative path."""
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    # not only regular files: a FIFO or socket named like a package is kept, so that opening it
    # refuses it by name (docs/security.md) instead of skipping it silently
    files = [p for p in entries if not p.is_dir()]
    for sub in entries:
        if sub.is_dir() and SUBDIR_RE.match(sub.name):
            files += sorted((p for p in sub.iterdir() if not p.is_dir()), key=lambda p: p.name)
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def collect(raw: Sequence[str | Path], accepted: Iterable[Kind], *, what: str) -> Inputs:
    """The files of ``accepted`` kinds that ``raw`` names; ``what`` names them in messages.

    A path that does not exist, or a file of another kind, is refused (:func:`refusal`); files
    of other kinds inside folders are skipped (listed in :attr:`Folder.skipped` when they are
    packages or sdists, ignored otherwise: ``repodata.json``, ``index.html``, …).  A folder with
    nothing to read is refused.  Refusals are :class:`BadInput`, raised before anything is read.
    """
    wanted = frozenset(accepted)
    result = Inputs()
    for item in raw:
        path = Path(item)
        if path.is_dir():
            folder = _scan(path, wanted, what)
            result.folders.append(folder)
            result.files += folder.files
        elif path.exists():
            kind = kind_of(path)
            if kind not in wanted:
                raise refusal(path, kind, wanted)
            result.files.append(path)
        else:
            raise BadInput(path, "no such file or directory")
    return result


def _scan(path: Path, wanted: frozenset[Kind], what: str) -> Folder:
    folder = Folder(path)
    for file in folder_files(path):
        kind = kind_of(file)
        folder.found[kind] += 1
        if kind in wanted:
            parent = file.parent.name if file.parent != path else ""
            folder.subdirs[parent] += 1
            folder.files.append(file)
        elif kind != "other":
            folder.skipped.append((file, kind))
    if not folder.subdirs:
        seen: dict[Kind, int] = {k: n for k, n in folder.found.items() if k != "other"}
        holds = f"holds {count_phrase(seen)} but no {what}" if seen else f"holds no {what}"
        kinds = set(seen)
        if "wheel" in wanted and kinds & {"sdist"}:
            hint = "build wheels first: pip wheel --no-deps SDIST"
        elif "wheel" in wanted and "conda" in kinds:
            hint = "to add conda packages to a channel use 'wheel2conda publish'"
        elif "wheel" in kinds:
            hint = "convert the wheels first: wheel2conda convert"
        else:
            hint = "give the files themselves, or the folder (or channel) that holds them"
        raise BadInput(path, f"{holds} (looked in it and in its <subdir>/ folders)", hint=hint)
    return folder


def describe(folder: Folder, noun: str) -> str:
    """``"out: 3 conda packages (linux-64 1, noarch 2)"``: what a folder contributed."""
    total = sum(folder.subdirs.values())
    where = ", ".join(f"{s or '.'} {n}" for s, n in sorted(folder.subdirs.items()))
    plural = noun if total == 1 else noun + "s"
    return f"{folder.path}: {total} {plural}" + (f" ({where})" if len(folder.subdirs) > 1 or "" not in folder.subdirs else "")
