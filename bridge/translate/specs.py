"""PEP 508 requirements → conda MatchSpecs for one target.  Pure functions.

Markers are evaluated for the target.  Where the target leaves a marker variable open (a
noarch package runs on every OS; a pure package on every Python), the marker is evaluated for
every candidate value: the requirement is kept when it holds for all of them, left out when it
holds for none, and otherwise reported as undecidable, never silently dropped.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from ..data import load
from .names import NameMap
from .versions import translate_specifier_set

Action = Literal["kept", "excluded", "extra", "undecidable"]

#: CPython minor versions considered when a package does not fix one.
PYTHON_CANDIDATES = tuple(f"3.{minor}" for minor in range(8, 16))


@dataclass
class Decision:
    """What became of one Requires-Dist entry."""

    requirement: str
    action: Action
    specs: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class MarkerContext:
    """Known marker values plus candidate values for the variables a target leaves open."""

    known: Mapping[str, str]
    platforms: tuple[Mapping[str, str], ...] = ()
    pythons: tuple[str, ...] = ()

    @classmethod
    def for_target(cls, known: Mapping[str, str], requires_python: SpecifierSet | None = None, min_python: tuple[int, int] | None = None) -> "MarkerContext":
        platforms: tuple[Mapping[str, str], ...] = ()
        if "sys_platform" not in known:
            platforms = tuple(load("platforms")["markers"].values())
        pythons: tuple[str, ...] = ()
        if "python_version" not in known:
            pythons = tuple(
                v
                for v in PYTHON_CANDIDATES
                if (requires_python is None or requires_python.contains(f"{v}.0", prereleases=True))
                and (min_python is None or tuple(int(x) for x in v.split(".")) >= min_python)
            ) or PYTHON_CANDIDATES
        return cls(dict(known), platforms, pythons)

    def environments(self, extra: str = "") -> Iterable[dict[str, str]]:
        for plat, py in itertools.product(self.platforms or ({},), self.pythons or (None,)):
            env = {**self.known, **plat, "extra": extra}
            if py is not None:
                env["python_version"] = py
                env["python_full_version"] = f"{py}.0"
            elif "python_version" in env:
                env.setdefault("python_full_version", f"{env['python_version']}.0")
            yield env


def evaluate_marker(marker: Marker, context: MarkerContext, extra: str = "") -> bool | None:
    """True/False when every candidate environment agrees, None when they differ."""
    results = {marker.evaluate(env) for env in context.environments(extra)}
    return results.pop() if len(results) == 1 else None


def match_spec(name: str, version: str = "", build: str | None = None) -> str:
    """``name [version [build]]`` in conda's space-separated MatchSpec form."""
    if build:
        return f"{name} {version or '*'} {build}"
    return f"{name} {version}" if version else name


def translate_requirement(
    req: Requirement,
    context: MarkerContext,
    names: NameMap,
    *,
    extras: Collection[str] = (),
    local_to_build: Callable[[str], str | None] | None = None,
) -> Decision:
    """One Requires-Dist entry → the MatchSpecs it becomes for this target."""
    text = str(req)
    if req.marker is not None:
        base = evaluate_marker(req.marker, context, "")
        if base is False:
            candidates = set(extras) | set(_EXTRA_NAME.findall(str(req.marker)))
            if any(evaluate_marker(req.marker, context, e) is not False for e in sorted(candidates)):
                return Decision(text, "extra", reason="only with an extra of this package")
            return Decision(text, "excluded", reason=f"marker is false for this target: {req.marker}")
        if base is None:
            return Decision(text, "undecidable", reason=f"marker depends on what the target leaves open: {req.marker}")
    mapped = names.to_conda(req.name)
    spec = translate_specifier_set(req.specifier)
    build = None
    notes = list(spec.notes)
    if spec.local:
        build = local_to_build(spec.local) if local_to_build else None
        if build is None:
            notes.append(f"local label +{spec.local} not matched (no build-string rule for it)")
    specs = [match_spec(mapped.name, spec.version, build), *mapped.with_specs]
    if req.extras:
        notes.append(f"extras [{','.join(sorted(req.extras))}] of {req.name} are not expanded")
    return Decision(text, "kept", specs, "; ".join(notes))


_EXTRA_NAME = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def merge_specs(specs: Sequence[str]) -> list[str]:
    """Drop exact duplicates, keeping first occurrence order."""
    return list(dict.fromkeys(specs))
