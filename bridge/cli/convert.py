"""``wheel2conda convert``: wheels → conda packages (optionally published into a channel)."""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import EXIT_PARTIAL, BadInput, BridgeError
from ..sinks.zstd_levels import DEFAULT_LEVEL, MAX_WINDOW_LOG, MIN_WINDOW_LOG, RELEASE_LEVEL, SHORT_WINDOW_LOG
from .args import check_verify_env, check_zstd, checked, gather, given
from .output import Output, exit_code_for, human_size
from .verify import add_verify_options

if TYPE_CHECKING:  # the conversion stack (multiprocessing, zstandard, py-rattler) loads when a command runs
    from ..sinks.compression import ZstdSettings
    from ..pipelines.convert import Converted
    from ..plan.wheel_to_conda import ConversionOptions, ExtrasChoice
    from ..core.progress import Mode


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "convert",
        parents=[common],
        help="convert wheels into conda packages",
        description=(
            "Convert wheels (files, or folders holding them) into conda packages. "
            "ROCm's rocm-V.tar.gz sdist becomes one rocm meta package per GPU family. "
            "Conda packages are not converted again: 'publish' adds them to a channel."
        ),
    )
    p.add_argument("inputs", nargs="*", metavar="WHEEL|ROCM_SDIST|DIR")
    p.add_argument("-o", "--output-dir", type=Path, help="where packages are written (default: current directory; with --channel: straight into the channel)")
    p.add_argument("--format", choices=["conda", "tar.bz2", "tree"], default="conda", help="package format (default: conda)")
    p.add_argument("--channel", type=Path, help="publish the packages into this local channel")
    p.add_argument("--force", action="store_true", help="with --channel: replace a published file whose bytes differ")
    p.add_argument("--dry-run", action="store_true", help="write nothing: print the plan of every package, as 'wheel2conda inspect' does")
    add_conversion_arguments(p)
    add_zstd_arguments(p)
    p.add_argument("-j", "--jobs", type=non_negative, help="wheels converted at once, each in its own process (default: 0 = one per core, at most one per wheel and per 64 MiB of payload)")
    p.add_argument("--progress", choices=["auto", "bar", "lines", "none"], help="progress display on stderr (default: a bar on a terminal, else a line per wheel and every 30 s; none with -q or --json)")
    add_verify_options(p, flag=True)  # --verify (issue 10)
    p.set_defaults(func=checked(run), usage_error=p.error)


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
    g.add_argument("--release", action="store_true", help=f"smallest packages for publishing: zstd level {RELEASE_LEVEL} (40-50x the CPU time of the default)")
    g.add_argument("--zstd-threads", type=non_negative, help="compression threads per job (default: 0 = the cores shared out between jobs); the output does not depend on it")
    g.add_argument(
        "--zstd-window-log",
        type=int,
        default=None,
        help=f"force the zstd window log, {MIN_WINDOW_LOG}..{MAX_WINDOW_LOG} (default: chosen per package: {SHORT_WINDOW_LOG} = 8 MiB, or up to {MAX_WINDOW_LOG} where a trial pass shows the longer window saves >= 3 %%); installers need about 2**N bytes to unpack",
    )


def extras_choice(text: str) -> ExtrasChoice:
    from ..plan.wheel_to_conda import ExtrasChoice

    try:
        return ExtrasChoice.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def zstd_settings(args: argparse.Namespace) -> ZstdSettings:
    from ..sinks.compression import ZstdSettings

    level = args.zstd_level if args.zstd_level is not None else (RELEASE_LEVEL if args.release else DEFAULT_LEVEL)
    threads = args.zstd_threads if args.zstd_threads is not None else 0
    try:
        return ZstdSettings(level=level, threads=threads, window_log=args.zstd_window_log)
    except ValueError as exc:
        raise BridgeError(None, str(exc)) from None


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
    from ..plan.links import LinkOptions
    from ..model.conda import conda_name_problem
    from ..plan.wheel_to_conda import ALL_EXTRAS, ConversionOptions
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


def check_options(args: argparse.Namespace) -> None:
    """Refuse combinations that contradict each other or would do nothing (one line naming both)."""
    check_zstd(args, args.format)
    if args.force and args.channel is None:
        raise BadInput(None, "--force has no effect without --channel (it replaces a file published in a channel)", hint="add --channel CHANNEL, or drop --force")
    if args.dry_run:
        for dest, option in (("verify", "--verify"), ("force", "--force")):
            if given(args, dest):
                raise BadInput(None, f"--dry-run and {option} contradict each other (--dry-run writes and publishes nothing)", hint="give one of them")
        for dest, option in (("jobs", "--jobs"), ("progress", "--progress"), ("zstd_level", "--zstd-level"), ("release", "--release"), ("zstd_threads", "--zstd-threads"), ("zstd_window_log", "--zstd-window-log")):
            if given(args, dest):
                raise BadInput(None, f"{option} has no effect with --dry-run (nothing is compressed or written)", hint=f"drop {option}, or --dry-run")
    for dest, option in (("quiet", "-q/--quiet"), ("json", "--json")):
        if getattr(args, dest, False) and args.progress not in (None, "none"):
            raise BadInput(None, f"{option} and --progress {args.progress} contradict each other ({option} prints no progress)", hint="give one of them")
    if args.verify and args.format == "tree":
        raise BadInput(None, "--verify has no effect with --format tree (a tree cannot be installed)", hint="use --format conda or tar.bz2")
    if args.channel is not None and args.format == "tree":
        raise BadInput(None, "--channel and --format tree contradict each other (a tree cannot be published)", hint="use --format conda or tar.bz2")
    check_verify_env(args, enabled=args.verify and not args.dry_run)


def check_inputs(args: argparse.Namespace, inputs: list[Path]) -> None:
    """Options that apply to some inputs only: ``--name`` (one distribution), ``--rocm-extra`` (rocm)."""
    from .inputs import kind_of

    wheels = [p for p in inputs if kind_of(p) == "wheel"]
    if args.name and len(wheels) > 1:
        shown = ", ".join(p.name for p in wheels[:3]) + (", ..." if len(wheels) > 3 else "")
        raise BadInput(None, f"--name names one distribution's package, but {len(wheels)} wheels were given ({shown})", hint="convert them one at a time, or drop --name")
    if getattr(args, "rocm_extra", None) and not (args.rocm_meta or any(kind_of(p) == "rocm-sdist" for p in inputs)):
        raise BadInput(None, "--rocm-extra has no effect without the rocm sdist or --rocm-meta", hint="give rocm-VERSION.tar.gz or --rocm-meta VERSION, or drop --rocm-extra")


def collect_inputs(args: argparse.Namespace, out: Output) -> list[Path]:
    """Wheels and ROCm's meta sdist, from files and folders (others in folders are skipped with a warning)."""
    inputs = gather(out, args.inputs, ("wheel", "rocm-sdist"), what="wheels", noun="wheel").files
    check_inputs(args, inputs)
    return inputs


def run(args: argparse.Namespace, out: Output) -> int:

    from .channel import publish_and_report
    from .verify import verify_before_publish

    check_options(args)
    if not args.inputs and not args.rocm_meta:
        args.usage_error("give wheels, directories or the rocm sdist (or --rocm-meta VERSION)")
    inputs = collect_inputs(args, out)
    zstd = zstd_settings(args)
    options = options_from(args)
    if args.dry_run:
        from .inspect import report_plans  # imports this module

        return report_plans(out, args, inputs, options, out_dir=args.output_dir, dry_run=True)
    staging = None
    out_dir = args.output_dir
    made_channel = args.channel is not None and not args.channel.exists()  # removed again if nothing lands in it
    if out_dir is None:
        if args.channel is not None:
            args.channel.mkdir(parents=True, exist_ok=True)
            from ..core.fsutil import staging_dir

            staging = ExitStack()
            out_dir = staging.enter_context(staging_dir(args.channel))
        else:
            out_dir = Path.cwd()
    mode: Mode = "none" if (out.quiet or out.json) else (args.progress or "auto")
    try:
        results = convert_inputs(args, out, inputs, out_dir, options, zstd, mode)
        warn_unmatched_extras(out, options, results)
        produced = [o for r in results for o in r.outputs]
        if args.verify and produced and args.format != "tree":
            if not verify_before_publish(out, args, produced, args.channel):
                return EXIT_PARTIAL
        if args.channel is not None and produced:
            made_from = {o: r.source for r in results for o in r.outputs}
            publish_and_report(out, args.channel, produced, args.force, key="published", move=staging is not None, made_from=made_from)
            if staging is not None:  # report where the packages are now, not the staging folder
                for item in out.items:
                    item["output"] = str(args.channel / Path(item["output"]).relative_to(out_dir))
    finally:
        if staging is not None:
            staging.close()
        if made_channel and args.channel.is_dir() and not any(args.channel.iterdir()):
            args.channel.rmdir()
    return exit_code_for([r.error for r in results])


def warn_unmatched_extras(out: Output, options: ConversionOptions, results: list[Converted]) -> None:
    """``--extras NAME`` that no converted wheel declares: say so (a typo would otherwise pass silently)."""
    if not options.extras.names:
        return
    built = {p.about.get("extra", {}).get("wheel2conda", {}).get("extra") for r in results for p in r.packages}
    for name in sorted(options.extras.names - built):
        out.warn(f"--extras {name}: no wheel given declares the extra '{name}'")


def convert_inputs(
    args: argparse.Namespace, out: Output, inputs: list[Path], out_dir: Path, options: ConversionOptions, zstd: ZstdSettings, mode: Mode
) -> list[Converted]:
    """Wheels through :func:`convert_all` (``--jobs``), ROCm's sdist and ``--rocm-meta`` here.

    Every result is reported in input order (``--rocm-meta`` last), whatever finished first.
    """
    from ..pipelines.convert import convert_all
    from ..gpu.rocm import convert_rocm_meta, is_rocm_sdist
    from ..core.progress import Progress

    finished: dict[int, tuple[Converted, float]] = {}
    reported: list[Converted] = []

    def report_ready() -> None:
        while len(reported) in finished:
            done, seconds = finished.pop(len(reported))
            reported.append(done)
            report(out, done, seconds)

    def meta(index: int, path: Path | None, version: str | None) -> None:
        started = time.monotonic()
        done = convert_rocm_meta(path, out_dir, options, version=version, extras=args.rocm_extra, fmt=args.format, zstd=zstd)
        finished[index] = (done, time.monotonic() - started)

    wheels = []
    for i, path in enumerate(inputs):
        if is_rocm_sdist(path):
            meta(i, path, None)
        else:
            wheels.append(i)
    positions = iter(wheels)
    with Progress(mode=mode) as progress:

        def on_done(done: Converted, seconds: float) -> None:
            finished[next(positions)] = (done, seconds)
            with progress.paused():
                report_ready()

        report_ready()  # sdists given before the first wheel
        convert_all([inputs[i] for i in wheels], out_dir, options, args.format, zstd, jobs=args.jobs or 0, progress=progress, on_done=on_done)
    report_ready()
    if args.rocm_meta:
        meta(len(inputs), None, args.rocm_meta)
        report_ready()
    return reported


def report(out: Output, done: Converted, seconds: float) -> None:
    if done.error is not None:
        out.fail(done.error)
        return
    for pkg, path in zip(done.packages, done.outputs):
        size = path.stat().st_size if path.is_file() else 0
        out.info(f"{done.source.name} -> {pkg.subdir}/{path.name} ({human_size(size)}, {seconds:.1f} s)")
        for warning in pkg.warnings:
            out.warn(f"{done.source.name}: {warning}")
        for d in pkg.decisions:
            out.detail(f"  {d.requirement:40} {d.action:9} {', '.join(d.specs) or d.reason}")
        for note in pkg.notes:
            out.detail(f"  note: {note}")
        out.item(
            {
                "source": str(done.source),
                "output": str(path),
                "name": pkg.name,
                "version": pkg.version,
                "build": pkg.build,
                "build_number": pkg.build_number,
                "subdir": pkg.subdir,
                "noarch": pkg.noarch,
                "size": size,
                "seconds": round(seconds, 3),
                "depends": pkg.depends,
                "constrains": pkg.constrains,
                "track_features": pkg.track_features,
                "warnings": pkg.warnings,
                "notes": pkg.notes,
            }
        )
