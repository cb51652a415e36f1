"""``wheel2conda inspect`` (and ``convert --dry-run``): what conversion would produce, writing nothing."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import BridgeError
from .args import checked, gather
from .convert_options import add_conversion_arguments, check_inputs, options_from
from .output import Output, exit_code_for, human_size

if TYPE_CHECKING:  # the library loads when a command runs, not for --help (start-up: issue 15)
    from ..pipelines.inspection import PackageReport
    from ..plan.types import ConversionOptions


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "inspect",
        parents=[common],
        help="show what conversion would produce, or what a conda package holds (writes nothing)",
        description=(
            "Without writing anything, show every conda package a wheel (or ROCm's rocm-V.tar.gz) would become: "
            "name, version, build string and where each part came from, subdir, depends and constrains with the "
            "requirement each came from, excluded requirements with the reason, entry points, file and byte counts, "
            "links, warnings.  For a .conda/.tar.bz2: what it holds and what 'to-wheel' would make of it.  "
            "Takes the options of 'convert'; 'convert --dry-run' prints the same."
        ),
    )
    p.add_argument("inputs", nargs="*", metavar="WHEEL|PKG|SDIST|DIR")
    p.add_argument("--format", choices=["conda", "tar.bz2"], default="conda", help="package format the file names are shown for (default: conda)")
    add_conversion_arguments(p)
    p.set_defaults(func=checked(run), usage_error=p.error)


def run(args: argparse.Namespace, out: Output) -> int:
    if not args.inputs and not args.rocm_meta:
        args.usage_error("give wheels, conda packages, directories or the rocm sdist (or --rocm-meta VERSION)")
    inputs = gather(out, args.inputs, ("wheel", "conda", "rocm-sdist"), what="wheels or conda packages", noun="file").files
    check_inputs(args, inputs)
    options = options_from(args)
    return report_plans(out, args, inputs, options)


def report_plans(
    out: Output, args: argparse.Namespace, inputs: list[Path], options: ConversionOptions, *, out_dir: Path | None = None, dry_run: bool = False
) -> int:
    """Plan every input (and ``--rocm-meta``), print a block per package; exit code by inputs.

    With ``dry_run`` (``convert --dry-run``) conda packages are planned for conversion, like
    ``convert`` does, and each item says where the package would be written.
    """
    from ..pipelines.inspection import inspect_path, inspect_rocm_meta

    family_origin = f"--gpu-family {args.gpu_family}" if args.gpu_family else (f"index URL {args.index_url}" if args.index_url else None)
    options = dataclasses.replace(options, gpu_family_origin=family_origin)
    jobs: list[Path | str] = [*inputs, *([args.rocm_meta] if args.rocm_meta else [])]
    errors: list[BridgeError | None] = []
    for job in jobs:
        try:
            if isinstance(job, str):
                reports = inspect_rocm_meta(None, options, version=job, fmt=args.format, extras=args.rocm_extra)
            else:
                reports = inspect_path(job, options, fmt=args.format, rocm_extras=args.rocm_extra, read_packages=not dry_run)
        except BridgeError as exc:
            out.fail(exc)
            errors.append(exc)
            continue
        errors.append(None)
        for report in reports:
            item = report.to_dict()
            if dry_run:
                item["output"] = str((out_dir or args.channel or Path(".")) / report.filename)
                if args.channel is not None:
                    item["channel_status"] = "present" if (args.channel / report.filename).exists() else "new"
            print_report(out, report, item)
            out.item(item)
    if dry_run:
        out.extra["dry_run"] = True
    return exit_code_for(errors)


# -- human output ------------------------------------------------------------------------------


def print_report(out: Output, report: PackageReport, item: dict) -> None:
    """A compact block per package (``-v`` adds kept requirements and every link)."""
    source = Path(report.source).name
    if report.kind == "package":
        out.info(f"{source} ({human_size(report.source_size or 0)}): conda package {report.filename}")
    else:
        where = item.get("output", report.filename)
        status = f" ({'already in the channel' if item['channel_status'] == 'present' else 'new to the channel'})" if "channel_status" in item else ""
        out.info(f"{source} -> {where}{status}")
    row = _Rows(out)
    row("package", f"{report.name} {report.version}, build {report.build} ({report.subdir}{', noarch: ' + report.noarch if report.noarch else ''})")
    tags = f" [{', '.join(report.wheel_tags)}]" if report.wheel_tags else ""
    row("pypi", f"{report.pypi_name} {report.pypi_version}{tags}")
    if report.python_region is not None:
        region = report.python_region
        who = {"cpython": "CPython", "pypy": "PyPy"}.get(region.implementation or "", "Python")
        row("pythons", f"{who} {region.python}".strip() + f" (one build per Python region; split by: {region.reason})")
    if report.extra_of and report.base_package is None:  # a multi-arch selector: its own build string
        row("selector", f"{report.extra_of}[{report.extra}]: the host {report.extra_of} depends on {report.name}; builds rank target > none > all")
        row.table("build", [(p.value, p.origin) for p in report.build_parts])
    elif report.extra_of:
        row("extra of", f"{report.extra_of}[{report.extra}]: base package {report.base_package} (same build string, so the variant follows)")
    else:
        row.table("build", [(p.value, p.origin) for p in report.build_parts])
        if report.variant and any(report.variant.values()):
            row("variant", ", ".join(f"{k} {v}" for k, v in report.variant.items() if v not in (None, 0)))
    if report.track_features:
        row("features", f"track_features {report.track_features} (the solver picks it only when asked)")
    planned = report.kind == "plan"  # a package's specs all come from its index.json
    row.table("depends", [(d.value, d.origin if planned else "") for d in report.depends])
    row.table("constrains", [(c.value, c.origin if planned else "") for c in report.constrains])
    for r in report.requirements:
        marker = r.requirement.partition("; ")[2]
        reason = r.reason.removesuffix(": " + marker) if marker else r.reason
        if r.action == "excluded":
            row("excluded", f"{r.requirement}  ({reason})")
        elif r.action == "extra" and not report.extra_of:
            row("extra", f"{r.requirement}  ({reason})")
        elif r.action == "kept" and r.reason:
            row("note", f"{r.requirement}: {r.reason}")
    for ep in report.entry_points:
        how = ", ".join(ep.launchers) if ep.launchers else "launcher made by the installing client"
        row("entry point", f"{ep.name} = {ep.value}{' (gui)' if ep.gui else ''}  [{how}]")
    f = report.files
    extras = [f"{f.placeholders} with prefix placeholder"] if f.placeholders else []
    if f.licenses:
        extras.append(f"{f.licenses} license file{'s' if f.licenses != 1 else ''}")
    row("files", f"{f.count} file{'s' if f.count != 1 else ''}, {human_size(f.bytes)}, {f.links} link{'s' if f.links != 1 else ''}" + (f" ({', '.join(extras)})" if extras else ""))
    limit = None if out.verbose else 10
    for link in report.links[:limit]:
        row("link", f"{link.path} -> {link.target}")
    if limit is not None and len(report.links) > limit:
        row("link", f"... and {len(report.links) - limit} more (-v lists them)")
    if report.to_wheel is not None:
        w = report.to_wheel
        if w.ok:
            row("to-wheel", str(w.filename))
        elif report.extra_of:  # not a refusal: the extra folds into its base package's wheel
            row("to-wheel", f"{w.reason}; {w.hint}")
        else:
            row("to-wheel", f"refused: {w.reason}" + (f"; {w.hint}" if w.hint else ""))
        for req in w.requires_dist:
            row("requires", req)
        for d in w.dropped:
            row("dropped", f"{d.value}: {d.origin}")
    for warning in report.warnings:
        out.warn(f"{source}: {report.name}: {warning}")
    for note in report.notes:
        row("note", note)


class _Rows:
    """Aligned ``label  value`` lines of one block."""

    WIDTH = 12

    def __init__(self, out: Output):
        self.out = out

    def __call__(self, label: str, value: str) -> None:
        self.out.info(f"  {label:<{self.WIDTH}}{value}")

    def table(self, label: str, rows: list[tuple[str, str]]) -> None:
        width = max((len(v) for v, origin in rows if origin), default=0)
        for i, (value, origin) in enumerate(rows):
            text = f"{value:<{width}}  <- {origin}" if origin else value
            self(label if i == 0 else "", text)
