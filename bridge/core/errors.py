"""Errors that carry the file they concern and a one-line reason.

Every refusal the tool makes is a :class:`BridgeError`; the CLI prints it as
``wheel2conda: error: <file>: <reason>`` (plus the hint, if any) and exits with
:attr:`BridgeError.exit_code`.  Anything else escaping is a bug and shows a traceback
only with ``--debug``.
"""

from __future__ import annotations

from os import PathLike, fspath

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_BAD_INPUT = 2


class BridgeError(Exception):
    """A refusal with a clear cause: bad input, unsupported feature or unsafe request."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, path: str | PathLike[str] | None, reason: str, *, hint: str | None = None):
        self.path = fspath(path) if path is not None else None
        self.reason = reason
        self.hint = hint
        super().__init__(self.one_line())

    def __reduce__(self) -> tuple:  # picklable, so errors travel back from worker processes (convert --jobs)
        return (type(self), (self.path, self.reason), self.__dict__)

    def one_line(self) -> str:
        """``<file>: <reason>[; <hint>]`` on a single line."""
        text = f"{self.path}: {self.reason}" if self.path else self.reason
        if self.hint:
            text += f"; {self.hint}"
        return " ".join(text.split())


class BadInput(BridgeError):
    """The input file is malformed: not a zip, broken metadata, hash mismatch, unsafe path."""


class Unsupported(BridgeError):
    """The input is valid but cannot be expressed in the target format (e.g. musllinux tags)."""


class Conflict(BridgeError):
    """The output would clash with what exists (e.g. republishing different bytes)."""

    exit_code = EXIT_PARTIAL
