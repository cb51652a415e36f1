"""The options that shape conversions, shared by ``convert``, ``convert --dry-run``/``inspect``,
``repack --to conda``, ``to-wheel`` and ``recipes build``: arguments, their checks, and
:class:`~bridge.plan.types.ConversionOptions`/:class:`~bridge.sinks.settings.WriteSettings` from them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import BadInput, BridgeError
from ..sinks.zstd_levels import DEFAULT_LEVEL, MAX_WINDOW_LOG, MIN_WINDOW_LOG, RELEASE_LEVEL, SHORT_WINDOW_LOG

if TYPE_CHECKING:  # the conversion stack loads when a command runs, not for --help (start-up: issue 15)
    from ..plan.types import ConversionOptions, ExtrasChoice
    from ..sinks.settings import WriteSettings


def add_conversion_arguments(p: argparse.ArgumentParser, *, inputs_are_wheels: bool = True) -> None:
    """What shapes the packages (shared by ``convert``, ``inspect`` and ``repack --to conda``).

    ``inputs_are_wheels=False`` (repack) leaves out ``--python X.Y`` (repack's ``--python`` names
    an interpreter) and the rocm meta-package options.
    """
    p.add_argument("--build-number", type=non_negative, help="build number (default: the wheel's build tag, else 0)")
    p.add_argument("--subdir", action="append", default=[], help="only build this conda subdir (repeatable; e.g. osx-arm64 of a universal2 wheel)")
    if inputs_are_wheels:
        p.add_argument("--python", dest="pythons", action="append", default=[], metavar="X.Y", help="only build for this Python (repeatable; for multi-ABI tag sets)")
    p.add_argument("--name", help="conda package name of the one distribution given (default: the PyPI name, normalised)")
    p.add_argument("--name-map", choices=["pypi", "conda-forge"], help="dependency names: keep PyPI names (default) or use conda-forge's")
    p.add_argument("--name-overrides", type=Path, metavar="YAML", help="extra PyPI → conda name mappings")
    p.add_argument("--depends", action="append", default=[], metavar="SPEC", help="add a run dependency (repeatable)")
    gpu = p.add_argument_group("GPU variants (docs/gpu.md)")
    gpu.add_argument("--gpu-family", metavar="FAMILY", help="ROCm GPU family of family-specific packages (gfx103X, gfx110X-all, ...)")
    gpu.add_argument("--index-url", metavar="URL", help="index the wheels came from; a family in its path (.../gfx103X-dgpu/) sets --gpu-family")
    if inputs_are_wheels:
        gpu.add_argument("--rocm-meta", metavar="VERSION", help="also build the rocm meta package VERSION for --gpu-family, without the sdist")
        gpu.add_argument("--rocm-extra", action="append", default=[], metavar="EXTRA", help="put rocm's EXTRA (devel, ...) into the rocm meta packages (repeatable)")
    p.add_argument(
        "--extras",
        type=extras_choice,
        metavar="all|none|NAME,...",
        help="which of a wheel's extras become <name>-with-<extra> packages, what 'pip install name[extra]' means in conda (default: all; README 'Extras')",
    )
    links = p.add_argument_group("symlinks (linux-* and osx-* packages only; never win-* or noarch; docs/symlinks.md)")
    links.add_argument("--no-dedup", dest="dedup", action="store_false", help="keep identical files of a library alias chain (libX.so, libX.so.1, ...) as copies instead of one file plus links")
    links.add_argument("--soname-links", action="store_true", help="add libX.so -> libX.so.N links for shared libraries shipped only under their ELF SONAME (linux-*)")
    links.add_argument("--no-expand-devel", dest="expand_devel", action="store_false", help="keep rocm-sdk-devel's _devel.tar for rocm_sdk to expand on first use, instead of expanding it (with its symlinks) now")


def add_zstd_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("compression (.conda; docs/performance.md)")
    g.add_argument("--zstd-level", type=int, default=None, help=f"zstd level 1-22 (default: {DEFAULT_LEVEL}; {RELEASE_LEVEL} with --release)")
    g.add_argument("--release", action="store_true", help=f"smallest packages for publishing: zstd level {RELEASE_LEVEL} (12-17x the CPU time of the default)")
    g.add_argument("--zstd-threads", type=non_negative, help="compression threads per job (default: 0 = the cores shared out between jobs); the output does not depend on it")
    g.add_argument(
        "--zstd-window-log",
        type=int,
        default=None,
        help=f"force the zstd window log, {MIN_WINDOW_LOG}..{MAX_WINDOW_LOG} (default: chosen per package: {SHORT_WINDOW_LOG} = 8 MiB, or up to {MAX_WINDOW_LOG} where a trial pass shows the longer window saves >= 3 %%); installers need about 2**N bytes to unpack",
    )


def extras_choice(text: str) -> ExtrasChoice:
    from ..plan.types import ExtrasChoice

    try:
        return ExtrasChoice.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def write_settings(args: argparse.Namespace) -> WriteSettings:
    """``--format`` and the ``--zstd-*``/``--release`` options as one :class:`WriteSettings`."""
    from ..sinks.compression import ZstdSettings
    from ..sinks.settings import WriteSettings

    level = args.zstd_level if args.zstd_level is not None else (RELEASE_LEVEL if args.release else DEFAULT_LEVEL)
    threads = args.zstd_threads if args.zstd_threads is not None else 0
    try:
        zstd = ZstdSettings(level=level, threads=threads, window_log=args.zstd_window_log)
    except ValueError as exc:
        raise BridgeError(None, str(exc)) from None
    return WriteSettings(args.format or "conda", zstd)


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def checked_specs(specs: list[str]) -> tuple[str, ...]:
    """``--depends`` values, refused unless they parse as conda MatchSpecs (rattler's parser)."""
    from rattler import MatchSpec
    from rattler.exceptions import InvalidMatchSpecError

    for spec in specs:
        try:
            MatchSpec(spec)
        except InvalidMatchSpecError as exc:
            raise BridgeError(None, f"--depends {spec!r} is not a conda match spec ({exc})", hint="write it like 'numpy >=1.26' or 'libfoo 2.* *cuda*'") from None
    return tuple(specs)


def options_from(args: argparse.Namespace) -> ConversionOptions:
    from ..model.conda import conda_name_problem
    from ..plan.types import ALL_EXTRAS, ConversionOptions, LinkOptions
    from ..translate.names import NameMap, NameMapError
    from ..translate.variants import FamilyError, choose_family

    try:
        names = NameMap.create(args.name_map or "pypi", args.name_overrides)
    except NameMapError as exc:
        raise BridgeError(args.name_overrides, str(exc)) from None
    try:
        family = choose_family(args.gpu_family, args.index_url)
    except FamilyError as exc:
        raise BridgeError(None, str(exc)) from None
    if args.name is not None and (problem := conda_name_problem(args.name)):
        raise BridgeError(None, f"--name: {problem}", hint="a conda name is lower case letters, digits, '.', '-' and '_'")
    return ConversionOptions(
        build_number=args.build_number,
        names=names,
        subdirs=tuple(args.subdir),
        pythons=tuple(getattr(args, "pythons", ())),
        extra_depends=checked_specs(args.depends),
        name=args.name,
        gpu_family=family,
        extras=args.extras if args.extras is not None else ALL_EXTRAS,
        links=LinkOptions(dedup=args.dedup, soname_links=args.soname_links, expand_devel=args.expand_devel),
    )


def check_inputs(args: argparse.Namespace, inputs: list[Path]) -> None:
    """Options that apply to some inputs only: ``--name`` (one distribution), ``--rocm-extra`` (rocm)."""
    from .inputs import kind_of

    wheels = [p for p in inputs if kind_of(p) == "wheel"]
    if args.name and len(wheels) > 1:
        shown = ", ".join(p.name for p in wheels[:3]) + (", ..." if len(wheels) > 3 else "")
        raise BadInput(None, f"--name names one distribution's package, but {len(wheels)} wheels were given ({shown})", hint="convert them one at a time, or drop --name")
    if getattr(args, "rocm_extra", None) and not (args.rocm_meta or any(kind_of(p) == "rocm-sdist" for p in inputs)):
        raise BadInput(None, "--rocm-extra has no effect without the rocm sdist or --rocm-meta", hint="give rocm-VERSION.tar.gz or --rocm-meta VERSION, or drop --rocm-extra")
