"""Build strings: ``<python>_<variant parts>_<build number>``.  Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable

_INVALID = re.compile(r"[^a-zA-Z0-9_.+]+")
MAX_LENGTH = 64


def sanitize(part: str) -> str:
    """Make ``part`` legal inside a build string (``-`` and other characters become ``_``)."""
    return _INVALID.sub("_", part).strip("_")


def build_string(parts: Iterable[str], number: int) -> str:
    """Join the non-empty parts and the build number with ``_``; at most 64 characters."""
    pieces = [p for p in (sanitize(x) for x in parts) if p]
    text = "_".join([*pieces, str(number)])
    if len(text) > MAX_LENGTH:
        raise ValueError(f"build string {text!r} is longer than {MAX_LENGTH} characters")
    return text
