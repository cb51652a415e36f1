"""The wheel → conda pipeline: read, plan each target, write; optionally publish.

:func:`convert_all` converts several wheels at once in worker processes (``--jobs``), largest
first, sharing the cores between the processes' zstd threads; outputs do not depend on the
number of jobs or threads.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.errors import BridgeError
from ..core.fsutil import staging_dir
from ..core.limits import special_kind
from ..core.progress import Progress
from ..gpu.rocm import meta_options, rocm_meta_distributions
from ..model import Distribution
from ..model.paths import contained_output
from ..plan.types import CondaPackage, ConversionOptions
from ..plan.wheel_to_conda import plan_packages
from ..sinks.compression import default_threads
from ..sinks.settings import ProgressFn, WriteSettings
from ..sinks.write import sink_for
from .inputs import open_distribution
from .outcome import Outcome


@dataclass(frozen=True)
class ConvertDetail:
    """What ``convert`` reports of one input: the packages planned and written, in ``outputs`` order."""

    packages: list[CondaPackage] = field(default_factory=list)


def convert_wheel(
    path: Path,
    out_dir: Path,
    options: ConversionOptions,
    settings: WriteSettings | None = None,
) -> Outcome[ConvertDetail]:
    """Convert one wheel into one package per target, written to ``out_dir/<subdir>/``.

    Errors are captured in the result, not raised; on error no output of this wheel remains.
    """
    started = time.monotonic()
    result = Outcome(Path(path), ConvertDetail())
    try:
        with open_distribution(path) as dist:
            write_planned(plan_packages(dist, options), dist, out_dir, result, settings or WriteSettings())
    except BridgeError as exc:
        discard(result, exc)
    result.seconds = time.monotonic() - started
    return result


def write_planned(
    pkgs: Iterable[CondaPackage],
    dist: Distribution,
    out_dir: Path,
    result: Outcome[ConvertDetail],
    settings: WriteSettings,
) -> None:
    """Write planned packages of one distribution into ``<out_dir>/<subdir>/``, recording each in ``result``.

    Per-subdir folders: packages of different subdirs often share a file name.
    """
    sink = sink_for(settings, dist.provenance.path)
    for pkg in pkgs:
        target_dir = contained_output(Path(out_dir), pkg.subdir, dist.provenance.path)
        out = sink(pkg, dist, target_dir, settings)
        result.outputs.append(out)
        result.detail.packages.append(pkg)


@contextmanager
def convert_into_channel(channel: Path) -> Iterator[Path]:
    """The folder to convert into when the packages go to ``channel`` (``convert --channel``,
    ``recipes build``): a staging folder inside it, so that publishing renames instead of copying.

    The channel is made when missing; the staging folder is removed on exit (what was published
    has left it), and a channel made here that nothing landed in is removed again.
    """
    made = not channel.exists()
    channel.mkdir(parents=True, exist_ok=True)
    try:
        with staging_dir(channel) as stage:
            yield stage
    finally:
        if made and channel.is_dir() and not any(channel.iterdir()):
            channel.rmdir()


def discard(result: Outcome[ConvertDetail], error: BridgeError) -> None:
    """Record ``error`` and remove what ``result`` wrote: all packages of an input, or none."""
    result.error = error
    for out in result.outputs:
        _remove(out)
    result.outputs.clear()


def plan_wheel(path: Path, options: ConversionOptions) -> list[CondaPackage]:
    """Plans only (for ``inspect`` and ``--dry-run``): nothing is written, nothing hashed twice."""
    with open_distribution(path, hash_source=False) as dist:
        return plan_packages(dist, options)


def payload_size(path: Path) -> int:
    """Uncompressed bytes of a wheel (from its zip directory; the file size if it is not a zip)."""
    try:
        if special_kind(path.stat().st_mode) is not None:
            return 0  # never opened: refused when converted

        with zipfile.ZipFile(path) as zf:
            return sum(i.file_size for i in zf.infolist())
    except (OSError, zipfile.BadZipFile, EOFError, UnicodeDecodeError, ValueError):  # refused when read, one input at a time
        return path.stat().st_size if path.is_file() else 0


PARALLEL_MIN_BYTES = 64 << 20  # payload per extra process below which starting processes costs more than it saves


def auto_jobs(sizes: list[int]) -> int:
    """Processes for ``--jobs 0``: one per core, at most one per input and per 64 MiB of payload."""
    return max(1, min(len(sizes), default_threads(), sum(sizes) // PARALLEL_MIN_BYTES))


def convert_all(
    paths: Iterable[Path],
    out_dir: Path,
    options: ConversionOptions,
    settings: WriteSettings | None = None,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    on_done: Callable[[Outcome[ConvertDetail]], object] | None = None,
) -> list[Outcome[ConvertDetail]]:
    """Convert every input, ``jobs`` at a time (0: :func:`auto_jobs`); results in input order.

    With several jobs each runs in its own process, largest input first, and zstd's threads are
    shared out (unless the caller fixed them).  ``on_done(result)`` runs in this thread for each
    input in input order, as soon as it and every input before it are done, so what is printed
    does not depend on timing.
    """
    inputs = [Path(p) for p in paths]
    sizes = [payload_size(p) for p in inputs]
    if progress is not None:
        progress.expect(sum(sizes), len(inputs))
    jobs = min(jobs or auto_jobs(sizes), max(1, len(inputs)))
    settings = settings or WriteSettings()
    if settings.zstd.threads == 0:
        settings = replace(settings, zstd=replace(settings.zstd, threads=max(1, default_threads() // jobs)))
    results: dict[int, Outcome[ConvertDetail]] = {}
    reported = 0

    def finish(index: int, result: Outcome[ConvertDetail]) -> None:
        nonlocal reported
        results[index] = result
        if progress is not None:
            progress.finished()
        while reported in results:
            if on_done is not None:
                on_done(results[reported])
            reported += 1

    if jobs == 1:
        for i in range(len(inputs)):
            if progress is not None:
                progress.started(inputs[i].name, sizes[i])
            finish(i, convert_wheel(inputs[i], out_dir, options, replace(settings, progress=progress.advance if progress else None)))
    else:
        order = sorted(range(len(inputs)), key=lambda i: (-sizes[i], i))  # largest first: the last job is short
        _convert_in_processes(inputs, sizes, order, out_dir, options, replace(settings, progress=None), jobs, progress, finish)
    return [results[i] for i in range(len(inputs))]


def _convert_in_processes(
    inputs: list[Path],
    sizes: list[int],
    order: list[int],
    out_dir: Path,
    options: ConversionOptions,
    settings: WriteSettings,
    jobs: int,
    progress: Progress | None,
    finish: Callable[[int, Outcome[ConvertDetail]], None],
) -> None:
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent; same on every OS
    events: Any = context.Queue()
    listener = threading.Thread(target=_relay_events, args=(events, progress, inputs, sizes), daemon=True)
    listener.start()
    try:
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(events,)) as pool:
            pending: dict[Future[Outcome[ConvertDetail]], int] = {
                pool.submit(_convert_in_worker, i, inputs[i], out_dir, options, settings): i for i in order
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        finish(pending.pop(future), future.result())
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        events.put(None)
        listener.join()


_events: Any = None  # the worker's queue of progress events


def _init_worker(events: Any) -> None:
    global _events
    _events = events


def _convert_in_worker(
    index: int, path: Path, out_dir: Path, options: ConversionOptions, settings: WriteSettings
) -> Outcome[ConvertDetail]:
    _events.put(("started", index, 0, 0))
    batch = _Batched(lambda b, f: _events.put(("advance", index, b, f)))
    result = convert_wheel(path, out_dir, options, replace(settings, progress=batch))
    batch.flush()
    return result


class _Batched:
    """Progress counts sent at most every 0.2 s (or 16 MiB), not per chunk."""

    def __init__(self, send: ProgressFn):
        self._send = send
        self._bytes = self._files = 0
        self._last = time.monotonic()

    def __call__(self, nbytes: int, nfiles: int) -> None:
        self._bytes += nbytes
        self._files += nfiles
        if self._bytes >= 16 << 20 or time.monotonic() - self._last >= 0.2:
            self.flush()

    def flush(self) -> None:
        if self._bytes or self._files:
            self._send(self._bytes, self._files)
        self._bytes = self._files = 0
        self._last = time.monotonic()


def _relay_events(events: Any, progress: Progress | None, inputs: list[Path], sizes: list[int]) -> None:
    while True:
        try:
            event = events.get()
        except (EOFError, OSError, queue.Empty):
            return
        if event is None:
            return
        kind, index, nbytes, nfiles = event
        if progress is None:
            continue
        if kind == "started":
            progress.started(inputs[index].name, sizes[index])
        else:
            progress.advance(nbytes, nfiles)


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def convert_rocm_meta(
    sdist_path: str | Path | None,
    out_dir: Path,
    options: ConversionOptions,
    *,
    version: str | None = None,
    extras: Sequence[str] = (),
    settings: WriteSettings | None = None,
) -> Outcome[ConvertDetail]:
    """Write the ``rocm`` meta package of every requested family (``gpu/rocm.py``); all of them or none."""
    started = time.monotonic()
    result = Outcome(Path(sdist_path) if sdist_path else Path(f"rocm-{version}"), ConvertDetail())
    try:
        for dist in rocm_meta_distributions(sdist_path, version=version, family=options.gpu_family, extras=extras):
            write_planned(plan_packages(dist, meta_options(dist, options)), dist, out_dir, result, settings or WriteSettings())
    except BridgeError as exc:
        discard(result, exc)
    result.seconds = time.monotonic() - started
    return result
