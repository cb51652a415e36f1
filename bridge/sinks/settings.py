"""One object for how outputs are written: :class:`WriteSettings` (format, zstd, wheel compression, progress)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..plan.types import PackageFormat
from .compression import ZstdSettings

ProgressFn = Callable[[int, int], object]  # called with (bytes, files) newly written from the source


@dataclass(frozen=True)
class WheelCompression:
    """How members are compressed."""

    method: Literal["deflate", "zstd"] = "deflate"
    level: int | None = None  # deflate 1-9 (default 6), zstd 1-22 (default 10)
    threads: int = 0  # 0: all cores

    def __post_init__(self) -> None:
        if self.method not in ("deflate", "zstd"):
            raise ValueError(f"unknown compression {self.method!r}")
        top = 9 if self.method == "deflate" else 22
        if self.level is not None and not 1 <= self.level <= top:
            raise ValueError(f"{self.method} level must be 1..{top}, not {self.level}")
        if self.threads < 0:
            raise ValueError("threads must be >= 0")


@dataclass(frozen=True)
class WriteSettings:
    """How outputs are written: the conda package format, zstd for ``.conda``, member compression
    for wheels, and who hears about progress."""

    format: PackageFormat = "conda"  # a key of bridge.sinks.write.SINKS
    zstd: ZstdSettings = field(default_factory=ZstdSettings)
    wheel_compression: WheelCompression = field(default_factory=WheelCompression)
    progress: ProgressFn | None = None
