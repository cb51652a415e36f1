"""Script first lines in both directions, as installers treat them.

A wheel's ``.data/scripts`` file starting with ``#!python`` (or ``#!pythonw``) gets the
environment's interpreter at install time (pip, installer; PEP 427 "Recommended installer
features").  A conda package writes the placeholder prefix's interpreter instead, which the
client rewrites on link.  To-wheel and repack undo either form back to ``#!python``.
"""

from __future__ import annotations

import re

_WHEEL = re.compile(rb"^#!python(w)?(?=\s|$)")
_PLACEHOLDER_PYTHON = re.compile(rb"[/\\](?:bin[/\\])?python(\d+(?:\.\d+)?)?(t)?(w)?(\.exe)?(?=[ \t\r\n]|$)")
_INSTALLED = re.compile(rb"^#!(\S*[/\\])?python[0-9.]*(w)?(\.exe)?(?=\s|$)")


def rewrite_shebang(content: bytes, python: str) -> bytes | None:
    """Replace a wheel script's ``#!python`` (or ``#!pythonw``) line; None when there is none."""
    m = _WHEEL.match(content)
    if not m:
        return None
    exe = python
    if m.group(1) and exe.endswith("python.exe"):
        exe = exe[: -len("python.exe")] + "pythonw.exe"
    return b"#!" + exe.encode() + content[m.end() :]


def restore_shebang(content: bytes, placeholder: str) -> tuple[bytes, bytes] | None:
    """``#!<placeholder>/bin/python3.12 …`` → ``(b"#!python …", original interpreter token)``.

    The inverse of :func:`rewrite_shebang`; None when the first line is not the placeholder
    prefix's Python.
    """
    head = b"#!" + placeholder.encode()
    if not content.startswith(head):
        return None
    m = _PLACEHOLDER_PYTHON.match(content, len(head))
    if not m:
        return None
    token = content[: m.end()]
    return (b"#!pythonw" if m.group(3) else b"#!python") + content[m.end() :], token


def restore_installed_shebang(data: bytes) -> bytes | None:
    """``#!/env/bin/python3`` (what pip wrote for ``#!python``) → ``#!python``; None for any other line."""
    first, sep, rest = data.partition(b"\n")
    m = _INSTALLED.match(first)
    if not m or not m.group(1):
        return None
    return (b"#!pythonw" if m.group(2) else b"#!python") + first[m.end() :].rstrip(b"\r") + sep + rest
