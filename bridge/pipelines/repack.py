"""Repack installed distributions into wheels or conda packages, without re-downloading."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..core.errors import BadInput, BridgeError
from ..model import Distribution
from ..plan.types import ConversionOptions
from ..plan.wheel_to_conda import plan_packages
from ..sinks.settings import WriteSettings
from ..sinks.wheel import write_wheel
from ..sources.installed import Drift, EnvironmentLayout, read_installed
from .convert import ConvertDetail, discard, write_planned
from .outcome import Outcome

RepackTarget = Literal["wheel", "conda"]


@dataclass(frozen=True)
class RepackDetail:
    """What ``repack`` reports of one installed distribution (its drift lines are the outcome's warnings)."""

    drift: Drift = field(default_factory=Drift)
    dist: Distribution | None = None


def repack(
    names: Iterable[str],
    layout: EnvironmentLayout,
    out_dir: Path,
    *,
    to: RepackTarget = "wheel",
    strict: bool = False,
    options: ConversionOptions | None = None,
    settings: WriteSettings | None = None,
) -> list[Outcome[RepackDetail]]:
    """Repack each installed distribution; errors are captured per name."""
    settings = settings or WriteSettings()
    results = []
    for name in names:
        started = time.monotonic()
        result = Outcome(name, RepackDetail())
        try:
            installed = read_installed(layout.find(name), layout)
            dist, drift = installed.dist, installed.drift
            result.detail = RepackDetail(drift, dist)
            result.warnings = drift.lines()
            if strict and drift:
                raise BadInput(
                    dist.provenance.path,
                    f"installed files differ from RECORD ({len(drift.changed)} changed, "
                    f"{len(drift.missing)} missing, {len(drift.added)} added)",
                    hint="run without --strict to pack them as they are",
                )
            if to == "wheel":
                result.outputs.append(write_wheel(dist, out_dir, settings, filename=dist.wheel_filename))
            else:  # the convert pipeline: variants, extras packages, per-OS splits, <out>/<subdir>/
                done = Outcome(Path(dist.provenance.path), ConvertDetail())
                try:
                    write_planned(plan_packages(dist, options or ConversionOptions()), dist, Path(out_dir), done, settings)
                except BridgeError as exc:
                    discard(done, exc)
                    raise
                result.outputs.extend(done.outputs)
        except BridgeError as exc:
            result.error = exc
        result.seconds = time.monotonic() - started
        results.append(result)
    return results
