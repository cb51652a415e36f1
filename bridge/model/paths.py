"""The one path rule for member paths, and the one way writers join them to an output root.

Every member name is untrusted, whatever it comes from (a wheel's zip directory, a conda
package's tar stream or ``info/paths.json``, an installed RECORD, a round-trip record, a devel
tarball, ``--name``).  Readers refuse a name with :func:`check_relative_path` (and a package's
set of names with :func:`check_package_paths`); writers check again and open files only through
:func:`contained_join`, which refuses whatever would resolve outside their root, symlinks
included (:func:`contained_output` turns a refusal into a :class:`~bridge.core.errors.BadInput`).
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..core.errors import BadInput

_DRIVE = re.compile(r"^[A-Za-z]:")
#: Device names Windows opens whatever the extension (``NUL.txt`` is the null device);
#: see Microsoft's "Naming Files, Paths, and Namespaces" (learn.microsoft.com, fileio/naming-a-file).
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{i}" for i in "123456789¹²³"}
    | {f"lpt{i}" for i in "123456789¹²³"}
)


class UnsafePath(ValueError):
    """A path that must not be written (the message says why)."""


def _control(name: str) -> str | None:
    for ch in name:
        if ch == "\x00":
            return "contains a NUL character"
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"contains the control character {ch!r}"
        if category == "Cs":
            return "is not valid UTF-8"
    return None


def check_relative_path(name: str, *, windows: bool = False) -> str | None:
    """Why ``name`` is unsafe as a relative POSIX path inside a package, or None if it is fine.

    Relative, ``/``-separated, no ``..``/``.``/empty component, no drive, UNC or backslash, no NUL
    or control characters; with ``windows``, no component that Windows opens as a device.
    """
    if not name:
        return "empty name"
    problem = _control(name)
    if problem:
        return problem
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "absolute path"
    parts = name.rstrip("/").split("/")
    if any(p == ".." for p in parts):
        return "contains '..'"
    if any(p in ("", ".") for p in parts):
        return "contains an empty or '.' component"
    if windows:
        for part in parts:
            if reserved_on_windows(part):
                return f"{part!r} is a reserved device name on Windows"
    return None


def reserved_on_windows(part: str) -> bool:
    """Whether Windows treats this file name as a device (``CON``, ``nul.txt``, ``COM1 ``...)."""
    stem = part.split(".", 1)[0].rstrip(" ").lower()
    return stem in WINDOWS_RESERVED or part.endswith((" ", "."))


def check_package_paths(names: Iterable[str], *, windows: bool = False) -> tuple[str, str] | None:
    """The first ``(name, why)`` that breaks the path rule among a package's member names.

    Besides each name passing :func:`check_relative_path`, no two names may differ only in case
    (they would be one file on Windows and macOS).
    """
    seen: dict[str, str] = {}
    for name in names:
        problem = check_relative_path(name, windows=windows)
        if problem:
            return name, problem
        key = name.rstrip("/").casefold()
        other = seen.get(key)
        if other is not None and other != name.rstrip("/"):
            return name, f"differs from {other!r} only in case (one file on Windows and macOS)"
        seen[key] = name.rstrip("/")
    return None


def check_link_target(link_path: str, target: str) -> str | None:
    """Why a symlink at ``link_path`` pointing to ``target`` would escape its package, or None.

    Targets must be relative and, resolved against the link's directory, stay inside the
    package root.
    """
    if not target:
        return "empty link target"
    if _control(target):
        return f"link target {target!r} {_control(target)}"
    if target.startswith("/") or _DRIVE.match(target) or "\\" in target:
        return f"absolute link target {target!r}"
    depth = len(link_path.split("/")) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return f"link target {target!r} points outside the package"
        elif part not in ("", "."):
            depth += 1
    return None


#: Most links followed while resolving one path, as the kernel's ELOOP limit.
MAX_LINK_HOPS = 40


class LinkError(ValueError):
    """A link that cannot be resolved inside its package (the message names it)."""


def resolve_link_path(link_path: str, target: str, links: Mapping[str, str]) -> str:
    """Where ``link_path -> target`` points, package-relative, as the kernel walks it.

    ``links`` maps every link of the package to its target.  Components are taken left to
    right from the link's directory; a parent directory that is a link is replaced by what it
    points to (so ``..`` after it climbs from the real directory), so the result never goes
    through a link.  The last component is kept as named (a link to a link is fine).  Raises
    :class:`LinkError` for a path that leaves the package, is the package root, meets an
    absolute link or loops.
    """
    parts = [p for p in (link_path.split("/")[:-1]) if p]
    pending = [p for p in target.split("/") if p not in ("", ".")]
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if not parts:
                raise LinkError(f"symlink {link_path} -> {target}: points outside the package")
            parts.pop()
            continue
        parts.append(part)
        current = "/".join(parts)
        if pending and current in links:  # a parent directory that is a link: go where it goes
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise LinkError(f"symlink {link_path} -> {target}: too many levels of links (a loop?)")
            inner = links[current]
            if inner.startswith("/"):
                raise LinkError(f"symlink {current}: absolute link target {inner!r}")
            parts.pop()
            pending = [p for p in inner.split("/") if p not in ("", ".")] + pending
    if not parts:
        raise LinkError(f"symlink {link_path} -> {target}: points at the package root")
    return "/".join(parts)


def check_file_name(name: str, what: str = "file name") -> str | None:
    """Why ``name`` cannot be one file name in an output folder (no separator, not hidden), or None."""
    if not name:
        return f"empty {what}"
    problem = _control(name)
    if problem:
        return f"{what} {name!r} {problem}"
    if "/" in name or "\\" in name or _DRIVE.match(name):
        return f"{what} {name!r} contains a path separator"
    if name.startswith(".") or name.strip() != name:
        return f"{what} {name!r} starts with '.' or has surrounding whitespace"
    return None


def contained_join(root: str | os.PathLike[str], rel: str) -> Path:
    """``root/rel`` for a relative POSIX ``rel``; :class:`UnsafePath` if it would end up outside ``root``.

    ``rel`` must pass :func:`check_relative_path`, and no existing component below ``root`` may be
    a symlink (so an existing link cannot carry a write elsewhere).  The only way writers join an
    untrusted name to their output root.
    """
    problem = check_relative_path(rel)
    if problem:
        raise UnsafePath(f"{rel!r}: {problem}")
    base = Path(root)
    path = base
    for part in rel.rstrip("/").split("/"):
        path = path / part
        if path.is_symlink():
            raise UnsafePath(f"{rel!r}: {path} is a symlink; refusing to write through it")
    resolved_root = base.resolve()
    resolved = path.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise UnsafePath(f"{rel!r} resolves outside {base}")
    return path


def zip_overlap(infos: list[zipfile.ZipInfo], end: int) -> str | None:
    """Why a zip's central directory is unsafe to read (entries sharing or overlapping bytes), or None.

    Each entry's local header and data must end before the next entry starts (a "zip bomb" by
    overlap, or two names for one set of bytes, otherwise); ``end`` is where the central
    directory starts.  Local extra fields are not counted, so only definite overlaps are reported.
    """
    spans = sorted((i.header_offset, i.header_offset + 30 + len(i.orig_filename.encode("utf-8", "surrogateescape")) + i.compress_size, i.orig_filename) for i in infos)
    for (_start, stop, name), (next_start, _, next_name) in zip(spans, [*spans[1:], (end, end, "the central directory")]):
        if stop > next_start:
            return f"zip entries {name!r} and {next_name!r} overlap"
    return None


def contained_output(root: Path, rel: str, where: str | None) -> Path:
    """``root/rel`` through :func:`contained_join`; a :class:`BadInput` naming ``where`` otherwise."""
    try:
        return contained_join(root, rel)
    except UnsafePath as exc:
        raise BadInput(where, f"refusing to write outside the output folder: {exc}", hint="never install this input; report it to its publisher") from None
