"""The path rule once more, at the writer (every sink calls :func:`check_members`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..core.errors import BadInput
from ..model.paths import check_link_target, check_package_paths, check_relative_path


def check_members(
    where: str | None, paths: Iterable[str], links: Iterable[tuple[str, str]] = (), *, windows: bool = False, casefold: bool = True
) -> None:
    """The path rule once more, at the writer: every path, no case clash (``casefold``), every link inside."""
    if casefold:
        bad = check_package_paths(paths, windows=windows)
    else:
        bad = next(((p, why) for p in paths if (why := check_relative_path(p, windows=windows))), None)
    if bad:
        raise BadInput(where, f"refusing to write member {bad[0]!r}: {bad[1]}", hint="never install this input; report it to its publisher")
    for path, target in links:
        problem = check_link_target(path, target)
        if problem:
            raise BadInput(where, f"refusing to write symlink {path!r}: {problem}", hint="never install this input; report it to its publisher")
