"""Command line: argument parsing and printing only; every command calls into the library.

Each command lives in its own module exposing ``register(subparsers, common)``; the module
adds its parser and sets ``func`` to a function ``(args, out: Output) -> int``.

Start-up (issue 15): :data:`COMMANDS` says which module registers which command, so a run
imports only the module of the command it runs (``--help`` imports all of them, ``--version``
none).  Command modules import the library inside the functions that run a command, never at
module level, so building a parser costs argparse only; ``tests/test_cli_startup.py`` holds
that, and ``make bench`` measures it.

Exit codes (``docs/json.md``): 0 everything succeeded (or stdout's reader went away early,
as in ``wheel2conda channel list ch | head``); 1 some items failed (others succeeded), the
run was interrupted or could not write, or an internal error; 2 bad input or usage (every
item was refused).
"""

from __future__ import annotations

import argparse
import difflib
import errno
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from .. import __version__
from ..core.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL, BridgeError
from .output import Output

#: Every command, in the order ``--help`` lists them, and the module (``bridge.cli.<module>``)
#: whose ``register`` adds it.  ``tests/test_cli_startup.py`` checks the modules add exactly these.
COMMANDS: dict[str, str] = {
    "inspect": "inspect",
    "convert": "convert",
    "to-wheel": "towheel",
    "publish": "channel",
    "index": "channel",
    "channel": "channel",
    "verify": "verify",
    "libs": "verify",
    "repack": "repack",
    "recipes": "recipes",
}

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
    """Usage errors raise :class:`UsageError`; unknown choices and options get "did you mean"."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Subcommands)

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)

    def _check_value(self, action: argparse.Action, value: object) -> None:  # argparse's hook for choices
        if action.choices is None or value in action.choices:
            return
        names = [str(c) for c in action.choices]
        guess = did_you_mean(str(value), names)
        if isinstance(action, _Subcommands):
            what = str(action.metavar or "command").lower()
            raise argparse.ArgumentError(None, f"unknown {what} {value!r}{guess} ({what}s: {', '.join(names)})")
        raise argparse.ArgumentError(action, f"invalid choice: {value!r}{guess} (choose from {', '.join(names)})")


class _Subcommands(argparse._SubParsersAction):
    """Subcommands whose own parser reports arguments it does not know, with its own usage.

    argparse's action hands them up to the top level, which then prints the top-level usage
    for ``wheel2conda convert --chanel …``.
    """

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001 (argparse's signature)
        name, rest = values[0], values[1:]
        if self.dest is not argparse.SUPPRESS:
            setattr(namespace, self.dest, name)
        sub = self.choices[name]  # _Parser._check_value refused unknown names
        sub_namespace, unknown = sub.parse_known_args(rest, None)
        if unknown:
            sub.error(unrecognized(sub, unknown))
        for key, value in vars(sub_namespace).items():
            setattr(namespace, key, value)


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def unrecognized(parser: argparse.ArgumentParser, args: Sequence[str]) -> str:
    """argparse's "unrecognized arguments" message, with the closest option of ``parser`` for each unknown option."""
    options = [s for action in parser._actions for s in action.option_strings]
    guesses = {}
    for arg in args:
        option = arg.partition("=")[0]
        close = difflib.get_close_matches(option, options, n=1, cutoff=0.6) if arg.startswith("-") else []
        if close:
            guesses[option] = close[0]
    text = f"unrecognized arguments: {' '.join(args)}"
    if len(guesses) == 1:
        return f"{text}; did you mean {next(iter(guesses.values()))}?"
    if guesses:
        return f"{text}; did you mean " + ", ".join(f"{right} for {wrong}" for wrong, right in guesses.items()) + "?"
    return text


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


def build_parser(prog: str = "wheel2conda", commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with ``commands`` (default: all) registered; each command's module is imported here."""
    common = common_options()
    parser = _Parser(
        prog=prog,
        description="Convert Python wheels (pure, binary, abi3, ROCm/CUDA) into conda packages and back, and publish local channels.",
        epilog=EPILOG,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"wheel2conda {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = list(COMMANDS) if commands is None else list(commands)
    for module_name in dict.fromkeys(COMMANDS[c] for c in COMMANDS if c in wanted):
        importlib.import_module(f"{__name__}.{module_name}").register(sub, common)
    return parser


def command_word(argv: Sequence[str]) -> str | None:
    """The command of ``argv``: its first word that is not an option (no top-level option takes a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _parser_for(argv: Sequence[str], prog: str) -> argparse.ArgumentParser:
    """A parser with only what ``argv`` needs: its command's module, all of them for help, none for ``--version``."""
    word = command_word(argv)
    if word in COMMANDS:
        return build_parser(prog, [word])
    wants_help = not argv or any(a.startswith("-h") or (a.startswith("--h") and "--help".startswith(a)) for a in argv)
    parser = build_parser(prog, None if wants_help else [])
    if word is not None:
        raise UsageError(parser, f"unknown command {word!r}{did_you_mean(word, list(COMMANDS))} (commands: {', '.join(COMMANDS)})")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "wheel2conda") -> int:
    """Run one command; returns its exit code (usage errors raise ``SystemExit(2)``, as argparse does).

    ``prog`` is how usage lines name the tool (``conda wheel2conda`` from the conda plugin).
    Bare ``wheel2conda`` prints the help.  When stdout's reader goes away (``| head``) the run
    ends quietly with exit 0, as coreutils tools do.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv, prog)
    except BrokenPipeError:
        if not stdout_reader_gone(sys.stdout):
            raise
        _silence(sys.stdout)
        return EXIT_OK


def _main(argv: list[str], prog: str) -> int:
    try:
        parser = _parser_for(argv, prog)
        if not argv:
            parser.print_help()
            return EXIT_OK
        args = parser.parse_args(argv)
    except UsageError as exc:
        command = command_word(argv) or exc.parser.prog
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
    except BrokenPipeError:
        if stdout_reader_gone(sys.stdout):
            raise  # main() ends the run quietly
        out.fail(BridgeError(None, "broken pipe"))
        code = EXIT_PARTIAL
    except OSError as exc:  # the environment, not the input: a full disk, a read-only directory
        if debug:
            raise
        out.fail(BridgeError(exc.filename, exc.strerror or str(exc), hint=_os_hint(exc)))
        code = EXIT_PARTIAL
    except ModuleNotFoundError as exc:  # a dependency missing from this environment, or a bug
        if debug:
            raise
        out.fail(_missing_module(exc))
        code = EXIT_PARTIAL
    except Exception as exc:  # a bug: say so briefly unless debugging
        if debug:
            raise
        out.fail(BridgeError(None, f"internal error: {type(exc).__name__}: {exc}", hint="run with --debug for a traceback and report it"))
        code = EXIT_PARTIAL
    out.finish(code)
    return code


#: Import name → distribution of every runtime dependency (pyproject.toml), for a clear message when
#: one is missing: e.g. conda loading the plugin from a path whose environment lacks them.
DEPENDENCY_MODULES = {
    "packaging": "packaging",
    "zstandard": "zstandard",
    "conda_package_streaming": "conda-package-streaming",
    "yaml": "pyyaml",
    "tqdm": "tqdm",
    "setuptools": "setuptools",
    "rattler": "py-rattler",
    "elftools": "pyelftools",
    "pefile": "pefile",
    "macholib": "macholib",
}


def _missing_module(exc: ModuleNotFoundError) -> BridgeError:
    """A missing dependency as an instruction; any other missing module is a bug."""
    top = (exc.name or "").split(".")[0]
    dist = DEPENDENCY_MODULES.get(top)
    if dist is None:
        return BridgeError(None, f"internal error: {type(exc).__name__}: {exc}", hint="run with --debug for a traceback and report it")
    return BridgeError(
        None,
        f"this command needs {dist} (module {top!r}), which is not installed for {sys.executable}",
        hint=f"install wheel2conda with its dependencies there: {sys.executable} -m pip install wheel2conda",
    )


def _usage_failure(exc: UsageError, out: Output) -> NoReturn:
    """argparse's usage message on stderr (and the JSON document with ``--json``); exit 2."""
    exc.parser.print_usage(sys.stderr)
    print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr, flush=True)
    if out.json:
        out.errors.append({"path": None, "reason": exc.message, "hint": f"see '{exc.parser.prog} --help'", "kind": "UsageError"})
        out.finish(EXIT_BAD_INPUT)
    raise SystemExit(EXIT_BAD_INPUT)


def stdout_reader_gone(stream: TextIO) -> bool:
    """Whether ``stream`` is a pipe whose reader has closed it (so a BrokenPipeError came from it).

    poll() reports POLLERR on a pipe's write end once no reader is left.  Where poll is missing
    (Windows) any broken pipe is taken to be stdout's.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's StringIO): not the pipe that broke
        return False
    import select

    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _silence(stream: TextIO) -> None:
    """Point ``stream``'s descriptor at /dev/null, so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def _os_hint(exc: OSError) -> str | None:
    if exc.errno == errno.ENOSPC:
        return "free disk space (or write elsewhere with -o) and run again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "choose a directory you can write to (-o/--channel) or fix its permissions"
    return None
