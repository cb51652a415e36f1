"""The newest build of each package among package files (``to-wheel CHANNEL``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.errors import BadInput
from .records import read_package_info
from .repodata import REPODATA, read_repodata


def yanked_in(folder: Path) -> set[str]:
    """File names a channel subdir hides from solvers (repodata ``removed``); empty without repodata."""
    if not (folder / REPODATA).is_file():
        return set()
    return set(read_repodata(folder).get("removed") or ())


def newest_builds(files: Sequence[Path]) -> list[Path]:
    """Of ``files``, the newest build of each (subdir, name): highest version (conda's
    ordering, py-rattler), then highest build number; a ``.conda`` wins over a ``.tar.bz2`` of
    the same build.  Yanked files of a channel are left out.  Returned in the order given."""
    from rattler import Version  # conda's version ordering
    from rattler.exceptions import InvalidVersionError

    yanked: dict[Path, set[str]] = {}
    best: dict[tuple[str, str], tuple[tuple[Version, int, bool], Path]] = {}
    for path in files:
        if path.name in yanked.setdefault(path.parent, yanked_in(path.parent)):
            continue
        index = read_package_info(path).index
        try:
            key = (str(index["subdir"]), str(index["name"]))
            rank = (Version(str(index["version"])), int(index.get("build_number", 0)), path.name.endswith(".conda"))
        except (KeyError, TypeError, ValueError, InvalidVersionError) as exc:
            raise BadInput(path, f"info/index.json has no valid name, version, subdir or build_number ({exc})", hint="the package is malformed: rebuild it") from None
        if key not in best or rank > best[key][0]:
            best[key] = (rank, path)
    keep = {path for _, path in best.values()}
    return [p for p in files if p in keep]
