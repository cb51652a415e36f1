"""``wheel2conda verify`` (install into a throwaway prefix and check) and ``wheel2conda libs``
(shared libraries shipped by more than one package of a channel); ``--verify`` for publishing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, EXIT_PARTIAL, BadInput, BridgeError
from .output import Output, human_size

if TYPE_CHECKING:  # the implementation (and py-rattler) loads only when a command uses it
    from ..verify import PackageReport, VerifyOptions


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "verify",
        parents=[common],
        help="install packages into a throwaway prefix and check libraries, imports and entry points",
        description=(
            "Install conda package files, or the packages of a local channel, with a real client "
            "(py-rattler) into a temporary prefix and check that every ELF library's DT_NEEDED "
            "entries resolve, every top-level module imports and every entry point starts. "
            "Exit 0 when every package passes, 1 when any fails."
        ),
    )
    p.add_argument("target", metavar="PKG|CHANNEL", help="a .conda/.tar.bz2 file or a local channel directory")
    p.add_argument("more", nargs="*", metavar="PKG|SPEC", help="more package files, or (after a CHANNEL) specs to install together")
    p.add_argument("--next-to", type=Path, metavar="CHANNEL", help="with package files: install them next to this channel's packages")
    p.add_argument("--platform", action="append", default=[], metavar="SUBDIR", help="with a CHANNEL: verify for this subdir (repeatable; default: this machine's)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the prefixes under DIR for inspection")
    add_verify_options(p)
    p.set_defaults(func=run_verify)

    p = sub.add_parser(
        "libs",
        parents=[common],
        help="list shared libraries shipped by more than one package of a channel",
        description=(
            "Read every package of a local channel (streamed, nothing extracted) and list ELF "
            "shared libraries whose SONAME is shipped by packages of different names in one "
            "subdir: same path (the files clash) or different paths (two copies can load)."
        ),
    )
    p.add_argument("channel", type=Path)
    p.add_argument("--subdir", action="append", default=[], help="only this subdir (repeatable)")
    p.add_argument("--check", action="store_true", help="exit 1 when any duplicate is found")
    p.set_defaults(func=run_libs)


def add_verify_options(p: argparse.ArgumentParser, *, flag: bool = False) -> None:
    """The environment options of ``verify``; with ``flag`` also ``--verify`` (publish, convert)."""
    if flag:
        p.add_argument("--verify", action="store_true", help="verify every package in a throwaway prefix first; publish nothing if any fails")
    p.add_argument("-c", "--channel-extra", action="append", default=[], metavar="CHANNEL", help="another channel for dependencies (a directory, URL or name; repeatable, lower priority)")
    p.add_argument("--virtual", action="append", default=[], metavar="__NAME=VERSION", help="a virtual package for the solve, e.g. __cuda=12.4 (repeatable)")
    p.add_argument("--standin-python", action="store_true", help="add an offline stand-in python channel (this interpreter) for environments without a python channel")
    p.add_argument("--no-imports", action="store_true", help="skip import checks")
    p.add_argument("--no-entry-points", action="store_true", help="skip entry-point checks")
    p.add_argument("--check-timeout", type=float, default=60.0, metavar="SECONDS", help="per import and entry-point run (default: 60)")


def verify_options(args: argparse.Namespace, platforms: Sequence[str] = ()) -> VerifyOptions:
    from ..verify import VerifyOptions

    return VerifyOptions(
        extra_channels=tuple(args.channel_extra),
        virtual_packages=tuple(args.virtual),
        platforms=tuple(platforms),
        standin_python=args.standin_python,
        imports=not args.no_imports,
        entry_points=not args.no_entry_points,
        timeout_s=args.check_timeout,
        keep_dir=getattr(args, "keep", None),
    )


def run_verify(args: argparse.Namespace, out: Output) -> int:
    from ..channel.records import is_package
    from ..verify import verify_channel, verify_packages

    target = Path(args.target)
    if target.is_dir():
        if args.next_to is not None:
            raise BridgeError(None, "--next-to applies to package files, not to a channel")
        return report_all(out, verify_channel(target, args.more, verify_options(args, args.platform)))
    if args.platform:
        raise BridgeError(None, "--platform applies to a channel; package files are verified for their own subdir")
    files = [target, *map(Path, args.more)]
    for f in files:
        if not (f.is_file() and is_package(f)):
            raise BadInput(f, "not a conda package file or a channel directory")
    return report_all(out, verify_packages(files, verify_options(args), channel=args.next_to))


def report_all(out: Output, reports: Sequence[PackageReport], key: str | None = None) -> int:
    """Print every report (and a JSON item each, in ``items`` or the list ``key``); EXIT_PARTIAL when any failed."""
    for report in reports:
        _print_report(out, report)
        out.item(report.to_dict(), key)
    failed = [r for r in reports if not r.ok]
    for report in failed:
        out.fail(BridgeError(report.package, "verification failed: " + "; ".join(report.problems())))
    if not reports:
        out.warn("nothing to verify")
    return EXIT_PARTIAL if failed else EXIT_OK


def _print_report(out: Output, report: PackageReport) -> None:
    word = {"pass": "PASS", "fail": "FAIL", "not-installable": "WARN"}[report.status]
    out.info(f"{word} {report.package}" + (f" (for {report.platform})" if report.platform != report.subdir else ""))
    if report.not_installable:
        out.info(f"  not installable here: {report.not_installable}")
        for warning in report.warnings:
            out.warn(f"{report.package}: {warning}")
        return
    if report.extra_of:
        out.info(f"  extra '{report.extra}' of {report.extra_of}: {report.extra_of}'s modules and entry points checked with the extra's dependencies")
    if report.error:
        for line in report.error.splitlines():
            out.info(f"  {line}")
        return
    needed = [n for lib in report.libraries for n in lib.needed]
    counts = {s: sum(1 for n in needed if n.status == s) for s in ("found", "system", "soname-only", "missing")}
    kind, what, elsewhere = {"win": ("PE", "DLL imports", "by name"), "osx": ("Mach-O", "dylib loads", "by name")}.get(
        report.platform.split("-", 1)[0], ("ELF", "DT_NEEDED", "by SONAME")
    )
    out.info(
        f"  libraries: {len(report.libraries)} {kind} files, {len(needed)} {what}: "
        f"{counts['found']} in the environment, {counts['system']} host, "
        f"{counts['soname-only']} {elsewhere} only, {counts['missing']} missing"
    )
    for lib in report.libraries:
        if lib.error:
            out.info(f"    {lib.path}: {lib.error}")
        for n in lib.needed:
            if n.status == "missing":
                out.info(f"    {lib.path}: {n.name} NOT FOUND")
            else:
                out.detail(f"    {lib.path}: {n.name} -> {n.where} ({n.status})")
    for i in report.imports:
        out.info(f"  import {i.module}: {f'needs extra {i.needs_extra!r} ({i.error})' if i.needs_extra else 'ok' if i.ok else i.error}")
    for e in report.entry_points:
        out.info(f"  entry point {e.name} ({e.target}): {'needs extra ' + repr(e.needs_extra) if e.needs_extra else 'ok' if e.ok else 'FAILED'}, {e.detail}")
    for note in report.skipped:
        out.info(f"  skipped {note}")
    for warning in report.warnings:
        out.warn(f"{report.package}: {warning}")
    if report.prefix:
        out.info(f"  prefix kept at {report.prefix}")


def verify_before_publish(out: Output, args: argparse.Namespace, packages: Sequence[Path], channel: Path | None) -> bool:
    from ..verify import is_channel, verify_packages

    """``--verify``: True when every package passed (failures are reported, nothing is published)."""
    next_to = channel if channel is not None and is_channel(channel) else None  # a new channel has nothing yet
    reports = verify_packages(packages, verify_options(args), channel=next_to)
    if report_all(out, reports, key="verified") != EXIT_OK:
        if channel is not None:
            out.fail(BridgeError(channel, "nothing published: some packages failed verification"))
        return False
    return True


def run_libs(args: argparse.Namespace, out: Output) -> int:
    from ..libreport import duplicate_libraries

    duplicates = duplicate_libraries(args.channel, args.subdir or None)
    for dup in duplicates:
        how = "same path: the files clash" if dup.kind == "same-path" else "different paths: two copies can load"
        same = "identical" if dup.identical else "different builds"
        out.info(f"{dup.subdir} {dup.soname}: {len(dup.names)} packages ({how}; {same})")
        for c in dup.copies:
            out.info(f"  {c.package}  {c.path}  {human_size(c.size)}")
        out.item(dup.to_dict())
    if not duplicates:
        out.info("no shared library is shipped by more than one package")
    return EXIT_PARTIAL if duplicates and args.check else EXIT_OK
