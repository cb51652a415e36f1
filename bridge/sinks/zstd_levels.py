"""zstd levels and windows for ``.conda`` components (:mod:`bridge.sinks.compression` uses them).

A module of constants with no imports, so the command line's help can show the defaults
without loading the compression code (start-up: issue 15).
"""

MAX_WINDOW_LOG = 27  # decoders refuse larger windows ("Frame requires too much memory")
SHORT_WINDOW_LOG = 23  # 8 MiB: what a package asks its installers for unless a longer window pays
MIN_WINDOW_LOG = 10
LONG_WINDOW_GAIN = 0.03  # the long window must make the trial output this much smaller
TRIAL_LEVEL = 1
DEFAULT_LEVEL = 8  # nightly-friendly: ~2 % larger than 10 at half its CPU, 20-25 % larger than 19 at ~50x less
RELEASE_LEVEL = 19  # smallest packages a stock decoder reads; ~1-3 MB/s per core
JOB_SIZE = 4 << 20  # bytes per multi-threaded job below OWN_JOB_LEVEL: bounds memory, fixed for reproducibility
OWN_JOB_LEVEL = 16  # from here (the optimal parsers) zstd sizes the jobs itself: small jobs re-index their overlap
