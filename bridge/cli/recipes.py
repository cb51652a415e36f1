"""``wheel2conda recipes regenerate`` and ``wheel2conda recipes build``: the nightly job."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import EXIT_OK, EXIT_PARTIAL
from .args import check_zstd, checked
from .convert_options import add_zstd_arguments, extras_choice, write_settings
from .output import Output, human_size
from .report import report as report_outcomes

if TYPE_CHECKING:  # the library loads when a command runs, not for --help (start-up: issue 15)
    from ..core.errors import BridgeError
    from ..pipelines.outcome import Outcome
    from ..recipes.build import BuildDetail
    from ..recipes.http import Http


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "recipes",
        parents=[common],
        help="regenerate recipes from wheel indexes and build what changed",
        description="Nightly recipes: scan wheel indexes into recipes (regenerate), then convert and publish what changed (build).",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    r = actions.add_parser("regenerate", parents=[common], help="scan the indexes of sources.yaml and rewrite the recipes", description="Scan the indexes listed in the sources config and write one recipe per package, variant and version next to it. Byte-identical output when nothing changed upstream.")
    r.add_argument("--config", type=Path, default=Path("recipes/sources.yaml"), help="sources config; recipes are written next to it (default: recipes/sources.yaml)")
    r.add_argument("--check", action="store_true", help="write nothing; exit 1 when the recipes are not up to date")
    add_http_arguments(r)
    r.set_defaults(func=checked(run_regenerate))

    b = actions.add_parser("build", parents=[common], help="convert and publish the recipes that changed", description="Convert every recipe whose content is not yet in the channel and publish it, one recipe at a time (all of its packages or none).")
    b.add_argument("--recipes", type=Path, default=Path("recipes"), help="recipes folder (default: recipes)")
    b.add_argument("--channel", type=Path, default=Path("channel"), help="local channel to publish into (default: channel)")
    b.add_argument("--cache", type=Path, help="download cache (default: $WHEEL2CONDA_CACHE, else the platform's user cache folder)")
    b.add_argument("--only", action="append", default=[], metavar="RECIPE", help="only this recipe or folder (e.g. torch/cu124; repeatable)")
    b.add_argument("--force", action="store_true", help="rebuild even when the channel is up to date")
    b.add_argument("--retry-failed", action="store_true", help="retry recipes that failed before with the same content (they are skipped otherwise)")
    b.add_argument("--format", choices=["conda", "tar.bz2"], default="conda", help="package format (default: conda)")
    b.add_argument(
        "--extras",
        type=extras_choice,
        metavar="all|none|NAME,...",
        help="which extras become <name>-with-<extra> packages, for every recipe (default: each recipe's 'extras', else all)",
    )
    add_zstd_arguments(b)
    add_http_arguments(b)
    b.set_defaults(func=checked(run_build))


def add_http_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per network operation (default: 30)")
    p.add_argument("--retries", type=int, default=3, help="retries of a failed request, with exponential backoff (default: 3)")


def http_from(args: argparse.Namespace) -> Http:
    from ..recipes.http import Http

    return Http(timeout=args.timeout, retries=max(0, args.retries))


def run_regenerate(args: argparse.Namespace, out: Output) -> int:
    from ..recipes.config import load_config
    from ..recipes.regenerate import regenerate

    out.command = "recipes regenerate"
    config = load_config(args.config)
    report = regenerate(config, http_from(args), check=args.check, log=out.detail)
    for status, ids in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        for recipe_id in ids:
            out.info(f"{status:9} {recipe_id}")
            out.item({"recipe": recipe_id, "status": status})
    for recipe_id in report.unchanged:
        out.detail(f"{'unchanged':9} {recipe_id}")
        out.item({"recipe": recipe_id, "status": "unchanged"})
    for note in report.notes:
        out.detail(f"note: {note}")
    for name in report.hashed:
        out.detail(f"hashed    {name} (the index gives no sha256: fetched and pinned)")
    for reason in report.skipped:
        out.warn(f"skipped {reason}")
    for error in report.errors:
        out.fail(error)
    summary = {k: len(getattr(report, k)) for k in ("added", "updated", "removed", "unchanged")}
    summary["errors"] = len(report.errors)
    summary["hashed"] = len(report.hashed)
    summary["skipped"] = len(report.skipped)
    out.extra["summary"] = summary
    extra = ""
    if report.hashed:
        extra += f", {len(report.hashed)} file{'s' if len(report.hashed) != 1 else ''} hashed here (the index gives no sha256)"
    if report.skipped:
        extra += f", {len(report.skipped)} file{'s' if len(report.skipped) != 1 else ''} skipped (no sha256 and not fetchable)"
    out.info(
        f"regenerate: {summary['added']} added, {summary['updated']} updated, {summary['removed']} removed, "
        f"{summary['unchanged']} unchanged, {summary['errors']} error{'s' if summary['errors'] != 1 else ''}{extra}"
        + (" (--check: nothing written)" if args.check and report.changed else "")
    )
    if report.errors:
        return EXIT_PARTIAL
    return EXIT_PARTIAL if args.check and report.changed else EXIT_OK


def run_build(args: argparse.Namespace, out: Output) -> int:
    from ..recipes.build import build

    out.command = "recipes build"
    check_zstd(args, args.format)
    outcomes = build(
        args.recipes,
        args.channel,
        http_from(args),
        cache_dir=args.cache,
        only=args.only,
        force=args.force,
        retry_failed=args.retry_failed,
        settings=write_settings(args),
        extras=args.extras,
        log=out.detail,
    )
    code = report_outcomes(out, outcomes, build_render(args.channel), failure=build_failure)
    summary = {s: sum(1 for o in outcomes if o.detail.status == s) for s in ("built", "unchanged", "skipped", "failed")}
    out.extra["summary"] = summary
    out.info(f"build: {summary['built']} built, {summary['unchanged']} unchanged, {summary['skipped']} skipped, {summary['failed']} failed")
    return code


def build_failure(outcome: Outcome[BuildDetail]) -> BridgeError | None:
    """A recipe that failed now, or whose file could not be read; not one skipped for failing before."""
    return outcome.error if outcome.detail.status in ("failed", "unreadable") else None


def build_render(channel: Path) -> Callable[[Output, Outcome[BuildDetail]], list[dict[str, Any]]]:
    """Render a recipe's outcome: its packages in ``channel`` (or why there are none); one item per recipe read."""
    from ..recipes.build import in_channel

    def render(out: Output, item: Outcome[BuildDetail]) -> list[dict[str, Any]]:
        detail = item.detail
        if detail.status == "unreadable":  # no recipe: only its error line
            return []
        packages = [in_channel(channel, p) for p in item.outputs]
        published = {in_channel(channel, p): status for p, status in detail.published.items()}
        if detail.status == "built":
            for rel in packages:
                status = {"unchanged": "already in the channel"}.get(published.get(rel, ""), published.get(rel, ""))
                out.info(f"{'built':9} {item.label} -> {rel} ({status})")
            out.info(f"{'':9} {item.label}: {item.seconds:.1f} s, {human_size(detail.downloaded)} downloaded")
        elif detail.status == "unchanged":
            out.detail(f"{'unchanged':9} {item.label}")
        elif detail.status == "skipped" and item.error is not None:
            out.warn(f"skipped {item.label}: {item.error.one_line()}")
        elif item.error is not None:
            out.info(f"{'failed':9} {item.label}")
        return [
            {
                "recipe": item.label,
                "status": detail.status,
                "packages": packages,
                "published": published,
                "seconds": round(item.seconds, 3),
                "downloaded": detail.downloaded,
                "error": item.error.one_line() if item.error is not None else None,
            }
        ]

    return render
