"""Repodata records read from package files (``info/index.json`` + md5, sha256, size)."""

from __future__ import annotations

import io
import os
import re
from contextlib import closing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from conda_package_streaming.package_streaming import stream_conda_info

from ..core.digest import Digests, hash_stream
from ..core.errors import BadInput
from ..core.limits import check_metadata_size, read_capped, require_regular_file
from ..model.conda import AboutJson, IndexJson, parse_json

PACKAGE_SUFFIXES = (".conda", ".tar.bz2")

#: index.json keys that repodata does not carry (conda-index drops them too).
DROPPED_KEYS = ("arch", "platform")

#: ``about.json`` keys kept for ``channeldata.json`` and ``index.html``.
ABOUT_KEYS = ("summary", "home", "dev_url", "doc_url", "license")
#: ``about.json`` ``extra.wheel2conda`` keys kept for the PyPI mapping files (``bridge.channel.pypi_map``).
PROVENANCE_KEYS = ("pypi_name", "pypi_version")

#: Package files up to this size are read into memory once to be hashed and parsed.
WHOLE_READ = 4 << 20

RENAME_HINT = "never rename a conda package file; rebuild it under the new name"
#: Valid subdir names: ``noarch`` or ``<os>-<arch>`` (conda-format.md §4.1).
SUBDIR_RE = re.compile(r"^(noarch|[a-z0-9]+-[a-z0-9]+)$")


def is_package(path: Path | str) -> bool:
    name = path if isinstance(path, str) else path.name
    return name.endswith(PACKAGE_SUFFIXES) and not name.startswith(".")


def package_stem(filename: str) -> str:
    """``name-version-build`` of a package file name."""
    for suffix in PACKAGE_SUFFIXES:
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    raise ValueError(f"not a conda package file name: {filename}")


def package_name(filename: str) -> str:
    """The package name of a file name (``name-version-build.conda``: split on the last two dashes)."""
    return package_stem(filename).rsplit("-", 2)[0]


@lru_cache(maxsize=16384)
def version_key(version: str) -> Any:
    """Sort key in conda's version order (CEP 33, not PEP 440); unparsable versions sort first."""
    import rattler

    try:
        return (1, rattler.Version(version))
    except Exception:
        return (0, version)


@dataclass
class PackageInfo:
    """What the indexer needs from a package's ``info/``: ``index.json`` and an ``about.json`` subset."""

    index: dict[str, Any]
    about: dict[str, Any] = field(default_factory=dict)


def read_package_info(path: Path, fileobj: BinaryIO | None = None) -> PackageInfo:
    """``info/index.json`` (required) and ``info/about.json`` (optional) in one pass over ``info/``
    (of ``fileobj``, the file's bytes, when given)."""
    found: dict[str, Any] = {}
    if fileobj is None:
        require_regular_file(path, "conda package")
    try:
        with closing(stream_conda_info(str(path), fileobj)) as members:
            for tar, member in members:
                if not member.name.startswith("info/"):
                    break  # .tar.bz2: info/ comes first; the rest is payload
                if member.name in ("info/index.json", "info/about.json"):
                    check_metadata_size(path, member.name, member.size)
                    fh = tar.extractfile(member)
                    assert fh is not None
                    found[member.name] = parse_json(str(path), member.name, read_capped(fh, path, member.name))
                    if len(found) == 2:
                        break
    except BadInput:
        raise
    except LookupError:  # cps looks up the components by the file's stem
        raise BadInput(path, "its info-/pkg- components are named for another file (renamed?)", hint=RENAME_HINT) from None
    except Exception as exc:  # cps raises assorted zip/tar/zstd/json errors
        raise BadInput(path, f"not a readable conda package ({type(exc).__name__}: {exc})", hint="the file is damaged: download or build it again") from None
    if "info/index.json" not in found:
        raise BadInput(path, "conda package has no info/index.json", hint="the package is malformed: rebuild it")
    index = IndexJson.from_raw(found["info/index.json"], str(path))
    about = found.get("info/about.json")
    about = about if isinstance(about, dict) else {}
    subset = {k: about[k] for k in ABOUT_KEYS if isinstance(about.get(k), str)}
    try:
        provenance = AboutJson.from_raw(about, str(path)).provenance
    except BadInput:
        provenance = None  # descriptive only: a malformed record just leaves the PyPI mapping out
    if provenance is not None:
        subset.update({k: getattr(provenance, k) for k in PROVENANCE_KEYS if isinstance(getattr(provenance, k), str)})
    return PackageInfo(dict(index.raw), subset)


def read_index_json(path: Path) -> dict[str, Any]:
    """``info/index.json`` of a ``.conda`` or ``.tar.bz2`` file."""
    return read_package_info(path).index


def check_identity(path: Path, index: dict[str, Any]) -> None:
    """Refuse a file whose name is not ``{name}-{version}-{build}`` of its index.json (clients rely on it)."""
    stem = f"{index.get('name')}-{index.get('version')}-{index.get('build')}"
    if package_stem(path.name) != stem:
        raise BadInput(
            path,
            f"file name does not match info/index.json (expected {stem}{path.name[len(package_stem(path.name)):]})",
            hint=RENAME_HINT,
        )


def make_record(index: dict[str, Any], digests: Digests) -> dict[str, Any]:
    """A repodata record: ``index.json`` without the deprecated keys, plus md5, sha256 and size."""
    record = {k: v for k, v in index.items() if k not in DROPPED_KEYS}
    record.update(md5=digests.md5, sha256=digests.sha256, size=digests.size)
    return record


def read_package(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(record, about subset)`` of a package file; its name must match its index.json.

    A file up to :data:`WHOLE_READ` bytes is read once, hashed and parsed from memory (one
    open and one read instead of two of each: most of a channel's packages are small)."""
    require_regular_file(path, "conda package")
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size <= WHOLE_READ:
            data = fh.read(WHOLE_READ + 1)
            if len(data) <= WHOLE_READ:  # else it grew since fstat: stream it like a large one
                digests = Digests("md5")
                digests.update(data)
                info = read_package_info(path, io.BytesIO(data))
                check_identity(path, info.index)
                return make_record(info.index, digests), info.about
            fh.seek(0)
        info = read_package_info(path, fh)
        check_identity(path, info.index)
        fh.seek(0)
        digests = hash_stream(fh, None, "md5")
    return make_record(info.index, digests), info.about
