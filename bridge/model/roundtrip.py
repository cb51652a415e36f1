"""The round-trip record's format: what a wheel made from a conda package records, so that converting it back loses nothing.

A wheel cannot hold symlinks, prefix placeholders or conda's identity (build string, exact
``depends``).  ``to-wheel`` writes two files into the wheel's ``.dist-info``; the wheel reader
consumes them (they never reach a conda package) and the planner restores what they say:

``LINKS``
    CSV rows ``path,target`` (the shape PEP 778, deferred, proposed): ``path`` is the wheel
    member that stands for a symlink (RECORD lists it; it holds a copy of the target's bytes,
    so pip installs a working file), ``target`` the link text exactly as the conda package had
    it, relative to the link's directory.  No member stands for a link to a directory (its
    ``path`` ends in ``/``) or to a path outside the package (another package's file, e.g.
    ``../../_rocm_sdk_core/bin/hipconfig``).  Converting the wheel to conda writes the link again.

``conda-package.json``
    ``{"format": 1, "package": <name-version-build>, "index": <index.json>, "about": <about.json, verbatim>,
    "link": <link.json or null>, "dist_info": "own" | "synthesized", "dist_info_files": [...],
    "dist_info_text": {...}, "paths": {<archive path>: {...}}}``.  ``paths`` lists only entries a wheel cannot express: prefix placeholders
    (``prefix_placeholder``, ``file_mode``; for scripts also the original ``interpreter`` that
    ``#!python`` replaced), ``no_link``, each with the original ``sha256`` so a restore is
    checked.  ``dist_info: synthesized`` means the ``.dist-info`` was made up for the wheel and
    is left out again; for an own one, ``dist_info_files`` lists its files and
    ``dist_info_text`` keeps those the wheel drops or rewrites (``INSTALLER``, ``WHEEL``,
    ``direct_url.json``, ...; never ``RECORD``, which is regenerated).

Besides, the planner notes in ``about.json`` ``extra.wheel2conda.schemes`` the files whose
install scheme a reader of the conda package could not guess (a shell script from
``.data/scripts``, a data file under ``bin/``), so conda → wheel puts them back where they were.
"""

from __future__ import annotations

import csv
import io
import posixpath
from collections.abc import Collection, Iterable, Mapping

from .paths import LinkError, check_link_target, resolve_link_path

LINKS = "LINKS"
CONDA_RECORD = "conda-package.json"
#: dist-info files the wheel reader consumes instead of copying.
CONSUMED = frozenset({LINKS, CONDA_RECORD})


# --------------------------------------------------------------------------- LINKS


def format_links(rows: Iterable[tuple[str, str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(sorted(rows))
    return buf.getvalue().encode("utf-8")


def parse_links(data: bytes) -> list[tuple[str, str]]:
    """Rows of a ``LINKS`` file; ValueError when malformed."""
    rows = []
    for row in csv.reader(io.StringIO(data.decode("utf-8"))):
        if not row:
            continue
        if len(row) != 2 or not row[0] or not row[1]:
            raise ValueError(f"malformed row {row!r}")
        rows.append((row[0], row[1]))
    return rows


def directories_of(files: Iterable[str]) -> set[str]:
    """Every directory that holds one of ``files`` (relative paths), at any depth."""
    dirs = {posixpath.dirname(f) for f in files}
    return dirs | {d.rsplit("/", i)[0] for d in list(dirs) for i in range(1, d.count("/") + 1)}


def resolve_links(links: Mapping[str, str], files: Collection[str], *, directories: bool = False, outside: bool = False) -> dict[str, str]:
    """The regular file (or, with ``directories``, the directory) each link finally points to.

    ``links`` maps link paths to their targets (relative to the link's directory), ``files``
    are the regular files; all paths share one root.  Raises ValueError naming every link that
    escapes the root, loops, dangles or (without ``directories``) points to a directory; with
    ``outside`` a target that is not in the package (another package's file, as
    ``../../_rocm_sdk_core/lib/llvm``) is no problem.  Callers tell the kinds apart by
    ``resolved in files`` and :func:`directories_of`.
    """
    dirs = directories_of(files)
    walk = {k.removeprefix("/"): v for k, v in links.items()}
    resolved: dict[str, str] = {}
    problems: list[str] = []
    for link in sorted(links):
        current, seen = link, list[str]()
        root = "/" if link.startswith("/") else ""
        while True:
            if current in seen:
                problems.append(f"{link}: link loop ({' -> '.join([*seen, current])})")
                break
            seen.append(current)
            target = links[current]
            problem = check_link_target(current, target)
            if problem:
                problems.append(f"{link}: {problem}")
                break
            try:  # the one link walk (model.paths); absolute origins (an installed tree's files) walk from "/"
                path = root + resolve_link_path(current.removeprefix("/"), target, walk)
            except LinkError as exc:
                if not outside:
                    problems.append(f"{link}: {exc}")
                    break
                path = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))  # another package's path
            if path in links:
                current = path
                continue
            if path in files or (directories and path in dirs) or (outside and path not in dirs):
                resolved[link] = path
            elif path in dirs:
                problems.append(f"{link}: points to the directory {path} (wheels can only hold copies of files)")
            else:
                problems.append(f"{link}: target {path} is not in the package")
            break
    if problems:
        raise ValueError("; ".join(problems))
    return resolved
