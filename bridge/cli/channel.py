"""The local channel: ``publish`` and ``index``, and ``channel list|search|yank|unyank|remove|verify``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import EXIT_OK, EXIT_PARTIAL, BadInput, BridgeError
from .args import C_MEANING, check_verify_env, checked, gather
from .output import Output, human_size
from .verify import add_verify_options

if TYPE_CHECKING:  # the library loads when a command runs, not for --help (start-up: issue 15)
    from ..channel.manage import PackageRow
    from ..channel.results import IndexResult
    from ..check.audit import Problem


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("publish", parents=[common], help="add conda packages to a local channel", description="Copy conda packages into a local channel and update its repodata, atomically and under a lock. Identical republishing is a no-op; different bytes under a published file name are refused.")
    p.add_argument("packages", nargs="+", metavar="PKG|DIR", help="conda packages, channels or folders 'convert -o' wrote")
    p.add_argument("--channel", type=Path, help="the local channel to publish into (required)")
    p.add_argument("--force", action="store_true", help="replace a published file whose bytes differ")
    add_verify_options(p, flag=True)  # --verify (issue 10)
    p.set_defaults(func=checked(run_publish), usage_error=p.error)

    p = sub.add_parser("index", parents=[common], help="rewrite a local channel's repodata", description="Write repodata.json (+ .zst) for every subdir of a local channel (and always noarch), channeldata.json and index.html. Incremental: only new or changed package files are read.")
    p.add_argument("channel", type=Path)
    p.add_argument("--rehash", action="store_true", help="read every package again instead of trusting the index cache")
    p.set_defaults(func=checked(run_index))

    p = sub.add_parser("channel", parents=[common], help="list, search, yank, remove or verify packages of a local channel", description="Manage a local channel (publish and index are top-level commands).")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = verbs.add_parser("list", parents=[common], help="list every package file (yanked ones marked)")
    v.add_argument("channel", type=Path)
    v.add_argument("--subdir", action="append", help="only this subdir (repeatable)")
    v.set_defaults(func=checked(run_list))
    v = verbs.add_parser("search", parents=[common], help="packages matching a conda match spec", description="Packages matching a conda MatchSpec, e.g. 'numpy', 'numpy >=2', 'torch[build=*cu124*]', 'tor*'.")
    v.add_argument("channel", type=Path)
    v.add_argument("spec")
    v.add_argument("--subdir", action="append", help="only this subdir (repeatable)")
    v.set_defaults(func=checked(run_search))
    for verb, text, func in (
        ("yank", "hide packages from solvers; the files stay (repodata 'removed')", run_yank),
        ("unyank", "make yanked packages installable again", run_yank),
        ("remove", "delete package files and their records", run_remove),
    ):
        v = verbs.add_parser(verb, parents=[common], help=text, description=f"{text[0].upper()}{text[1:]}. Select packages by file name ([SUBDIR/]NAME-VERSION-BUILD.conda) or match spec.")
        v.add_argument("channel", type=Path)
        v.add_argument("packages", nargs="+", metavar="FILE|SPEC")
        v.set_defaults(func=func, undo=verb == "unyank")
    v = verbs.add_parser("verify", parents=[common], help="check repodata against the package files", description="Check that every listed package exists with the listed size, sha256 and md5, every package file is listed, and no stale repodata.json.zst, shards or current_repodata.json can hide packages.")
    v.add_argument("channel", type=Path)
    v.add_argument("--sizes-only", action="store_true", help="compare sizes, do not hash the packages")
    v.set_defaults(func=checked(run_audit))


def run_publish(args: argparse.Namespace, out: Output) -> int:
    from .verify import verify_before_publish

    if args.channel is None:
        if args.channel_extra:
            raise BadInput(None, f"publish needs --channel; {C_MEANING}", hint="write 'wheel2conda publish PKG... --channel CHANNEL'")
        args.usage_error("the following arguments are required: --channel")
    check_verify_env(args, enabled=args.verify)
    packages = gather(out, args.packages, ("conda",), what="conda packages", noun="conda package").files
    if args.verify and not verify_before_publish(out, args, packages, args.channel):
        return EXIT_PARTIAL
    publish_and_report(out, args.channel, packages, args.force)
    return EXIT_OK


def publish_and_report(
    out: Output, channel: Path, packages: list[Path], force: bool, key: str | None = None, *, move: bool = False, made_from: Mapping[Path, Path] | None = None
) -> None:
    """Publish and print a line per package; JSON items go to ``items`` or the list ``key``.

    ``move``: the packages were staged for this publish (inside the channel): rename, don't copy.
    ``made_from``: the user's input each package was converted from, named in messages and items.
    """
    from ..channel.publish import publish

    for item in publish(channel, packages, force=force, move=move, made_from=made_from):
        rel = item.path.relative_to(channel)
        out.info(f"{item.status:9} {rel.as_posix()}" + ("  (yanked: 'wheel2conda channel unyank' to show it)" if item.yanked else ""))
        source = (made_from or {}).get(item.source, item.source)
        out.item({"source": str(source), "path": str(item.path), "status": item.status, "yanked": item.yanked}, key)


def run_index(args: argparse.Namespace, out: Output) -> int:
    from ..channel.index import index_channel

    require_folder(args.channel)
    started = time.monotonic()
    result = index_channel(args.channel, rehash=args.rehash)
    report_index(out, result)
    out.info(f"indexed {args.channel} in {time.monotonic() - started:.2f} s")
    return EXIT_PARTIAL if result.skipped else EXIT_OK


def report_index(out: Output, result: IndexResult) -> None:
    for name, sub in result.subdirs.items():
        yanked = len(sub.repodata.get("removed", ()))
        state = "written" if sub.changed else "unchanged"
        out.info(
            f"{name:14} {len(sub.entries):6} file{'' if len(sub.entries) == 1 else 's'} ({sub.read} read, {len(sub.entries) + len(sub.skipped) - sub.read} cached"
            f"{f', {yanked} yanked' if yanked else ''})  repodata.json {state}"
        )
        out.item({"subdir": name, "files": len(sub.entries), "read": sub.read, "yanked": yanked, "repodata": str(sub.path), "changed": sub.changed})
        for error in sub.skipped:
            out.fail(error)
    for path in result.removed_temps:
        out.detail(f"removed stale temporary file {path}")


def _row_item(row: PackageRow) -> dict:
    r = row.record
    return {
        "subdir": row.subdir,
        "file": row.filename,
        "name": r.get("name"),
        "version": r.get("version"),
        "build": r.get("build"),
        "build_number": r.get("build_number"),
        "size": r.get("size"),
        "sha256": r.get("sha256"),
        "yanked": row.yanked,
    }


def print_rows(out: Output, rows: list[PackageRow]) -> None:
    items = [_row_item(r) for r in rows]
    for item in items:
        out.item(item)
    if not items:
        out.info("no packages")
        return
    width = {k: max(len(k), *(len(str(i[k])) for i in items)) for k in ("name", "version", "build", "subdir")}
    out.info("  ".join(k.ljust(width[k]) for k in width) + "  size")
    for item in items:
        cells = "  ".join(str(item[k]).ljust(width[k]) for k in width)
        out.info(f"{cells}  {human_size(item['size'] or 0)}{'  (yanked)' if item['yanked'] else ''}")


def require_folder(path: Path) -> None:
    """A channel argument that does not exist is "no such file or directory", as everywhere."""
    if not path.exists():
        raise BadInput(path, "no such file or directory", hint="a channel is made by 'wheel2conda publish PKG... --channel CHANNEL' or 'wheel2conda convert --channel CHANNEL'")
    if not path.is_dir():
        raise BadInput(path, "not a channel (a file, not a folder)", hint="give the channel's folder")


def run_list(args: argparse.Namespace, out: Output) -> int:
    from ..channel.manage import catalog

    out.command = "channel list"
    require_folder(args.channel)
    print_rows(out, catalog(args.channel, args.subdir))
    return EXIT_OK


def run_search(args: argparse.Namespace, out: Output) -> int:
    from ..channel.manage import search

    out.command = "channel search"
    require_folder(args.channel)
    rows = search(args.channel, args.spec, args.subdir)
    print_rows(out, rows)
    return EXIT_OK if rows else EXIT_PARTIAL


def run_yank(args: argparse.Namespace, out: Output) -> int:
    from ..channel.manage import yank

    out.command = f"channel {args.verb}"
    require_folder(args.channel)
    rows, _ = yank(args.channel, args.packages, undo=args.undo)
    for row in rows:
        out.info(f"{'unyanked' if args.undo else 'yanked':9} {row.path}")
        out.item({"path": row.path, "yanked": not args.undo})
    return EXIT_OK


def run_remove(args: argparse.Namespace, out: Output) -> int:
    from ..channel.manage import remove

    out.command = "channel remove"
    require_folder(args.channel)
    rows, _ = remove(args.channel, args.packages)
    for row in rows:
        out.info(f"removed   {row.path}")
        out.item({"path": row.path, "removed": True})
    return EXIT_OK


def run_audit(args: argparse.Namespace, out: Output) -> int:
    from ..check.audit import audit_channel

    out.command = "channel verify"
    require_folder(args.channel)
    started = time.monotonic()
    report = audit_channel(args.channel, hashes=not args.sizes_only)
    for note in report.notes:
        out.warn(f"{note.path}: {note.reason}; {fix_for(note, args.channel)}")
    for problem in report.problems:
        out.fail(BridgeError(problem.path, problem.reason, hint=fix_for(problem, args.channel)))
    for clash in report.clashes:
        same = "identical" if clash.identical else "different contents"
        out.warn(f"{clash.subdir} {clash.path}: shipped by {', '.join(clash.names)} (installing them together, the last one wins; {same})")
    checked = "sizes" if args.sizes_only else "sizes and hashes"
    summary = f"{len(report.subdirs)} subdirs, {report.checked} packages ({checked}) in {time.monotonic() - started:.2f} s"
    out.extra["summary"] = {"subdirs": report.subdirs, "checked": report.checked, "problems": len(report.problems), "file_clashes": len(report.clashes)}
    if report.clashes:
        summary += f", {len(report.clashes)} file{'s' if len(report.clashes) != 1 else ''} shipped by more than one package"
    if report.ok:
        out.info(f"ok: {summary}")
        return EXIT_OK
    out.info(f"{len(report.problems)} problem{'' if len(report.problems) == 1 else 's'}: {summary}")
    return EXIT_PARTIAL


def fix_for(problem: Problem, channel: Path) -> str:
    """What to run for each kind of problem ``channel verify`` finds (``bridge.check.audit.Problem.kind``)."""
    ch = str(channel)
    return {
        "no-repodata": f"run 'wheel2conda index {ch}' to write it",
        "unlisted": f"run 'wheel2conda index {ch}' to list it (or delete the file if it does not belong)",
        "missing-file": f"publish the file again, or run 'wheel2conda index {ch}' to drop its record",
        "changed-file": f"the file changed after it was published: publish the right file again with --force, or run 'wheel2conda index {ch} --rehash'",
        "bad-repodata": f"run 'wheel2conda index {ch} --rehash' to rewrite it",
        "stale": f"delete it, then run 'wheel2conda index {ch}'",
        "misfiled": "move the file into the folder of its own subdir (or delete it), then run 'wheel2conda index " + ch + "'",
        "temporary": "nothing was published from it: delete it when no publish is running",
        "unreadable": f"the file is damaged: remove it with 'wheel2conda channel remove {ch} FILE' and publish it again",
        "unsafe-package": f"the package is unsafe to install (docs/security.md): remove it with 'wheel2conda channel remove {ch} FILE' and rebuild it",
        "not-a-channel": "give the channel's folder (it holds noarch/repodata.json)",
    }.get(problem.kind, f"run 'wheel2conda index {ch} --rehash'")
