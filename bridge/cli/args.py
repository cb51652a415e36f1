"""What every command does with its arguments before any work: gather the input files, and
refuse option combinations that contradict each other or would be silently ignored.

A refused combination is one line naming both options (``BadInput``, exit 2), e.g.
``wheel2conda: error: --zstd-level has no effect with --format tar.bz2 (bzip2 compression); drop one of them``.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import BadInput
from .output import Output

if TYPE_CHECKING:  # bridge.cli.inputs (dataclasses, collections) loads when a command gathers its inputs
    from .inputs import Inputs, Kind

RunFn = Callable[[argparse.Namespace, Output], int]

#: ``-c``'s meaning, said wherever it is refused (conda users read ``-c`` as "the channel").
C_MEANING = "-c names a channel to read dependencies from (used by verification); to publish into a channel use --channel"

#: The options of the throwaway verification environment (``add_verify_options``), by dest.
VERIFY_ENV = {
    "channel_extra": "-c/--channel-extra",
    "virtual": "--virtual",
    "standin_python": "--standin-python",
    "no_imports": "--no-imports",
    "no_entry_points": "--no-entry-points",
    "check_timeout": "--check-timeout",
}

#: Options whose default is "on" (``store_false``): given when the value is False.
_STORE_FALSE = {"dedup", "expand_devel"}


def given(args: argparse.Namespace, dest: str) -> bool:
    """Whether the user gave option ``dest`` (defaults are None, False, [] or, for
    ``store_false`` options, True)."""
    value = getattr(args, dest, None)
    if dest in _STORE_FALSE:
        return value is False
    return value not in (None, False, [], ())


def checked(func: RunFn) -> RunFn:
    """Wrap a command's ``run``: refuse ``-q`` with ``-v`` before it starts."""

    @functools.wraps(func)
    def run(args: argparse.Namespace, out: Output) -> int:
        if getattr(args, "quiet", False) and getattr(args, "verbose", False):
            raise BadInput(None, "-q/--quiet and -v/--verbose contradict each other", hint="give one of them")
        return func(args, out)

    return run


def check_verify_env(args: argparse.Namespace, *, enabled: bool, needs: str = "--verify") -> None:
    """Refuse verification-environment options where no verification runs."""
    if enabled:
        return
    if given(args, "channel_extra"):
        raise BadInput(None, f"-c/--channel-extra without {needs}: {C_MEANING}", hint=f"add {needs} to verify against that channel")
    for dest, option in VERIFY_ENV.items():
        if given(args, dest):
            raise BadInput(None, f"{option} has no effect without {needs}", hint=f"add {needs}, or drop {option}")


def check_zstd(args: argparse.Namespace, fmt: str | None) -> None:
    """``--release`` with ``--zstd-level``; zstd options with a format that is not zstd."""
    if given(args, "release") and given(args, "zstd_level"):
        raise BadInput(None, f"--release and --zstd-level contradict each other (--release means zstd level {release_level()})", hint="give one of them")
    if fmt not in (None, "conda"):
        for dest, option in (("zstd_level", "--zstd-level"), ("release", "--release"), ("zstd_threads", "--zstd-threads"), ("zstd_window_log", "--zstd-window-log")):
            if given(args, dest):
                what = "bzip2 compression" if fmt == "tar.bz2" else "no compression"
                raise BadInput(None, f"{option} has no effect with --format {fmt} ({what})", hint=f"drop {option}, or use --format conda")


def release_level() -> int:
    from ..sinks.compression import RELEASE_LEVEL

    return RELEASE_LEVEL


def gather(out: Output, raw: Sequence[str | Path], accepted: Iterable[Kind], *, what: str, noun: str) -> Inputs:
    """:func:`bridge.cli.inputs.collect`, saying what each folder held and what was skipped."""
    from .inputs import collect, describe, refusal
    wanted = frozenset(accepted)
    inputs = collect(raw, wanted, what=what)
    for folder in inputs.folders:
        out.info(describe(folder, noun))
        for path, kind in folder.skipped:
            out.warn(f"skipped {refusal(path, kind, wanted).one_line()}")
    return inputs
