"""``wheel2conda to-wheel``: conda packages → wheels."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import BridgeError
from .args import checked, gather
from .convert_options import non_negative
from .output import Output, human_size
from .report import Reporter

if TYPE_CHECKING:  # the library loads when a command runs, not for --help (start-up: issue 15)
    from ..pipelines.outcome import Outcome
    from ..pipelines.to_wheel import ToWheelOptions, WheelDetail
    from ..sinks.settings import WriteSettings


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "to-wheel",
        parents=[common],
        help="convert conda packages into wheels",
        description=(
            "Convert conda packages into wheels that pip installs: package files, or folders holding them "
            "(a channel, or what 'convert -o' wrote; their <subdir>/ folders are read). "
            "Of a folder, the newest build of each package (by version, then build number) is converted."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="PKG|CHANNEL|DIR")
    p.add_argument("-o", "--output-dir", type=Path, default=None, help="where wheels are written (default: current directory)")
    p.add_argument("--data-only", action="store_true", help="allow packages with nothing in site-packages (their files install under the environment prefix)")
    p.add_argument("--keep-placeholders", action="store_true", help="ship files that carry a prefix placeholder unchanged instead of refusing them")
    p.add_argument("--glibc", type=glibc_version, metavar="X.Y", help="manylinux floor for Linux packages that do not depend on __glibc (default: tag linux_<arch>)")
    p.add_argument("--compression", choices=["deflate", "zstd"], default="deflate", help="member compression; zstd only for wheels that need Python 3.14+ (default: deflate)")
    p.add_argument("--level", type=int, help="compression level (deflate 1-9, default 6; zstd 1-22, default 10)")
    p.add_argument("--threads", type=non_negative, default=0, help="compression threads (default: 0 = all cores); output does not depend on it")
    p.add_argument("--name-map", choices=["pypi", "conda-forge"], default="pypi", help="map dependency names back from conda-forge's (default: names kept)")
    p.add_argument("--name-overrides", type=Path, metavar="YAML", help="extra PyPI → conda name mappings (used in reverse)")
    p.add_argument("--variant", action="store_true", help="DRAFT PEP 825: add a wheel-variant label to the file name and write variant.json")
    p.add_argument("--variant-label", help="with --variant: the label (default: derived from the build string)")
    p.add_argument("--variant-property", action="append", default=[], metavar="'NS :: FEATURE :: VALUE'", help="with --variant: add a property (repeatable)")
    p.set_defaults(func=checked(run))


def glibc_version(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError("expected X.Y, e.g. 2.28")
    return int(m.group(1)), int(m.group(2))


def write_settings(args: argparse.Namespace) -> WriteSettings:
    """``--compression``, ``--level``, ``--threads``."""
    from ..sinks.settings import WheelCompression, WriteSettings

    try:
        return WriteSettings(wheel_compression=WheelCompression(args.compression, args.level, args.threads))
    except ValueError as exc:
        raise BridgeError(None, str(exc)) from None


def options_from(args: argparse.Namespace) -> ToWheelOptions:
    from ..pipelines.to_wheel import ToWheelOptions
    from ..translate.names import NameMap, NameMapError

    if (args.variant_label or args.variant_property) and not args.variant:
        raise BridgeError(None, "--variant-label and --variant-property need --variant")
    try:
        names = NameMap.create(args.name_map, args.name_overrides)
    except NameMapError as exc:
        raise BridgeError(args.name_overrides, str(exc)) from None
    return ToWheelOptions(
        names=names,
        glibc=args.glibc,
        data_only=args.data_only,
        keep_placeholders=args.keep_placeholders,
        variant=args.variant,
        variant_label=args.variant_label,
        variant_properties=tuple(args.variant_property),
    )


def run(args: argparse.Namespace, out: Output) -> int:
    from ..pipelines.to_wheel import convert_to_wheel, fold_extras

    settings = write_settings(args)
    options = options_from(args)
    out_dir = args.output_dir or Path.cwd()
    reporter = Reporter(out, render)
    results: list[Outcome[WheelDetail]] = []
    for path in packages_to_convert(args, out):
        done = convert_to_wheel(path, out_dir, options, settings)
        results.append(done)
        if done.detail.extra_of is None:
            reporter(done)
    fold_extras(results)  # extras packages are reported last: where each extra went is known now
    for done in results:
        if done.detail.extra_of is not None:
            reporter(done)
    return reporter.exit_code()


def packages_to_convert(args: argparse.Namespace, out: Output) -> list[Path]:
    """Files as given; of each folder, the newest build of each package name per subdir."""
    from ..channel.newest import newest_builds

    inputs = gather(out, args.inputs, ("conda",), what="conda packages", noun="conda package")
    named = {Path(raw) for raw in args.inputs if not Path(raw).is_dir()}
    chosen: list[Path] = [*named]
    for folder in inputs.folders:
        newest = newest_builds(folder.files)
        older = len(folder.files) - len(newest)
        if older:
            out.info(f"{folder.path}: converting the newest build of each package: {len(newest)} of {len(folder.files)} (-v lists the others)")
            for path in folder.files:
                if path not in newest:
                    out.detail(f"  older build, not converted: {path}")
        chosen += newest
    keep = set(chosen)
    return list(dict.fromkeys(f for f in inputs.files if f in keep))


def render(out: Output, done: Outcome[WheelDetail]) -> list[dict[str, Any]]:
    """The wheel written, or why none was (an extras package); its warnings; with -v its decisions."""
    detail = done.detail
    if done.error is not None:
        return []
    if detail.skipped is not None:
        out.info(f"{done.label}: skipped: {detail.skipped}")
        for warning in done.warnings:
            out.warn(f"{done.label}: {warning}")
        return [{"source": str(done.input), "skipped": detail.skipped, "folded_into": str(detail.folded_into) if detail.folded_into else None, "warnings": done.warnings}]
    (wheel,) = done.outputs
    size = wheel.stat().st_size
    out.info(f"{done.label} -> {wheel.name} ({human_size(size)}, {done.seconds:.1f} s)")
    for warning in done.warnings:
        out.warn(f"{done.label}: {warning}")
    for d in detail.decisions:
        out.detail(f"  {d.spec:40} {d.action:8} {d.requirement or d.reason}")
    return [
        {
            "source": str(done.input),
            "output": str(wheel),
            "name": detail.name,
            "version": detail.version,
            "tags": detail.tags,
            "size": size,
            "seconds": round(done.seconds, 3),
            "requires_dist": [d.requirement for d in detail.decisions if d.action == "kept"],
            "warnings": done.warnings,
        }
    ]
