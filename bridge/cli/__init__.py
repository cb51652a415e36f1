"""Command line: argument parsing and printing only; every command calls into the library.

Each command lives in its own module exposing ``register(subparsers, common)``; the module
adds its parser and sets ``func`` to a function ``(args, out: Output) -> int``.

Exit codes (``docs/json.md``): 0 everything succeeded; 1 some items failed (others
succeeded), the run was interrupted or could not write, or an internal error; 2 bad input or
usage (every item was refused).
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from ..errors import EXIT_BAD_INPUT, EXIT_PARTIAL, BridgeError
from . import channel, convert, inspect, recipes, repack, towheel, verify
from .output import Output

#: Command modules, in the order ``--help`` lists them.
COMMANDS = [inspect, convert, towheel, channel, verify, repack, recipes]

EPILOG = (
    "exit codes: 0 ok; 1 some items failed, interrupted or an I/O error; 2 bad input or usage. "
    "--json prints one document on stdout (schemas: docs/json.md)."
)


class UsageError(Exception):
    """A command line argparse refuses; reported by :func:`main` (also in the ``--json`` document)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def common_options() -> argparse.ArgumentParser:
    """``-q -v --json --debug``, accepted before and after the command.

    Defaults are suppressed so that a flag given at one level is not reset by the other.
    """
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    common.add_argument("-v", "--verbose", action="store_true", help="print decisions and details")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of text (docs/json.md)")
    common.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    return common


def build_parser(prog: str = "wheel2conda") -> argparse.ArgumentParser:
    common = common_options()
    parser = _Parser(
        prog=prog,
        description="Convert Python wheels (pure, binary, abi3, ROCm/CUDA) into conda packages and back, and publish local channels.",
        epilog=EPILOG,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"wheel2conda {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "wheel2conda") -> int:
    """Run one command; returns its exit code (usage errors raise ``SystemExit(2)``, as argparse does).

    ``prog`` is how usage lines name the tool (``conda wheel2conda`` from the conda plugin).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        command = next((a for a in argv if not a.startswith("-")), parser.prog)
        _usage_failure(exc, Output(command, json="--json" in argv))
    out = Output(
        args.command,
        quiet=getattr(args, "quiet", False),
        verbose=getattr(args, "verbose", False),
        json=getattr(args, "json", False),
    )
    debug = getattr(args, "debug", False)
    try:
        code = args.func(args, out)
    except UsageError as exc:
        _usage_failure(exc, out)
    except BridgeError as exc:
        if debug:
            raise
        out.fail(exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        out.fail(BridgeError(None, "interrupted", hint="nothing half-written is left; run the command again"))
        code = EXIT_PARTIAL
    except OSError as exc:  # the environment, not the input: a full disk, a read-only directory
        if debug:
            raise
        out.fail(BridgeError(exc.filename, exc.strerror or str(exc), hint=_os_hint(exc)))
        code = EXIT_PARTIAL
    except Exception as exc:  # a bug: say so briefly unless debugging
        if debug:
            raise
        out.fail(BridgeError(None, f"internal error: {type(exc).__name__}: {exc}", hint="run with --debug for a traceback and report it"))
        code = EXIT_PARTIAL
    out.finish(code)
    return code


def _usage_failure(exc: UsageError, out: Output) -> NoReturn:
    """argparse's usage message on stderr (and the JSON document with ``--json``); exit 2."""
    exc.parser.print_usage(sys.stderr)
    print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr, flush=True)
    if out.json:
        out.errors.append({"path": None, "reason": exc.message, "hint": f"see '{exc.parser.prog} --help'", "kind": "UsageError"})
        out.finish(EXIT_BAD_INPUT)
    raise SystemExit(EXIT_BAD_INPUT)


def _os_hint(exc: OSError) -> str | None:
    if exc.errno == errno.ENOSPC:
        return "free disk space (or write elsewhere with -o) and run again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "choose a directory you can write to (-o/--channel) or fix its permissions"
    return None
