"""Readers: each turns one kind of input into a :class:`bridge.model.Distribution`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import BadInput
from ..model import Distribution
from .wheel import open_wheel


@contextmanager
def open_distribution(path: str | Path) -> Iterator[Distribution]:
    """Open a wheel (``.whl``); other input kinds are added by their readers."""
    path = Path(path)
    if path.suffix == ".whl":
        with open_wheel(path) as dist:
            yield dist
        return
    raise BadInput(path, "not a wheel (.whl)")
