"""``wheel2conda convert``: wheels → conda packages (optionally published into a channel)."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import EXIT_PARTIAL, BadInput
from .args import check_verify_env, check_zstd, checked, gather, given
from .convert_options import add_conversion_arguments, add_zstd_arguments, check_inputs, non_negative, options_from, write_settings
from .output import Output, human_size
from .report import Reporter
from .verify import add_verify_options

if TYPE_CHECKING:  # the conversion stack (multiprocessing, zstandard, py-rattler) loads when a command runs
    from ..core.progress import Mode
    from ..pipelines.convert import ConvertDetail
    from ..pipelines.outcome import Outcome
    from ..plan.types import ConversionOptions
    from ..sinks.settings import WriteSettings


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
    settings = write_settings(args)
    options = options_from(args)
    if args.dry_run:
        from .inspect import report_plans

        return report_plans(out, args, inputs, options, out_dir=args.output_dir, dry_run=True)
    staging = None
    out_dir = args.output_dir
    made_channel = args.channel is not None and not args.channel.exists()  # removed again if nothing lands in it
    if out_dir is None:
        if args.channel is not None:
            from ..pipelines.convert import convert_into_channel

            staging = ExitStack()
            out_dir = staging.enter_context(convert_into_channel(args.channel))
        else:
            out_dir = Path.cwd()
    mode: Mode = "none" if (out.quiet or out.json) else (args.progress or "auto")
    reporter = Reporter(out, render)
    try:
        results = convert_inputs(args, reporter, inputs, out_dir, options, settings, mode)
        warn_unmatched_extras(out, options, results)
        produced = [o for r in results for o in r.outputs]
        if args.verify and produced and args.format != "tree":
            if not verify_before_publish(out, args, produced, args.channel):
                return EXIT_PARTIAL
        if args.channel is not None and produced:
            made_from = {o: Path(r.input) for r in results for o in r.outputs}
            publish_and_report(out, args.channel, produced, args.force, key="published", move=staging is not None, made_from=made_from)
            if staging is not None:  # report where the packages are now, not the staging folder
                for item in out.items:
                    item["output"] = str(args.channel / Path(item["output"]).relative_to(out_dir))
    finally:
        if staging is not None:
            staging.close()
        if made_channel and args.channel.is_dir() and not any(args.channel.iterdir()):
            args.channel.rmdir()
    return reporter.exit_code()


def warn_unmatched_extras(out: Output, options: ConversionOptions, results: list[Outcome[ConvertDetail]]) -> None:
    """``--extras NAME`` that no converted wheel declares: say so (a typo would otherwise pass silently)."""
    if not options.extras.names:
        return
    built = {p.provenance.extra for r in results for p in r.detail.packages}
    for name in sorted(options.extras.names - built):
        out.warn(f"--extras {name}: no wheel given declares the extra '{name}'")


def convert_inputs(
    args: argparse.Namespace,
    reporter: Reporter[ConvertDetail],
    inputs: list[Path],
    out_dir: Path,
    options: ConversionOptions,
    settings: WriteSettings,
    mode: Mode,
) -> list[Outcome[ConvertDetail]]:
    """Wheels through :func:`convert_all` (``--jobs``), ROCm's sdist and ``--rocm-meta`` here.

    Every result is reported in input order (``--rocm-meta`` last), whatever finished first.
    """
    from ..core.progress import Progress
    from ..gpu.rocm import is_rocm_sdist
    from ..pipelines.convert import convert_all, convert_rocm_meta

    finished: dict[int, Outcome[ConvertDetail]] = {}
    reported: list[Outcome[ConvertDetail]] = []

    def report_ready() -> None:
        while len(reported) in finished:
            done = finished.pop(len(reported))
            reported.append(done)
            reporter(done)

    def meta(index: int, path: Path | None, version: str | None) -> None:
        finished[index] = convert_rocm_meta(path, out_dir, options, version=version, extras=args.rocm_extra, settings=settings)

    wheels = []
    for i, path in enumerate(inputs):
        if is_rocm_sdist(path):
            meta(i, path, None)
        else:
            wheels.append(i)
    positions = iter(wheels)
    with Progress(mode=mode) as progress:

        def on_done(done: Outcome[ConvertDetail]) -> None:
            finished[next(positions)] = done
            with progress.paused():
                report_ready()

        report_ready()  # sdists given before the first wheel
        convert_all([inputs[i] for i in wheels], out_dir, options, settings, jobs=args.jobs or 0, progress=progress, on_done=on_done)
    report_ready()
    if args.rocm_meta:
        meta(len(inputs), None, args.rocm_meta)
        report_ready()
    return reported


def render(out: Output, done: Outcome[ConvertDetail]) -> list[dict[str, Any]]:
    """One line per package written (its warnings, and with -v its decisions and notes); one item each."""
    items: list[dict[str, Any]] = []
    if done.error is not None:
        return items
    for pkg, path in zip(done.detail.packages, done.outputs):
        size = path.stat().st_size if path.is_file() else 0
        out.info(f"{done.label} -> {pkg.subdir}/{path.name} ({human_size(size)}, {done.seconds:.1f} s)")
        for warning in pkg.warnings:
            out.warn(f"{done.label}: {warning}")
        for d in pkg.decisions:
            out.detail(f"  {d.requirement:40} {d.action:9} {', '.join(d.specs) or d.reason}")
        for note in pkg.notes:
            out.detail(f"  note: {note}")
        items.append(
            {
                "source": str(done.input),
                "output": str(path),
                "name": pkg.name,
                "version": pkg.version,
                "build": pkg.build,
                "build_number": pkg.build_number,
                "subdir": pkg.subdir,
                "noarch": pkg.noarch,
                "size": size,
                "seconds": round(done.seconds, 3),
                "depends": pkg.depends,
                "constrains": pkg.constrains,
                "track_features": pkg.track_features,
                "warnings": pkg.warnings,
                "notes": pkg.notes,
            }
        )
    return items
