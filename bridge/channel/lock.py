"""An inter-process lock on a channel, so concurrent publishers serialise."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import BridgeError

LOCK_NAME = ".wheel2conda.lock"


@contextmanager
def channel_lock(channel: Path, timeout: float = 600.0) -> Iterator[None]:
    """Hold an exclusive lock on ``channel`` (blocking up to ``timeout`` seconds)."""
    channel.mkdir(parents=True, exist_ok=True)
    fd = os.open(channel / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, channel, timeout)
        try:
            yield
        finally:
            _release(fd)
    finally:
        os.close(fd)


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _acquire(fd: int, channel: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise BridgeError(channel, "timed out waiting for the channel lock") from None
                time.sleep(0.05)

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
                    raise BridgeError(channel, "timed out waiting for the channel lock") from None
                time.sleep(0.05)

    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
