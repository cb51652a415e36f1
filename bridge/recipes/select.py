"""Which versions and files of a project become recipes.  Pure functions.

Nightly builds carry their date in the version: ROCm ``7.11.0a20260104``, PyTorch
``2.12.0.dev20260407``, or in a local label (TheRock torch ``2.9.1+rocm7.11.0a20260104``).
Ordering uses that date first and :class:`packaging.version.Version` second, so a
``+rocm10.x`` label does not sort below ``+rocm7.x`` (PEP 440 compares local segments as text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from ..translate.tags import TagError, Target, targets_for_tags
from ..translate.versions import nightly_date
from .config import VersionPolicy
from .index import IndexFile, dist_identity


def accepts(version: Version, policy: VersionPolicy) -> bool:
    if policy.match is not None and not policy.match.contains(version, prereleases=True):
        return False
    if policy.policy == "nightly":
        return nightly_date(version) is not None
    if policy.policy == "release":
        return not version.is_prerelease
    return True


def order_key(version: Version) -> tuple[int, Version]:
    return (nightly_date(version) or 0, version)


def select_versions(versions: Iterable[Version], policy: VersionPolicy) -> list[Version]:
    """The newest ``policy.keep`` accepted versions, oldest first."""
    accepted = sorted({v for v in versions if accepts(v, policy)}, key=order_key)
    return accepted[-policy.keep :]


@dataclass(frozen=True)
class Candidate:
    """A file chosen for a recipe, with the conda targets it converts into."""

    file: IndexFile
    targets: tuple[Target, ...]  # empty for an sdist


def wheel_targets(filename: str) -> tuple[tuple[Target, ...], tuple[int, str] | tuple[()], frozenset[Tag]]:
    """``(targets, build tag, tags)`` of a wheel file name; TagError when it has no conda target."""
    _name, _version, build, tags = parse_wheel_filename(filename)
    return tuple(targets_for_tags(tags)), build, tags


def select_files(
    files: Iterable[IndexFile], pythons: tuple[str, ...] = (), platforms: tuple[str, ...] = ()
) -> tuple[list[Candidate], list[str]]:
    """The wheels of one version to convert, and notes on what was left out.

    Keeps wheels with a conda target on the wanted ``platforms`` (noarch always) and
    ``pythons`` (version-specific wheels only).  When two wheels give the same target the one
    with the higher build tag wins (as installers choose), then the first by file name.
    """
    notes: list[str] = []
    best: dict[tuple[tuple[str, object], ...], tuple[tuple[int, str] | tuple[()], IndexFile, tuple[Target, ...]]] = {}
    for f in sorted(files, key=lambda f: f.filename):
        if not f.is_wheel:
            continue
        if f.yanked:
            notes.append(f"{f.filename}: yanked")
            continue
        try:
            targets, build, _tags = wheel_targets(f.filename)
        except (TagError, ValueError) as exc:
            notes.append(f"{f.filename}: {exc}")
            continue
        wanted = tuple(
            t
            for t in targets
            if (not platforms or t.subdir == "noarch" or t.subdir in platforms)
            and (not pythons or t.python.kind != "exact" or t.python.xy in pythons)
        )
        if not wanted:
            continue
        key = tuple((t.subdir, t.python) for t in wanted)  # the conda package identity, not the glibc floor
        previous = best.get(key)
        if previous is None or build > previous[0]:
            if previous is not None:
                notes.append(f"{previous[1].filename}: superseded by build tag of {f.filename}")
            best[key] = (build, f, wanted)
        else:
            notes.append(f"{f.filename}: same conda target as {previous[1].filename}")
    return [Candidate(f, t) for _b, f, t in sorted(best.values(), key=lambda v: v[1].filename)], notes


def group_by_version(files: Iterable[IndexFile]) -> dict[Version, list[IndexFile]]:
    groups: dict[Version, list[IndexFile]] = {}
    for f in files:
        ident = dist_identity(f.filename)
        if ident:
            groups.setdefault(ident[1], []).append(f)
    return groups
