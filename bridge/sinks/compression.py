"""zstd settings for ``.conda`` components, in one place.

The window is chosen per package (:func:`choose_window_log`): every decoder must allocate the
frame's window, and a client extracts several packages at once, so a package asks for more than
8 MiB (2**23, what conda-forge's packages use) only where the larger window pays.  Payloads up to
8 MiB get a window just large enough to hold them.  For larger payloads one cheap trial pass
decides: the payload is fed once through two level-1 compressors with long-distance matching, one
with the 8 MiB window and one with the long window (up to 2**27 = 128 MiB, the largest window stock
conda, mamba and rattler decoders accept, lowered to what holds the payload); the long window is used
when each doubling of the window beyond 8 MiB buys at least 3 % of the trial output (2**27: 12 %,
2**25: 6 %), since every installer pays the window in memory.  Level 1 predicts the real level's
gain well (level 8, measured: NVRTC 33.5 % predicted / 35 % real, pyarrow 9.4 / 10.4 %, scipy
0.7 / 0.6 %) at about a tenth of its CPU; the trial reads the payload once more (inflating a wheel's members again).  ``window_log`` forces a
window and skips the trial.  The decision depends only on the bytes, so output stays reproducible.

Multi-threaded zstd output does not depend on the number of threads (as long as there is at least one worker), so packages stay reproducible
across machines; the job size depends only on the level and window, never on the thread count.
Below level :data:`OWN_JOB_LEVEL` it is fixed at 4 MiB: with long-distance matching zstd keeps the
whole window plus a few jobs in memory (the window + 3 jobs) plus per-thread match tables (~8 MiB
each at the default level), and 4 MiB jobs instead of zstd's 16 MiB default keep a conversion near
225 MiB at the default level on two threads, for about 1 % larger output.  From that level on (the
optimal parsers, ``--release``) zstd derives the job size from the level itself (64 MiB at level
19 with long-distance matching), as its command line does: every job re-indexes the data it
overlaps with the previous one (16 MiB there), which costs little at the default level but is what
the optimal parser pays most for, so 4 MiB jobs took 1.35x the CPU of zstd's own jobs at level 19
(nvJitLink 12.9: 50.5 vs 37.4 CPU s) for the same output size.  Measurements and the level trade-off: ``docs/performance.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import zstandard

from .zstd_levels import (  # the numbers live in a module without imports: the CLI's --help shows them
    DEFAULT_LEVEL,
    JOB_SIZE,
    LONG_WINDOW_GAIN,
    MAX_WINDOW_LOG,
    MIN_WINDOW_LOG,
    OWN_JOB_LEVEL,
    RELEASE_LEVEL,
    SHORT_WINDOW_LOG,
    TRIAL_LEVEL,
)

__all__ = [
    "DEFAULT_LEVEL", "JOB_SIZE", "LONG_WINDOW_GAIN", "MAX_WINDOW_LOG", "MIN_WINDOW_LOG", "OWN_JOB_LEVEL", "RELEASE_LEVEL", "SHORT_WINDOW_LOG", "TRIAL_LEVEL",
    "ZstdSettings", "choose_window_log", "default_threads", "fitted_window_log", "job_size_for", "trial_sizes",
]


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
    window_log: int | None = None  # None: chosen per package (choose_window_log); else forced
    long_distance: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.level <= 22:
            raise ValueError(f"zstd level must be 1..22, not {self.level}")
        if self.window_log is not None and not MIN_WINDOW_LOG <= self.window_log <= MAX_WINDOW_LOG:
            raise ValueError(f"zstd window log must be {MIN_WINDOW_LOG}..{MAX_WINDOW_LOG}, not {self.window_log}")
        if self.threads < 0:
            raise ValueError("zstd threads must be >= 0")

    def compressor(self, size_hint: int | None = None, window_log: int | None = None) -> zstandard.ZstdCompressor:
        """A compressor whose window fits the data (small inputs decode with small buffers).

        ``window_log`` is the window decided for this payload (:func:`choose_window_log`); without
        it the forced window, else the short one, is used.
        """
        window_log = window_log or self.window_log or SHORT_WINDOW_LOG
        return _compressor(self.level, fitted_window_log(window_log, size_hint), self.threads or default_threads(), self.long_distance, job_size_for(self.level))


def job_size_for(level: int) -> int:
    """Bytes per multi-threaded job at ``level`` (0: zstd derives it from the level and window)."""
    return JOB_SIZE if level < OWN_JOB_LEVEL else 0


def fitted_window_log(window_log: int, size_hint: int | None) -> int:
    """``window_log`` lowered to the smallest window that holds ``size_hint`` bytes."""
    if size_hint is None:
        return window_log
    return max(MIN_WINDOW_LOG, min(window_log, max(1, size_hint - 1).bit_length()))


def _compressor(level: int, window_log: int, threads: int, long_distance: bool, job_size: int) -> zstandard.ZstdCompressor:
    params = zstandard.ZstdCompressionParameters.from_level(
        level, window_log=window_log, enable_ldm=long_distance, threads=threads, job_size=job_size
    )
    return zstandard.ZstdCompressor(compression_params=params)


def choose_window_log(settings: ZstdSettings, payload_size: int, chunks: Callable[[], Iterable[bytes]]) -> int:
    """The window for a payload of ``payload_size`` bytes (module docstring for the rule).

    ``chunks`` yields the payload's bytes in the order they will be compressed; it is called only
    when a trial is needed (no forced window, payload larger than the short window).
    """
    if settings.window_log is not None:
        return fitted_window_log(settings.window_log, payload_size)
    short = fitted_window_log(SHORT_WINDOW_LOG, payload_size)
    long = fitted_window_log(MAX_WINDOW_LOG, payload_size)
    if long <= short:
        return short
    short_size, long_size = trial_sizes(chunks(), (short, long), 1)  # two compressors: two workers
    return long if long_size <= short_size * (1 - LONG_WINDOW_GAIN * (long - short)) else short


class _Counter:
    """A sink that only counts the bytes written to it."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return len(data)


def trial_sizes(chunks: Iterable[bytes], window_logs: tuple[int, ...], threads: int) -> list[int]:
    """Compressed sizes of ``chunks`` at :data:`TRIAL_LEVEL` with long-distance matching, per window.

    Multi-threaded (at least one worker) with a fixed job size: the sizes do not depend on ``threads``.
    """
    counters = [_Counter() for _ in window_logs]
    writers = [
        _compressor(TRIAL_LEVEL, log, max(1, threads), True, job_size_for(TRIAL_LEVEL)).stream_writer(counter, closefd=False)  # type: ignore[arg-type]  # any object with write()
        for log, counter in zip(window_logs, counters)
    ]
    for chunk in chunks:
        for writer in writers:
            writer.write(chunk)
    for writer in writers:
        writer.flush(zstandard.FLUSH_FRAME)
    return [counter.count for counter in counters]
