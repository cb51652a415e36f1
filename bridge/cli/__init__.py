"""Command line: argument parsing and printing only; every command calls into the library.

Each command lives in its own module exposing ``register(subparsers, common)``; the module
adds its parser and sets ``func`` to a function ``(args, out: Output) -> int``.

Exit codes: 0 everything succeeded; 1 some items failed (others succeeded), the run was
interrupted, or an internal error; 2 bad input or usage (every item was refused).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .. import __version__
from ..errors import EXIT_PARTIAL, BridgeError
from . import channel, convert, recipes, repack, towheel, verify
from .output import Output

#: Command modules, in the order ``--help`` lists them.
COMMANDS = [convert, towheel, channel, verify, repack, recipes]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wheel2conda",
        description="Convert Python wheels (pure, binary, abi3, ROCm/CUDA) into conda packages and back, and publish local channels.",
    )
    parser.add_argument("--version", action="version", version=f"wheel2conda {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    common.add_argument("-v", "--verbose", action="store_true", help="print decisions and details")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of text")
    common.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(args.command, quiet=args.quiet, verbose=args.verbose, json=args.json)
    try:
        code = args.func(args, out)
    except BridgeError as exc:
        if args.debug:
            raise
        out.fail(exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        out.fail(BridgeError(None, "interrupted"))
        code = EXIT_PARTIAL
    except Exception as exc:  # a bug: say so briefly unless debugging
        if args.debug:
            raise
        out.fail(BridgeError(None, f"internal error: {type(exc).__name__}: {exc}", hint="run with --debug for a traceback"))
        code = EXIT_PARTIAL
    out.finish(code)
    return code
