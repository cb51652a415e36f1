"""Progress of long conversions: a tqdm bar (bytes and files) on a terminal, plain lines otherwise.

Lines go to stderr so stdout keeps the results.  :meth:`Progress.advance` is thread-safe: with
``convert --jobs N`` the counts arrive from worker processes through one listener thread.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, TextIO

from tqdm import tqdm

Mode = Literal["auto", "bar", "lines", "none"]
LINE_INTERVAL_S = 30.0  # plain mode: one progress line at most this often
LARGE_INPUT = 64 << 20  # plain mode: announce inputs this large (uncompressed) when they start


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class Progress:
    """Bytes and files written across all inputs, plus inputs started and finished."""

    def __init__(self, total_bytes: int = 0, total_inputs: int = 0, mode: Mode = "auto", stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "lines"
        self.mode = mode
        self.total_bytes, self.total_inputs = total_bytes, total_inputs
        self.bytes = self.files = self.done = 0
        self._lock = threading.Lock()
        self._last_line = time.monotonic()
        self._bar: tqdm | None = None
        if mode == "bar":
            sized = min(_terminal_size(self.stream)) > 0  # a pty reporting no size would hide the bar: fix one
            self._bar = tqdm(
                total=total_bytes,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=self.stream,
                dynamic_ncols=sized,
                ncols=None if sized else 100,
                nrows=None if sized else 24,
                leave=False,
            )
            self._postfix()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def expect(self, total_bytes: int, total_inputs: int) -> None:
        """Set the totals once they are known (the converter reads the inputs' sizes)."""
        with self._lock:
            self.total_bytes, self.total_inputs = total_bytes, total_inputs
            if self._bar is not None:
                self._bar.total = total_bytes
                self._postfix()
                self._bar.refresh()

    def started(self, name: str, size: int) -> None:
        if self.mode == "lines" and size >= LARGE_INPUT:
            self._line(f"converting {name} ({human_bytes(size)})")

    def advance(self, nbytes: int, nfiles: int) -> None:
        with self._lock:
            self.bytes += nbytes
            self.files += nfiles
            if self._bar is not None:
                self._bar.update(min(nbytes, max(0, self.total_bytes - self._bar.n)))  # generated files go beyond the payload
                if nfiles:
                    self._postfix()
            elif self.mode == "lines" and time.monotonic() - self._last_line >= LINE_INTERVAL_S:
                self._line(self._summary())

    def finished(self) -> None:
        with self._lock:
            self.done += 1
            if self._bar is not None:
                self._postfix()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Print results or warnings inside this block without tearing the bar."""
        with self._lock:
            if self._bar is not None:
                self._bar.clear()
            try:
                yield
            finally:
                if self._bar is not None:
                    self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _summary(self) -> str:
        share = f" ({100 * self.bytes / self.total_bytes:.0f} %)" if self.total_bytes else ""
        return f"{human_bytes(self.bytes)} of {human_bytes(self.total_bytes)}{share}, {self.files} files, {self.done}/{self.total_inputs} wheels done"

    def _postfix(self) -> None:
        assert self._bar is not None
        self._bar.set_postfix_str(f"{self.files} files, {self.done}/{self.total_inputs} wheels", refresh=False)

    def _line(self, text: str) -> None:
        self._last_line = time.monotonic()
        if self.mode != "none":
            print(f"wheel2conda: {text}", file=self.stream, flush=True)


def _terminal_size(stream: TextIO) -> tuple[int, int]:
    try:
        return tuple(os.get_terminal_size(stream.fileno()))  # type: ignore[return-value]
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return (0, 0)
