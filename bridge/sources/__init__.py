"""Readers: each turns one kind of input into a :class:`bridge.model.Distribution`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import BadInput
from ..model import Distribution
from .conda import SUFFIXES as CONDA_SUFFIXES
from .conda import open_conda
from .wheel import open_wheel


@contextmanager
def open_distribution(path: str | Path, *, hash_source: bool = True) -> Iterator[Distribution]:
    """Open a wheel (``.whl``) or a conda package (``.conda``, ``.tar.bz2``).

    ``hash_source=False``: do not read the whole file to record its sha256 (planning only).
    """
    path = Path(path)
    if path.suffix == ".whl":
        with open_wheel(path, hash_source=hash_source) as dist:
            yield dist
        return
    if path.name.endswith(CONDA_SUFFIXES):
        with open_conda(path, hash_source=hash_source) as dist:
            yield dist
        return
    raise BadInput(path, "not a wheel (.whl) or conda package (.conda, .tar.bz2)")
