"""Path safety rules shared by every reader: archive member names are untrusted."""

from __future__ import annotations

import re

_DRIVE = re.compile(r"^[A-Za-z]:")


def check_relative_path(name: str) -> str | None:
    """Why ``name`` is unsafe as a relative POSIX path inside a package, or None if it is fine."""
    if not name:
        return "empty name"
    if "\x00" in name:
        return "contains a NUL character"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "absolute path"
    parts = name.rstrip("/").split("/")
    if any(p == ".." for p in parts):
        return "contains '..'"
    if any(p in ("", ".") for p in parts):
        return "contains an empty or '.' component"
    return None


def check_link_target(link_path: str, target: str) -> str | None:
    """Why a symlink at ``link_path`` pointing to ``target`` would escape its package, or None.

    Targets must be relative and, resolved against the link's directory, stay inside the
    package root.
    """
    if not target:
        return "empty link target"
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
