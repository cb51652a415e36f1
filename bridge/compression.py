"""zstd settings for ``.conda`` components, in one place.

Long-distance matching with a window of up to 2**27 bytes (128 MiB): the largest window stock
conda, mamba and rattler decoders accept.  Multi-threaded zstd output does not depend on the
number of threads (as long as there is at least one worker), so packages stay reproducible
across machines; the job size is fixed for the same reason (zstd would otherwise derive it from
the level).  Memory: with long-distance matching zstd keeps the whole window plus a few jobs in
memory (about 128 MiB + 3 jobs) plus per-thread match tables (~8 MiB each at the default level);
4 MiB jobs instead of zstd's 16 MiB default keep a conversion near 225 MiB at the default level
on two threads, for about 1 % larger output.  Measurements and the level trade-off: ``docs/performance.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .zstd_levels import DEFAULT_LEVEL, JOB_SIZE, MAX_WINDOW_LOG, MIN_WINDOW_LOG, RELEASE_LEVEL

if TYPE_CHECKING:  # zstandard loads when a compressor is made
    import zstandard

__all__ = ["DEFAULT_LEVEL", "JOB_SIZE", "MAX_WINDOW_LOG", "MIN_WINDOW_LOG", "RELEASE_LEVEL", "ZstdSettings", "default_threads"]


def default_threads() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ZstdSettings:
    level: int = DEFAULT_LEVEL
    threads: int = 0  # 0: all cores
    window_log: int = MAX_WINDOW_LOG
    long_distance: bool = True
    job_size: int = JOB_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.level <= 22:
            raise ValueError(f"zstd level must be 1..22, not {self.level}")
        if not MIN_WINDOW_LOG <= self.window_log <= MAX_WINDOW_LOG:
            raise ValueError(f"zstd window log must be {MIN_WINDOW_LOG}..{MAX_WINDOW_LOG}, not {self.window_log}")
        if self.threads < 0:
            raise ValueError("zstd threads must be >= 0")

    def compressor(self, size_hint: int | None = None) -> zstandard.ZstdCompressor:
        """A compressor whose window fits the data (small inputs decode with small buffers)."""
        import zstandard

        window_log = self.window_log
        if size_hint is not None:
            window_log = max(MIN_WINDOW_LOG, min(window_log, max(1, size_hint - 1).bit_length()))
        params = zstandard.ZstdCompressionParameters.from_level(
            self.level,
            window_log=window_log,
            enable_ldm=self.long_distance,
            threads=self.threads or default_threads(),
            job_size=self.job_size,
        )
        return zstandard.ZstdCompressor(compression_params=params)
