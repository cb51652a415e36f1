"""Repack installed distributions into wheels or conda packages, without re-downloading."""

from __future__ import annotations

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
from .convert import Converted, discard, write_planned

RepackTarget = Literal["wheel", "conda"]


@dataclass
class Repacked:
    name: str
    outputs: list[Path] = field(default_factory=list)
    drift: Drift = field(default_factory=Drift)
    dist: Distribution | None = None
    error: BridgeError | None = None


def repack(
    names: Iterable[str],
    layout: EnvironmentLayout,
    out_dir: Path,
    *,
    to: RepackTarget = "wheel",
    strict: bool = False,
    options: ConversionOptions | None = None,
    settings: WriteSettings | None = None,
) -> list[Repacked]:
    """Repack each installed distribution; errors are captured per name."""
    settings = settings or WriteSettings()
    results = []
    for name in names:
        result = Repacked(name)
        try:
            installed = read_installed(layout.find(name), layout)
            dist = result.dist = installed.dist
            result.drift = installed.drift
            if strict and result.drift:
                raise BadInput(
                    dist.provenance.path,
                    f"installed files differ from RECORD ({len(result.drift.changed)} changed, "
                    f"{len(result.drift.missing)} missing, {len(result.drift.added)} added)",
                    hint="run without --strict to pack them as they are",
                )
            if to == "wheel":
                result.outputs.append(write_wheel(dist, out_dir, settings, filename=dist.wheel_filename))
            else:  # the convert pipeline: variants, extras packages, per-OS splits, <out>/<subdir>/
                done = Converted(Path(dist.provenance.path))
                try:
                    write_planned(plan_packages(dist, options or ConversionOptions()), dist, Path(out_dir), done, settings)
                except BridgeError as exc:
                    discard(done, exc)
                    raise
                result.outputs.extend(done.outputs)
        except BridgeError as exc:
            result.error = exc
        results.append(result)
    return results
