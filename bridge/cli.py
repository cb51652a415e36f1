"""Command line: argument parsing and printing only; each command calls into the library.

Exit codes: 0 everything succeeded; 1 some items failed (others succeeded) or the run was
interrupted; 2 bad input or usage (every item was refused).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .compression import DEFAULT_LEVEL, MAX_WINDOW_LOG, ZstdSettings
from .convert import Converted, convert_wheel, expand_inputs
from .errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL, BridgeError
from .plan import ConversionOptions
from .translate.names import NameMap


class Console:
    """Human output on stdout, errors on stderr; ``-q`` silences progress lines."""

    def __init__(self, quiet: bool = False, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose

    def info(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def detail(self, text: str) -> None:
        if self.verbose and not self.quiet:
            print(text, flush=True)

    def warn(self, text: str) -> None:
        print(f"wheel2conda: warning: {text}", file=sys.stderr, flush=True)

    def error(self, text: str) -> None:
        print(f"wheel2conda: error: {text}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wheel2conda", description="Convert Python wheels to conda packages and publish local channels.")
    parser.add_argument("--version", action="version", version=f"wheel2conda {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    common.add_argument("-v", "--verbose", action="store_true", help="print decisions and warnings in detail")
    common.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("convert", parents=[common], help="convert wheels into conda packages", description="Convert wheels (files or directories of .whl) into conda packages.")
    p.add_argument("inputs", nargs="+", metavar="WHEEL|DIR")
    p.add_argument("-o", "--output-dir", type=Path, help="where packages are written (default: current directory; with --channel: straight into the channel)")
    p.add_argument("--format", choices=["conda", "tar.bz2", "tree"], default="conda", help="package format (default: conda)")
    p.add_argument("--build-number", type=_non_negative, help="build number (default: the wheel's build tag, else 0)")
    p.add_argument("--channel", type=Path, help="publish the packages into this local channel")
    p.add_argument("--force", action="store_true", help="with --channel: replace a published file whose bytes differ")
    p.add_argument("--subdir", action="append", default=[], help="only build this conda subdir (repeatable; e.g. osx-arm64 of a universal2 wheel)")
    p.add_argument("--python", action="append", default=[], metavar="X.Y", help="only build for this Python (repeatable; for multi-ABI tag sets)")
    p.add_argument("--name", help="conda package name (default: the PyPI name, normalised)")
    p.add_argument("--name-map", choices=["pypi", "conda-forge"], default="pypi", help="dependency names: keep PyPI names (default) or use conda-forge's")
    p.add_argument("--name-overrides", type=Path, metavar="YAML", help="extra PyPI → conda name mappings")
    p.add_argument("--depends", action="append", default=[], metavar="SPEC", help="add a run dependency (repeatable)")
    _zstd_arguments(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("publish", parents=[common], help="add conda packages to a local channel", description="Copy conda packages into a local channel and update its repodata.")
    p.add_argument("packages", nargs="+", metavar="PKG|DIR")
    p.add_argument("--channel", type=Path, required=True)
    p.add_argument("--force", action="store_true", help="replace a published file whose bytes differ")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("index", parents=[common], help="rewrite a local channel's repodata", description="Write repodata.json for every subdir of a local channel (and always noarch).")
    p.add_argument("channel", type=Path)
    p.set_defaults(func=cmd_index)
    return parser


def _zstd_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--zstd-level", type=int, default=DEFAULT_LEVEL, help=f"zstd level 1-22 for .conda (default: {DEFAULT_LEVEL})")
    p.add_argument("--zstd-threads", type=_non_negative, default=0, help="compression threads (default: 0 = all cores)")
    p.add_argument("--zstd-window-log", type=int, default=MAX_WINDOW_LOG, help=f"long-distance window log, at most {MAX_WINDOW_LOG} (default: {MAX_WINDOW_LOG})")


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def cmd_convert(args: argparse.Namespace, console: Console) -> int:
    try:
        zstd = ZstdSettings(level=args.zstd_level, threads=args.zstd_threads, window_log=args.zstd_window_log)
    except ValueError as exc:
        raise BridgeError(None, str(exc)) from None
    options = ConversionOptions(
        build_number=args.build_number,
        names=NameMap.create(args.name_map, args.name_overrides),
        subdirs=tuple(args.subdir),
        pythons=tuple(args.python),
        extra_depends=tuple(args.depends),
        name=args.name,
    )
    inputs = expand_inputs(args.inputs)
    if args.channel is not None and args.format == "tree":
        raise BridgeError(None, "--format tree cannot be published; use conda or tar.bz2")
    staging = None
    out_dir = args.output_dir
    if out_dir is None:
        if args.channel is not None:
            staging = tempfile.TemporaryDirectory(prefix=".w2c-stage-", dir=_ensure_dir(args.channel))
            out_dir = Path(staging.name)
        else:
            out_dir = Path.cwd()
    try:
        results: list[Converted] = []
        for path in inputs:
            started = time.monotonic()
            done = convert_wheel(path, out_dir, options, args.format, zstd)
            results.append(done)
            _report_conversion(console, done, time.monotonic() - started)
        produced = [o for r in results for o in r.outputs]
        if args.channel is not None and produced:
            _publish(console, args.channel, produced, args.force)
    finally:
        if staging is not None:
            staging.cleanup()
    return _exit_code([r.error for r in results])


def _report_conversion(console: Console, done: Converted, seconds: float) -> None:
    if done.error is not None:
        console.error(done.error.one_line())
        return
    for pkg, out in zip(done.packages, done.outputs):
        size = out.stat().st_size if out.is_file() else 0
        console.info(f"{done.source.name} -> {pkg.subdir}/{out.name} ({_human(size)}, {seconds:.1f} s)")
        for warning in pkg.warnings:
            console.warn(f"{done.source.name}: {warning}")
        for decision in pkg.decisions:
            console.detail(f"  {decision.requirement!s:40} {decision.action:11} {' '.join(decision.specs) or decision.reason}")


def cmd_publish(args: argparse.Namespace, console: Console) -> int:
    packages = expand_inputs(args.packages, (".conda", ".tar.bz2"))
    _publish(console, args.channel, packages, args.force)
    return EXIT_OK


def _publish(console: Console, channel: Path, packages: list[Path], force: bool) -> None:
    from .channel.publish import publish

    for item in publish(channel, packages, force=force):
        console.info(f"{item.status:9} {item.path.relative_to(channel)}")


def cmd_index(args: argparse.Namespace, console: Console) -> int:
    from .channel.index import index_channel

    for path in index_channel(args.channel):
        console.info(f"wrote {path}")
    return EXIT_OK


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _exit_code(errors: Sequence[BridgeError | None]) -> int:
    failed = [e for e in errors if e is not None]
    if not failed:
        return EXIT_OK
    if len(failed) == len(errors):
        return max(e.exit_code for e in failed)
    return EXIT_PARTIAL


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(args.quiet, args.verbose)
    try:
        return args.func(args, console)
    except BridgeError as exc:
        if args.debug:
            raise
        console.error(exc.one_line())
        return exc.exit_code
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_PARTIAL
    except Exception as exc:  # a bug: say so briefly unless debugging
        if args.debug:
            raise
        console.error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)")
        return EXIT_PARTIAL
