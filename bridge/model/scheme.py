"""Install schemes and the entry-point rules both package models share (imports nothing else of the package)."""

from __future__ import annotations

import enum


class Scheme(str, enum.Enum):
    """Install schemes of the binary distribution format."""

    PURELIB = "purelib"
    PLATLIB = "platlib"
    SCRIPTS = "scripts"
    HEADERS = "headers"
    DATA = "data"

    @property
    def in_site_packages(self) -> bool:
        return self in (Scheme.PURELIB, Scheme.PLATLIB)


#: Characters a shell or Windows gives meaning to; never in an entry point's (file) name.
_SHELL_META = set("/\\:*?\"<>|;&$`'(){}[]!#~%^= \t")


def _dotted(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def parse_entry_point_value(value: str) -> tuple[str, str] | None:
    """``(module, attr)`` of ``module.path:attr.path [extras]``, or None when it is not that shape."""
    target = value.split("[", 1)[0].strip()
    module, sep, attr = target.partition(":")
    module, attr = module.strip(), attr.strip()
    if not _dotted(module) or (sep and not _dotted(attr)):
        return None
    return module, attr


def entry_point_problem(name: str, module: str, attr: str) -> str | None:
    """Why ``name = module:attr`` cannot be a console/gui script, or None.

    The name becomes a file name (``bin/<name>``, ``Scripts/<name>.exe``): no separators, shell
    or Windows metacharacters, control characters or leading ``.``/``-``.  Module and attribute
    are dotted Python identifiers (the launcher imports and calls them; nothing else runs).
    """
    if not name or name.startswith((".", "-")) or any(c in _SHELL_META or not c.isprintable() for c in name):
        return f"name {name!r} is not a safe file name"
    if not _dotted(module):
        return f"module {module!r} is not a dotted Python name"
    if not attr:
        return f"{module} names no function (module:function expected)"
    if not _dotted(attr):
        return f"attribute {attr!r} is not a dotted Python name"
    return None
