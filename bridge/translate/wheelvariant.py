"""PEP 825 wheel variants ↔ conda build strings: which variant properties (and providers) the
GPU parts of a build string name (``rocm7.1``, ``gfx103X``, ``cu126``), and which ROCm family a
variant's ``amd :: gfx_arch`` values make.  The variant model itself is :mod:`bridge.model.variant`.

The GPU providers are WheelNext's: see ``variant_providers`` in ``bridge/data/reverse.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from ..core.data import load
from ..model.variant import VariantError, VariantProperty, VariantProvider, WheelVariant
from .variants import FamilyError, GpuFamily, family_for_targets, family_targets, resolve_family


@cache
def _providers() -> dict[str, VariantProvider]:
    return {
        ns: VariantProvider(ns, tuple(entry["requires"]), entry.get("plugin-api"))
        for ns, entry in load("reverse")["variant_providers"].items()
    }


def providers_for(namespaces: Iterable[str]) -> tuple[VariantProvider, ...]:
    """The providers of ``namespaces`` (sorted), from ``reverse.yaml``; unknown ones are refused."""
    found = []
    for ns in sorted(set(namespaces)):
        if ns not in _providers():
            raise VariantError(f"no variant provider is known for namespace {ns!r} (known: {', '.join(sorted(_providers()))})")
        found.append(_providers()[ns])
    return tuple(found)


_ROCM = re.compile(r"^rocm(\d+)\.(\d+)")
_CUDA = re.compile(r"^cu(?:da)?(\d{2})(\d)?$")
_CHIP = re.compile(r"^gfx\d+[0-9a-f]*$")


def properties_from_build(parts: Iterable[str], about_family: str | None = None) -> tuple[list[VariantProperty], list[str]]:
    """Variant properties named by build-string parts, and the parts that name none.

    ``rocmX.Y`` → ``amd :: rocm_version :: X.Y`` (the AMD provider's value: major.minor);
    a chip (``gfx1030``) → ``amd :: gfx_arch :: gfx1030``; a family tag (``gfx103X``) → one
    ``amd :: gfx_arch`` per chip it builds for (``about_family``, the family name the package
    records, picks the exact list); ``cuXY[Z]``/``cudaXY[Z]`` → ``nvidia ::
    cuda_version_lower_bound :: XY.Z`` and ``cuda_version_upper_bound :: XY+1`` (the NVIDIA
    provider's features; the major version bounds the driver API).
    """
    found: list[VariantProperty] = []
    unmatched: list[str] = []
    for part in parts:
        if m := _ROCM.match(part):
            found.append(VariantProperty("amd", "rocm_version", f"{int(m.group(1))}.{int(m.group(2))}"))
        elif m := _CUDA.match(part):
            major = int(m.group(1))
            lower = f"{major}.{m.group(2)}" if m.group(2) is not None else str(major)
            found += [VariantProperty("nvidia", "cuda_version_lower_bound", lower), VariantProperty("nvidia", "cuda_version_upper_bound", str(major + 1))]
        elif chips := _family_chips(part, about_family):
            found += [VariantProperty("amd", "gfx_arch", c) for c in chips]
        elif _CHIP.match(part):
            found.append(VariantProperty("amd", "gfx_arch", part))
        else:
            unmatched.append(part)
    return sorted(set(found)), unmatched


def _family_chips(part: str, about_family: str | None) -> tuple[str, ...]:
    if not part.lower().startswith("gfx") or _CHIP.match(part):
        return ()
    try:
        family = resolve_family(part)
    except FamilyError:
        return ()
    if about_family:
        try:
            named = resolve_family(about_family)
        except FamilyError:
            named = None
        if named is not None and named.tag == family.tag and named.name:
            family = named
    return family_targets(family) if family.known else ()


def family_of(variant: WheelVariant) -> GpuFamily | None:
    """The ROCm family whose chips are exactly the variant's ``amd :: gfx_arch`` values, if any."""
    chips = variant.values("amd", "gfx_arch")
    return family_for_targets(chips) if chips else None
