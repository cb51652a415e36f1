"""An inter-process lock on a channel, so concurrent publishers serialise.

``flock`` on POSIX, ``msvcrt.locking`` on Windows, on ``<channel>/.wheel2conda.lock``.  The
lock is re-entrant within one thread (``publish`` holds it while it re-indexes), and threads
of one process exclude each other like separate processes do.  It is released by the OS
when the holder dies, so a killed publisher never leaves the channel locked.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import BridgeError

LOCK_NAME = ".wheel2conda.lock"
#: Default wait for another publisher, in seconds.
DEFAULT_TIMEOUT = 600.0

_held: dict[tuple[str, int], int] = {}  # (lock file, thread id) -> nesting depth
_open_fds: set[int] = set()  # descriptors of the lock files held by this process


def close_inherited_locks() -> None:
    """In a forked child: close the lock descriptors inherited from the parent (closing, never
    unlocking: the parent keeps its lock, and the child's copies cannot outlive it)."""
    for fd in list(_open_fds):
        try:
            os.close(fd)
        except OSError:
            pass
    _open_fds.clear()
    _held.clear()


@contextmanager
def channel_lock(channel: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``channel`` (blocking up to ``timeout`` seconds)."""
    channel.mkdir(parents=True, exist_ok=True)
    key = (os.path.realpath(channel / LOCK_NAME), threading.get_ident())
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    fd = os.open(key[0], os.O_RDWR | os.O_CREAT, 0o644)
    _open_fds.add(fd)
    try:
        _acquire(fd, channel, timeout)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
            _release(fd)
    finally:
        _open_fds.discard(fd)
        os.close(fd)


def _timed_out(channel: Path, timeout: float) -> BridgeError:
    return BridgeError(
        channel,
        f"timed out after {timeout:.0f} s waiting for the channel lock ({LOCK_NAME})",
        hint="another wheel2conda process is publishing into this channel",
    )


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _acquire(fd: int, channel: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise _timed_out(channel, timeout) from None
                time.sleep(0.02)

    def _release(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _acquire(fd: int, channel: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _timed_out(channel, timeout) from None
                time.sleep(0.02)

    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
