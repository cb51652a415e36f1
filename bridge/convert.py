"""The wheel → conda pipeline: read, plan each target, write; optionally publish."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .compression import ZstdSettings
from .errors import BadInput, BridgeError
from .model import Distribution
from .plan import CondaPackage, ConversionOptions, PackageFormat, plan_packages
from .sinks.conda import ProgressFn, write_package
from .sinks.tree import write_tree
from .sources import open_distribution


@dataclass
class Converted:
    """Outcome of converting one input file."""

    source: Path
    outputs: list[Path] = field(default_factory=list)
    packages: list[CondaPackage] = field(default_factory=list)
    error: BridgeError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def expand_inputs(paths: Iterable[str | Path], suffixes: tuple[str, ...] = (".whl",)) -> list[Path]:
    """Files as given; directories contribute their files with ``suffixes`` (sorted, not recursive)."""
    result: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(suffixes))
            if not found:
                raise BadInput(path, f"directory holds no {' or '.join(suffixes)} files", hint="give the files themselves, or the directory that holds them")
            result.extend(found)
        else:
            result.append(path)
    return result


def convert_wheel(
    path: Path,
    out_dir: Path,
    options: ConversionOptions,
    fmt: PackageFormat = "conda",
    zstd: ZstdSettings | None = None,
    progress: ProgressFn | None = None,
) -> Converted:
    """Convert one wheel into one package per target, written to ``out_dir/<subdir>/``.

    Errors are captured in the result, not raised; on error no output of this wheel remains.
    """
    result = Converted(Path(path))
    try:
        with open_distribution(path) as dist:
            write_planned(plan_packages(dist, options), dist, out_dir, result, fmt, zstd, progress)
    except BridgeError as exc:
        discard(result, exc)
    return result


def write_planned(
    pkgs: Iterable[CondaPackage],
    dist: Distribution,
    out_dir: Path,
    result: Converted,
    fmt: PackageFormat = "conda",
    zstd: ZstdSettings | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Write planned packages of one distribution into ``<out_dir>/<subdir>/``, recording each in ``result``.

    Per-subdir folders: packages of different subdirs often share a file name.
    """
    for pkg in pkgs:
        target_dir = Path(out_dir) / pkg.subdir
        if fmt == "tree":
            out = write_tree(pkg, dist, target_dir)
        else:
            out = write_package(pkg, dist, target_dir, fmt, zstd, progress)
        result.outputs.append(out)
        result.packages.append(pkg)


def discard(result: Converted, error: BridgeError) -> None:
    """Record ``error`` and remove what ``result`` wrote: all packages of an input, or none."""
    result.error = error
    for out in result.outputs:
        _remove(out)
    result.outputs.clear()


def plan_wheel(path: Path, options: ConversionOptions) -> list[CondaPackage]:
    """Plans only (for ``inspect`` and ``--dry-run``): nothing is written."""
    with open_distribution(path) as dist:
        return plan_packages(dist, options)


def convert_all(
    paths: Iterable[Path],
    out_dir: Path,
    options: ConversionOptions,
    fmt: PackageFormat = "conda",
    zstd: ZstdSettings | None = None,
    on_done: Callable[[Converted], object] | None = None,
) -> Iterator[Converted]:
    for path in paths:
        done = convert_wheel(path, out_dir, options, fmt, zstd)
        if on_done:
            on_done(done)
        yield done


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()
