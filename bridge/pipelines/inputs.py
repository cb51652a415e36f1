"""Open any input the convert pipeline takes as a :class:`bridge.model.Distribution`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import BadInput
from ..model import Distribution
from ..plan.conda_to_wheel import plan_wheel_from_conda
from ..sources.conda import SUFFIXES as CONDA_SUFFIXES
from ..sources.conda import open_conda
from ..sources.wheel import open_wheel


@contextmanager
def open_distribution(path: str | Path, *, hash_source: bool = True) -> Iterator[Distribution]:
    """Open a wheel (``.whl``) or a conda package (``.conda``, ``.tar.bz2``, planned as its wheel).

    ``hash_source=False``: do not read the whole file to record its sha256 (planning only).
    """
    path = Path(path)
    if path.suffix == ".whl":
        with open_wheel(path, hash_source=hash_source) as dist:
            yield dist
        return
    if path.name.endswith(CONDA_SUFFIXES):
        with open_conda(path, hash_source=hash_source) as package:
            yield plan_wheel_from_conda(package).dist
        return
    raise BadInput(path, "not a wheel (.whl) or conda package (.conda, .tar.bz2)")
