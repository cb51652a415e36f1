"""The one way a planned conda package is written: a :class:`Sink` per output format, picked by :func:`sink_for`.

Every sink takes the plan, the distribution its payload streams from, the folder to write into
and one :class:`~bridge.sinks.settings.WriteSettings`; it writes atomically and returns the path it made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..core.errors import BadInput
from ..model import Distribution
from ..plan.types import CondaPackage
from .conda import write_package
from .settings import WriteSettings
from .tree import write_tree


class Sink(Protocol):
    def __call__(self, pkg: CondaPackage, dist: Distribution, out_dir: Path, settings: WriteSettings) -> Path: ...


#: Output format → the sink that writes it.
SINKS: dict[str, Sink] = {"conda": write_package, "tar.bz2": write_package, "tree": write_tree}


def sink_for(settings: WriteSettings, where: str) -> Sink:
    """The sink for ``settings.format``; :class:`BadInput` for a format no sink writes."""
    try:
        return SINKS[settings.format]
    except KeyError:
        raise BadInput(where, f"no writer for the output format {settings.format!r}", hint=f"choose one of: {', '.join(SINKS)}") from None
