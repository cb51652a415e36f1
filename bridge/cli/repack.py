"""``wheel2conda repack``: installed distributions → wheels or conda packages."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import BadInput
from .args import check_zstd, checked, given
from .convert_options import add_conversion_arguments, add_zstd_arguments, options_from, write_settings
from .output import Output
from .report import report

if TYPE_CHECKING:  # the library loads when a command runs, not for --help (start-up: issue 15)
    from ..pipelines.outcome import Outcome
    from ..pipelines.repack import RepackDetail

#: What happens to drift unless ``--strict``: printed, then packed as found.
DRIFT_POLICY = (
    "files changed since install are packed as they are now, missing files are left out, "
    "and files added after install are packed; the output's RECORD/paths.json describe what was packed"
)

#: Options that shape conda packages only (dest → option), refused with ``--to wheel``.
CONDA_ONLY = {
    "format": "--format",
    "build_number": "--build-number",
    "subdir": "--subdir",
    "name": "--name",
    "name_map": "--name-map",
    "name_overrides": "--name-overrides",
    "depends": "--depends",
    "gpu_family": "--gpu-family",
    "index_url": "--index-url",
    "extras": "--extras",
    "dedup": "--no-dedup",
    "soname_links": "--soname-links",
    "expand_devel": "--no-expand-devel",
    "zstd_level": "--zstd-level",
    "release": "--release",
    "zstd_threads": "--zstd-threads",
    "zstd_window_log": "--zstd-window-log",
}


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "repack",
        parents=[common],
        help="repack installed distributions into wheels or conda packages",
        description="Rebuild wheels (or conda packages) from what is installed in an environment, without downloading anything. "
        "Files are verified against RECORD; drift is reported. " + DRIFT_POLICY[0].upper() + DRIFT_POLICY[1:] + ", unless --strict.",
    )
    p.add_argument("names", nargs="+", metavar="NAME")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--path", type=Path, metavar="SITE_PACKAGES", help="the site-packages directory holding the distributions")
    where.add_argument("--python", metavar="EXE", help="the environment's interpreter (default: the active environment's python)")
    p.add_argument("--to", choices=["wheel", "conda"], default="wheel", help="output kind (default: wheel)")
    p.add_argument("-o", "--output-dir", type=Path, default=Path.cwd(), help="where to write (default: current directory; conda packages go to OUTPUT_DIR/<subdir>/)")
    p.add_argument("--strict", action="store_true", help="refuse a distribution whose files differ from its RECORD")
    p.add_argument("--format", choices=["conda", "tar.bz2"], help="with --to conda: package format (default: conda)")
    add_conversion_arguments(p, inputs_are_wheels=False)  # with --to conda: as for wheel2conda convert
    add_zstd_arguments(p)
    p.set_defaults(func=checked(run))


def check_options(args: argparse.Namespace) -> None:
    if args.to == "wheel":
        for dest, option in CONDA_ONLY.items():
            if given(args, dest):
                raise BadInput(None, f"{option} has no effect with --to wheel (it shapes conda packages)", hint=f"add --to conda, or drop {option}")
    check_zstd(args, args.format)


def run(args: argparse.Namespace, out: Output) -> int:
    from ..pipelines.repack import repack
    from ..sources.installed import EnvironmentLayout, default_python

    check_options(args)
    layout = EnvironmentLayout.from_site_packages(args.path) if args.path else EnvironmentLayout.from_python(args.python or default_python())
    results = repack(args.names, layout, args.output_dir, to=args.to, strict=args.strict, options=options_from(args), settings=write_settings(args))
    return report(out, results, render)


def render(out: Output, result: Outcome[RepackDetail]) -> list[dict[str, Any]]:
    """The drift (also of a distribution refused for it: ``--strict``), then what was written."""
    drift, dist = result.detail.drift, result.detail.dist
    for line in result.warnings:
        out.warn(f"{result.label}: {line}")
    if result.error is not None:
        return []
    if drift:  # packed as found (with --strict, drift is an error)
        out.info(f"{result.label}: {DRIFT_POLICY}")
    for path in result.outputs:
        out.info(f"{result.label} -> {path}")
    return [
        {
            "name": result.label,
            "dist_info": dist.provenance.path if dist else None,
            "outputs": [str(p) for p in result.outputs],
            "drift": {"changed": drift.changed, "missing": drift.missing, "added": drift.added},
        }
    ]
