"""``wheel2conda publish`` and ``wheel2conda index``: the local channel."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..channel.index import index_channel
from ..channel.publish import publish
from ..convert import expand_inputs
from ..errors import EXIT_OK, EXIT_PARTIAL
from .output import Output
from .verify import add_verify_options, verify_before_publish


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("publish", parents=[common], help="add conda packages to a local channel", description="Copy conda packages into a local channel and update its repodata, atomically and under a lock.")
    p.add_argument("packages", nargs="+", metavar="PKG|DIR")
    p.add_argument("--channel", type=Path, required=True)
    p.add_argument("--force", action="store_true", help="replace a published file whose bytes differ")
    add_verify_options(p, flag=True)  # --verify (issue 10)
    p.set_defaults(func=run_publish)

    p = sub.add_parser("index", parents=[common], help="rewrite a local channel's repodata", description="Write repodata.json for every subdir of a local channel (and always noarch).")
    p.add_argument("channel", type=Path)
    p.set_defaults(func=run_index)


def run_publish(args: argparse.Namespace, out: Output) -> int:
    packages = expand_inputs(args.packages, (".conda", ".tar.bz2"))
    if args.verify and not verify_before_publish(out, args, packages, args.channel):
        return EXIT_PARTIAL
    publish_and_report(out, args.channel, packages, args.force)
    return EXIT_OK


def publish_and_report(out: Output, channel: Path, packages: list[Path], force: bool) -> None:
    for item in publish(channel, packages, force=force):
        rel = item.path.relative_to(channel)
        out.info(f"{item.status:9} {rel.as_posix()}")
        out.item({"source": str(item.source), "path": str(item.path), "status": item.status})


def run_index(args: argparse.Namespace, out: Output) -> int:
    for path in index_channel(args.channel):
        out.info(f"wrote {path}")
        out.item({"repodata": str(path)})
    return EXIT_OK
