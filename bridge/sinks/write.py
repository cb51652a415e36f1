"""The one way a planned conda package is written: a :class:`Sink` per output format, picked by :func:`sink_for`.

Every sink takes the plan, the distribution its payload streams from, the folder to write into
and one :class:`WriteSettings`; it writes atomically and returns the path it made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..core.errors import BadInput
from ..model import Distribution
from ..plan.wheel_to_conda import CondaPackage
from .compression import ZstdSettings
from .conda import ProgressFn, write_package
from .tree import write_tree
from .wheel import WheelCompression


@dataclass(frozen=True)
class WriteSettings:
    """How outputs are written: the package format, zstd and wheel compression, progress reporting."""

    format: str = "conda"  # a key of SINKS
    zstd: ZstdSettings = field(default_factory=ZstdSettings)
    wheel_compression: WheelCompression = field(default_factory=WheelCompression)
    progress: ProgressFn | None = None  # called with (bytes, files) newly written


class Sink(Protocol):
    def __call__(self, pkg: CondaPackage, dist: Distribution, out_dir: Path, settings: WriteSettings) -> Path: ...


def _archive(pkg: CondaPackage, dist: Distribution, out_dir: Path, settings: WriteSettings) -> Path:
    fmt = "tar.bz2" if settings.format == "tar.bz2" else "conda"
    return write_package(pkg, dist, out_dir, fmt, settings.zstd, settings.progress)


def _tree(pkg: CondaPackage, dist: Distribution, out_dir: Path, settings: WriteSettings) -> Path:
    return write_tree(pkg, dist, out_dir)


#: Output format → the sink that writes it.
SINKS: dict[str, Sink] = {"conda": _archive, "tar.bz2": _archive, "tree": _tree}


def sink_for(settings: WriteSettings, where: str) -> Sink:
    """The sink for ``settings.format``; :class:`BadInput` for a format no sink writes."""
    try:
        return SINKS[settings.format]
    except KeyError:
        raise BadInput(where, f"no writer for the output format {settings.format!r}", hint=f"choose one of: {', '.join(SINKS)}") from None
