"""``wheel2conda verify`` (install into a throwaway prefix and check) and ``wheel2conda libs``
(shared libraries shipped by more than one package of a channel); ``--verify`` for publishing."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import EXIT_OK, EXIT_PARTIAL, BadInput, BridgeError
from .args import checked, gather
from .output import Output, human_size

if TYPE_CHECKING:  # the implementation (and py-rattler) loads only when a command uses it
    from ..check.verify import VerifyOptions, VerifyReport


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "verify",
        parents=[common],
        help="install packages into a throwaway prefix and check libraries, imports and entry points",
        description=(
            "Install conda package files (or the folder 'convert -o' wrote), or the packages of a local channel, with a real client "
            "(py-rattler) into a temporary prefix and check that every ELF library's DT_NEEDED "
            "entries resolve, every top-level module imports and every entry point starts. "
            "Exit 0 when every package passes, 1 when any fails."
        ),
    )
    p.add_argument("target", metavar="PKG|CHANNEL|DIR", help="a .conda/.tar.bz2 file, a local channel (indexed: it has noarch/repodata.json), or a folder of package files")
    p.add_argument("more", nargs="*", metavar="PKG|SPEC", help="more package files or folders, or (after a CHANNEL) specs to install together")
    p.add_argument("--next-to", type=Path, metavar="CHANNEL", help="with package files: install them next to this channel's packages")
    p.add_argument("--platform", action="append", default=[], metavar="SUBDIR", help="with a CHANNEL: verify for this subdir (repeatable; default: this machine's)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the prefixes under DIR for inspection")
    add_verify_options(p)
    p.set_defaults(func=checked(run_verify))

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
    p.add_argument("channel", type=Path, metavar="CHANNEL|DIR", help="a local channel, or a folder of package files ('convert -o')")
    p.add_argument("--subdir", action="append", default=[], help="only this subdir (repeatable)")
    p.add_argument("--check", action="store_true", help="exit 1 when any duplicate library or file clash is found")
    p.set_defaults(func=checked(run_libs))


def add_verify_options(p: argparse.ArgumentParser, *, flag: bool = False) -> None:
    """The environment options of ``verify``; with ``flag`` also ``--verify`` (publish, convert)."""
    if flag:
        p.add_argument("--verify", action="store_true", help="verify every package in a throwaway prefix first; publish nothing if any fails")
    only = "; only with --verify (to publish into a channel use --channel)" if flag else ""
    p.add_argument("-c", "--channel-extra", action="append", default=[], metavar="CHANNEL", help=f"a channel to read dependencies from, as conda's -c (a directory, URL or name; repeatable, lower priority){only}")
    p.add_argument("--virtual", action="append", default=[], metavar="__NAME=VERSION", help="a virtual package for the solve, e.g. __cuda=12.4 (repeatable)")
    p.add_argument("--standin-python", action="store_true", help="add an offline stand-in python channel (this interpreter) for environments without a python channel")
    p.add_argument("--no-imports", action="store_true", help="skip import checks")
    p.add_argument("--no-entry-points", action="store_true", help="skip entry-point checks")
    p.add_argument("--check-timeout", type=float, metavar="SECONDS", help="per import and entry-point run (default: 60)")


def verify_options(args: argparse.Namespace, platforms: Sequence[str] = ()) -> VerifyOptions:
    from ..check.verify import VerifyOptions

    return VerifyOptions(
        extra_channels=tuple(args.channel_extra),
        virtual_packages=tuple(args.virtual),
        platforms=tuple(platforms),
        standin_python=args.standin_python,
        imports=not args.no_imports,
        entry_points=not args.no_entry_points,
        timeout_s=args.check_timeout if args.check_timeout is not None else 60.0,
        keep_dir=getattr(args, "keep", None),
    )


def run_verify(args: argparse.Namespace, out: Output) -> int:
    from ..check.verify import is_channel, verify_channel, verify_packages

    target = Path(args.target)
    if args.next_to is not None and not args.next_to.exists():
        raise BadInput(args.next_to, "no such file or directory")
    if target.is_dir() and is_channel(target):
        if args.next_to is not None:
            raise BadInput(None, "--next-to applies to package files, not to a channel", hint=f"verify the files next to {target} with 'wheel2conda verify PKG... --next-to {target}'")
        return report_all(out, verify_channel(target, args.more, verify_options(args, args.platform)))
    if args.platform:
        raise BadInput(None, "--platform applies to a channel; package files are verified for their own subdir", hint="drop --platform")
    files = gather(out, [target, *args.more], ("conda",), what="conda packages", noun="conda package").files
    return report_all(out, verify_packages(files, verify_options(args), channel=args.next_to))


#: A spec rattler's solver found nothing for: ``└─ python *, for which no candidates were found.``
_NO_CANDIDATES = re.compile(r"([^\s│├└─][^,\n]*), for which no candidates were found")
#: Said where python itself is missing from the channels (a channel of converted wheels has none).
PYTHON_HINT = "python is in none of the channels: add --standin-python (offline: this interpreter stands in) or -c conda-forge"


def failures(report: VerifyReport) -> list[str]:
    """Each failure of ``report`` once; a solver's tree is said as what nothing in the channels provides."""
    lines = []
    for line in report.problems():
        missing = list(dict.fromkeys(_NO_CANDIDATES.findall(line)))
        if line.startswith("does not install") and missing:
            line = f"does not install for {report.platform}: {_missing_phrase(missing)}"
        lines.append(" ".join(line.split()))
    return list(dict.fromkeys(lines))


def _missing_phrase(missing: list[str]) -> str:
    packages = [m for m in missing if not m.startswith("__")]
    virtual = [m for m in missing if m.startswith("__")]
    parts = [f"nothing in the channels provides {', '.join(packages)}"] if packages else []
    if virtual:
        flags = " ".join(f"--virtual {v.split()[0]}=VERSION" for v in virtual)
        parts.append(f"needs {', '.join(virtual)}, which the verify machine does not have ({flags} verifies as if it had)")
    return "; ".join(parts)


def needs_python(report: VerifyReport) -> bool:
    return any(spec.split()[0] == "python" for spec in _NO_CANDIDATES.findall(report.error or ""))


def report_all(out: Output, reports: Sequence[VerifyReport], key: str | None = None) -> int:
    """Print every report (and a JSON item each, in ``items`` or the list ``key``); EXIT_PARTIAL when any failed.

    Each failure is said once: in the report's block, then one summary error line (with ``-q``
    or ``--json``, where no block is shown: one error per failed package).
    """
    for report in reports:
        _print_report(out, report)
        out.item(report.to_dict(), key)
    failed = [r for r in reports if not r.ok]
    hint = PYTHON_HINT if any(needs_python(r) for r in failed) else None
    if failed and not (out.quiet or out.json):
        names = ", ".join(r.package for r in failed[:3]) + (", ..." if len(failed) > 3 else "")
        out.fail(BridgeError(None, f"{len(failed)} of {len(reports)} package{'s' if len(reports) != 1 else ''} failed verification ({names}; above)", hint=hint))
    else:
        for report in failed:
            out.fail(BridgeError(report.package, "verification failed: " + "; ".join(failures(report)), hint=hint if needs_python(report) else None))
    if not reports:
        out.warn("nothing to verify")
    return EXIT_PARTIAL if failed else EXIT_OK


def _print_report(out: Output, report: VerifyReport) -> None:
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
        said = failures(report)[0] if _NO_CANDIDATES.search(report.error) else None
        if said is not None:
            out.info(f"  {said}")
        for line in report.error.splitlines():
            (out.detail if said is not None else out.info)(f"  {line}")
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
    """``--verify``: True when every package passed (failures are reported, nothing is published)."""
    from ..check.verify import is_channel, verify_packages

    next_to = channel if channel is not None and is_channel(channel) else None  # a new channel has nothing yet
    reports = verify_packages(packages, verify_options(args), channel=next_to)
    if report_all(out, reports, key="verified") != EXIT_OK:
        if channel is not None:
            out.fail(BridgeError(channel, "nothing published: some packages failed verification"))
        return False
    return True


def run_libs(args: argparse.Namespace, out: Output) -> int:
    from ..check.libreport import duplicate_libraries, duplicate_libraries_in, file_clashes, file_clashes_in
    from ..check.verify import is_channel

    if args.channel.is_dir() and is_channel(args.channel):
        duplicates = duplicate_libraries(args.channel, args.subdir or None)
        all_clashes = file_clashes(args.channel, args.subdir or None)
    else:
        files = gather(out, [args.channel], ("conda",), what="conda packages", noun="conda package").files
        duplicates = duplicate_libraries_in(files, args.subdir or None)
        all_clashes = file_clashes_in(files, args.subdir or None)
    for dup in duplicates:
        how = "same path: the files clash" if dup.kind == "same-path" else "different paths: two copies can load"
        same = "identical" if dup.identical else "different builds"
        out.info(f"{dup.subdir} {dup.soname}: {len(dup.names)} packages ({how}; {same})")
        for c in dup.copies:
            out.info(f"  {c.package}  {c.path}  {human_size(c.size)}")
        out.item(dup.to_dict())
    if not duplicates:
        out.info("no shared library is shipped by more than one package")
    covered = {(d.subdir, c.path) for d in duplicates for c in d.copies}  # already shown as a library
    clashes = [c for c in all_clashes if (c.subdir, c.path) not in covered]
    for clash in clashes:
        same = "identical" if clash.identical else "different contents"
        out.info(f"{clash.subdir} {clash.path}: {len(clash.names)} packages ship this file (the client lets the last one win; {same})")
        for copy in clash.copies:
            out.info(f"  {copy.package}  {copy.path}" + (f"  {human_size(copy.size)}" if copy.size is not None else ""))
        out.item(clash.to_dict())
    if not clashes:
        out.info("no other file is shipped by more than one package")
    return EXIT_PARTIAL if (duplicates or clashes) and args.check else EXIT_OK
