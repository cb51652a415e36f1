"""PyPI ↔ conda name mapping files at a channel's root, so pip-side tools trust our packages.

pixi (through uv) and conda-lock decide whether an installed conda package satisfies a
PyPI requirement by a conda-name → PyPI-name mapping; without one they assume nothing
and reinstall ``torch`` or ``nvidia-*`` from PyPI next to the conda copy.  Every package
wheel2conda converts records its PyPI name and version in ``info/about.json``
(``extra.wheel2conda.pypi_name``/``pypi_version``); the channel indexer keeps them with each
record, and :func:`write_mapping_files` (a post-index step, ``hooks.py``: after every publish,
index, yank and remove, under the channel lock) turns the visible packages into two files:

``conda-pypi-map.json`` (pixi's ``conda-pypi-map`` location format)
    ``{"<conda name>": "<pypi name>"}``, or a list of PyPI names when one conda name
    carries several.  Packages not made by wheel2conda are left out (no claim is made).

``pypi-conda-map.json`` (conda-lock's ``--pypi_to_conda_lookup_file``, the grayskull shape)
    ``{"<pypi name>": {"pypi_name", "conda_name", "conda_forge", "packages": [...]}}`` where
    ``packages`` lists every file with its conda and PyPI version and sha256.

Both are written atomically, sorted, and only when their bytes change.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ..core.errors import BadInput
from .results import IndexResult
from .site import write_if_changed

PIXI_MAP = "conda-pypi-map.json"
CONDA_LOCK_MAP = "pypi-conda-map.json"


@dataclass(frozen=True)
class MappedPackage:
    """One package file of the channel that came from a PyPI distribution."""

    file: str  # subdir/file name
    sha256: str
    conda_name: str
    conda_version: str
    pypi_name: str  # canonical (PEP 503) form
    pypi_version: str


def mapped_packages(result: IndexResult) -> list[MappedPackage]:
    """Every visible (not yanked) wheel2conda package of a freshly indexed channel."""
    found: list[MappedPackage] = []
    for subdir, sub in sorted(result.subdirs.items()):
        for group in ("packages", "packages.conda"):
            for filename in sorted(sub.visible[group]):
                about = sub.entries[filename].about
                name, version = about.get("pypi_name"), about.get("pypi_version")
                if not (isinstance(name, str) and isinstance(version, str) and name and version):
                    continue
                record = sub.entries[filename].record
                found.append(
                    MappedPackage(
                        f"{subdir}/{filename}",
                        str(record.get("sha256", "")),
                        str(record["name"]),
                        str(record["version"]),
                        str(canonicalize_name(name)),
                        version,
                    )
                )
    return found


def write_mapping_files(result: IndexResult) -> None:
    """(Re)write both mapping files at the channel root when their content changes."""
    packages = mapped_packages(result)
    for name, content in ((PIXI_MAP, pixi_map(packages)), (CONDA_LOCK_MAP, conda_lock_map(packages))):
        target = result.channel / name
        if write_if_changed(target, (json.dumps(content, indent=1, sort_keys=True) + "\n").encode()):
            result.written.append(target)


def pixi_map(packages: Iterable[MappedPackage]) -> dict[str, str | list[str]]:
    """conda name → PyPI name (a list when several), as pixi's ``conda-pypi-map`` reads it."""
    names: dict[str, set[str]] = defaultdict(set)
    for p in packages:
        names[p.conda_name].add(p.pypi_name)
    return {conda: (sorted(pypi)[0] if len(pypi) == 1 else sorted(pypi)) for conda, pypi in sorted(names.items())}


def conda_lock_map(packages: Iterable[MappedPackage]) -> dict[str, dict[str, Any]]:
    """PyPI name → grayskull-style entry with every file and version, for conda-lock.

    When several conda names carry one PyPI name, ``conda_name`` is the one with the most
    files (then alphabetical) and ``conda_names`` lists all.
    """
    by_pypi: dict[str, list[MappedPackage]] = defaultdict(list)
    for p in packages:
        by_pypi[p.pypi_name].append(p)
    result: dict[str, dict[str, Any]] = {}
    for pypi, files in sorted(by_pypi.items()):
        counts: dict[str, int] = defaultdict(int)
        for f in files:
            counts[f.conda_name] += 1
        conda = sorted(counts, key=lambda n: (-counts[n], n))[0]
        entry: dict[str, Any] = {"pypi_name": pypi, "conda_name": conda, "conda_forge": conda}
        if len(counts) > 1:
            entry["conda_names"] = sorted(counts)
        entry["packages"] = [
            {k: v for k, v in asdict(f).items() if k not in ("pypi_name",)} for f in sorted(files, key=lambda f: f.file)
        ]
        result[pypi] = entry
    return result


def read_pixi_map(path: Path) -> dict[str, list[str]]:
    """A ``conda-pypi-map`` file read the way pixi reads it (string, list or null per name)."""
    data = _read_json(path)
    result: dict[str, list[str]] = {}
    for conda, value in data.items():
        if value is None:
            result[conda] = []
        elif isinstance(value, str):
            result[conda] = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            result[conda] = list(value)
        else:
            raise BadInput(path, f"{conda}: expected a PyPI name, a list of names, or null", hint="run 'wheel2conda index' to rewrite the mapping")
    return result


def read_conda_lock_map(path: Path) -> list[MappedPackage]:
    """The package files recorded in a ``pypi-conda-map.json``."""
    data = _read_json(path)
    result = []
    try:
        for pypi, entry in data.items():
            for f in entry.get("packages", []):
                result.append(MappedPackage(f["file"], f["sha256"], f["conda_name"], f["conda_version"], pypi, f["pypi_version"]))
    except (AttributeError, KeyError, TypeError) as exc:
        raise BadInput(path, f"not a wheel2conda pypi-conda map ({type(exc).__name__}: {exc})", hint="run 'wheel2conda index' to rewrite the mapping") from None
    return result


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(path, f"cannot read the mapping ({exc})", hint="run 'wheel2conda index' to rewrite the mapping") from None
    if not isinstance(data, dict):
        raise BadInput(path, "the mapping is not a JSON object", hint="run 'wheel2conda index' to rewrite the mapping")
    return data
