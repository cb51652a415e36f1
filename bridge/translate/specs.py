"""PEP 508 requirements → conda MatchSpecs for one target.  Pure functions.

Markers are evaluated for the target.  Where the target leaves a marker variable open, the
marker is evaluated for every candidate value and, when the candidates disagree, decided by
one of these deliberate rules (each reported, never silent):

* **Python version and implementation** (noarch, abi3 and ``py3-none-<platform>`` packages serve
  many Pythons): :func:`python_split` splits the package into per-Python builds (see
  :mod:`bridge.translate.regions`) under which every such marker is decided exactly.  Only a
  marker left out of the split (an extra's, with ``--no-extras-packages``) is evaluated at the
  lowest Python the package supports, as conda-forge recipes do.
* **Operating system** (noarch packages): :func:`os_split` picks the split into per-OS noarch
  builds (``__win``/``__unix``, or ``__win``/``__linux``/``__osx``) under which every marker
  is decided, the conda-forge pattern for OS-specific dependencies of noarch packages.
* Anything still open (``platform_machine`` in a noarch package): the dependency is **kept**
  for every platform, so a platform that cannot satisfy it fails to solve instead of
  installing something that breaks at import time.

Extras: a requirement that holds only with an extra of the package itself goes to the
``<name>-with-<extra>`` metapackage; a dependency on ``other[extra]`` pulls what the name map
says that extra means, by default ``other-with-extra`` (see :mod:`bridge.translate.names`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from ..core.data import load
from .names import NameMap
from .regions import IMPLEMENTATIONS, PythonRegion, Signature, python_regions
from .tags import Target, marker_environment
from .variants import GpuFamily, family_mutex, family_specific_names, parse_local
from .versions import translate_specifier_set

Action = Literal["kept", "excluded", "extra"]

#: CPython minor versions considered when a package does not fix one.
PYTHON_CANDIDATES = tuple(f"3.{minor}" for minor in range(8, 16))

#: conda's OS virtual packages → the subdir prefixes they stand for.
OS_VIRTUALS: Mapping[str, tuple[str, ...]] = {
    "__win": ("win-",),
    "__unix": ("linux-", "osx-"),
    "__linux": ("linux-",),
    "__osx": ("osx-",),
}
#: Per-OS splits of a noarch package, coarsest first.
OS_SPLITS: tuple[tuple[str, ...], ...] = (("__unix", "__win"), ("__linux", "__osx", "__win"))

#: Marker variables no target fixes; fixed here so results never depend on the host.
_MARKER_DEFAULTS = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_version": "",
}


@dataclass(frozen=True)
class Origin:
    """A decided value (a MatchSpec, a build-string part) and the rule and source text it came from."""

    value: str
    origin: str  # "Requires-Dist: numpy>=1.26; python_version>='3.11'", "wheel tag cp312-cp312", "--build-number", ...


@dataclass(frozen=True)
class Decision:
    """What became of one Requires-Dist entry."""

    requirement: str
    action: Action
    specs: tuple[str, ...] = ()
    reason: str = ""
    extras: tuple[str, ...] = ()  # action "extra": the package's extras that pull it in
    report: bool = False  # the reason is something the user must hear about (warning)

    @property
    def origin(self) -> str:
        """Where this entry's specs come from (the Requires-Dist line)."""
        return f"Requires-Dist: {self.requirement}"


@dataclass(frozen=True)
class Outcome:
    """A marker's value for a target, and the assumption it rests on (if any)."""

    holds: bool
    assumption: str = ""


@dataclass(frozen=True)
class MarkerContext:
    """Known marker values plus candidate values for the variables a target leaves open."""

    known: Mapping[str, str]
    platforms: tuple[tuple[str, Mapping[str, str]], ...] = ()  # (subdir, markers) candidates
    pythons: tuple[str, ...] = ()  # candidate "X.Y" or "X.Y.Z", ascending

    @classmethod
    def for_target(cls, target: Target, requires_python: SpecifierSet | None = None) -> MarkerContext:
        known = marker_environment(target)
        platforms: tuple[tuple[str, Mapping[str, str]], ...] = ()
        if "sys_platform" not in known:
            platforms = tuple(sorted(load("platforms")["markers"].items()))
            os_virtual = next((v for v in target.platform.virtual if v in OS_VIRTUALS), None)
            if os_virtual:
                platforms = tuple(p for p in platforms if p[0].startswith(OS_VIRTUALS[os_virtual]))
        pythons: tuple[str, ...] = ()
        region = target.region
        if region.implementation:
            known["implementation_name"] = region.implementation
            known["platform_python_implementation"] = IMPLEMENTATIONS[region.implementation][0]
        if "python_version" not in known and region.samples:
            pythons = region.samples
        elif "python_version" not in known:
            floor = target.python.version
            pythons = tuple(
                v
                for v in PYTHON_CANDIDATES
                if (requires_python is None or requires_python.contains(f"{v}.0", prereleases=True))
                and (floor is None or _xy(v) >= floor)
            ) or PYTHON_CANDIDATES
        return cls(dict(known), platforms, pythons)

    def for_os(self, os_virtual: str) -> MarkerContext:
        """This context restricted to one OS (``__win``, ``__unix``, ``__linux``, ``__osx``)."""
        prefixes = OS_VIRTUALS[os_virtual]
        return replace(self, platforms=tuple(p for p in self.platforms if p[0].startswith(prefixes)))

    def environments(self, extra: str = "", *, lowest_python: bool = False) -> Iterator[dict[str, str]]:
        pythons: Sequence[str | None] = self.pythons[:1] if lowest_python else self.pythons
        for (_, plat), py in itertools.product(self.platforms or (("", {}),), pythons or (None,)):
            env = {**_MARKER_DEFAULTS, **self.known, **plat, "extra": extra}
            if py is not None:
                env["python_version"] = ".".join(py.split(".")[:2])
                env["python_full_version"] = py if py.count(".") >= 2 else f"{py}.0"
            elif "python_version" in env:
                env.setdefault("python_full_version", f"{env['python_version']}.0")
            env.setdefault("implementation_version", env.get("python_full_version", ""))
            yield env

    def outcomes(self, marker: Marker, extra: str = "", *, lowest_python: bool = False) -> set[bool]:
        """The values ``marker`` takes over the candidate environments.

        Environments that agree on every variable the marker reads are evaluated once.
        """
        used = _marker_variables(str(marker))
        seen: dict[tuple[str | None, ...], bool] = {}
        for env in self.environments(extra, lowest_python=lowest_python):
            key = tuple(env.get(v) for v in used)
            if key not in seen:
                seen[key] = marker.evaluate(env)
        return set(seen.values())

    def subdirs_where(self, marker: Marker, extra: str = "") -> list[str]:
        """Candidate subdirs on which ``marker`` holds (at the lowest candidate Python)."""
        return [p[0] for p in self.platforms if True in replace(self, platforms=(p,)).outcomes(marker, extra, lowest_python=True)]


_VARIABLE = re.compile(
    r"\b(python_version|python_full_version|os_name|sys_platform|platform_release|platform_system|platform_version"
    r"|platform_machine|platform_python_implementation|implementation_name|implementation_version|extras?|dependency_groups)\b"
)


@functools.cache
def _marker_variables(text: str) -> tuple[str, ...]:
    return tuple(sorted(set(_VARIABLE.findall(text))))


def _xy(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def decide(marker: Marker, context: MarkerContext, extra: str = "") -> Outcome:
    """The marker's value for the target, by the rules in the module docstring."""
    results = context.outcomes(marker, extra)
    if len(results) == 1:
        return Outcome(results.pop())
    at_lowest = context.outcomes(marker, extra, lowest_python=True)
    if len(at_lowest) == 1:
        value = at_lowest.pop()
        return Outcome(value, f"python_version decided at the lowest supported Python {context.pythons[0]}")
    where = context.subdirs_where(marker, extra)
    return Outcome(True, f"holds only on {', '.join(where)}; kept for every platform this package serves")


def _overreach(markers: Sequence[Marker], context: MarkerContext) -> int:
    """How many (marker, extra, platform) cases would get a dependency their marker excludes.

    A marker the candidate platforms disagree on is kept for all of them (see :func:`decide`),
    so every platform where it is false counts once.
    """
    total = 0
    for marker in markers:
        for extra in ("", *marker_extras(marker)):
            values = [True in replace(context, platforms=(p,)).outcomes(marker, extra, lowest_python=True) for p in context.platforms]
            if len(set(values)) > 1:
                total += values.count(False)
    return total


def python_split(
    requirements: Sequence[Requirement],
    target: Target,
    requires_python: SpecifierSet | None,
    *,
    extra: str | None = None,
) -> list[PythonRegion]:
    """The per-Python builds of a multi-Python package, oldest first (:mod:`bridge.translate.regions`).

    ``[PythonRegion()]`` (one build, as before) for single-Python targets and for packages
    whose markers give every Python the same dependencies.  Requirements that only an extra
    pulls in count for that ``extra`` only (the regions of its ``<name>-with-<extra>`` package,
    a refinement of the base package's).
    """
    context = MarkerContext.for_target(replace(target, region=PythonRegion()), requires_python)
    if "python_version" in context.known:
        return [PythonRegion()]
    cases = [
        (req, req.marker, name)
        for req in requirements
        if req.marker is not None
        for name in ("", *((extra,) if extra and extra in marker_extras(req.marker) else ()))
    ]

    def evaluate(sample: str, implementation: str) -> Signature:
        known = dict(context.known)
        if implementation:
            known["implementation_name"] = implementation
            known["platform_python_implementation"] = IMPLEMENTATIONS[implementation][0]
        at = replace(context, known=known, pythons=(sample,))
        return tuple(frozenset(at.outcomes(marker, extra)) for _, marker, extra in cases)

    def describe(indexes: Sequence[int]) -> str:
        return "; ".join(dict.fromkeys(str(cases[k][0]) for k in indexes))

    floor = target.python.version or (3, 0)
    oldest = tuple(int(p) for p in PYTHON_CANDIDATES[0].split("."))
    return python_regions(
        [(marker, extra) for _, marker, extra in cases],
        evaluate,
        floor=floor,
        requires_python=requires_python,
        oldest=oldest,
        implementations="implementation_name" not in context.known,
        describe=describe,
    )


def os_split(requirements: Iterable[Requirement], context: MarkerContext, *, extras: bool | Callable[[str], bool] = True) -> tuple[str, ...]:
    """OS virtual packages to split a noarch package by; ``()`` when splitting does not help.

    Of no split, ``__unix``/``__win`` and ``__linux``/``__osx``/``__win``, the coarsest one
    that leaves the fewest dependencies kept where their marker is false.  Requirements that
    only an extra pulls in count when ``extras`` is true, or is a predicate true for one of
    their (normalised) extras: the extras packages that will be built.
    """
    if len(context.platforms) < 2:
        return ()
    wanted = extras if callable(extras) else (lambda _extra: bool(extras))
    markers = [r.marker for r in requirements if r.marker is not None and (not (used := marker_extras(r.marker)) or any(map(wanted, used)))]
    best: tuple[str, ...] = ()
    best_cost = _overreach(markers, context)
    for split in OS_SPLITS:
        if best_cost == 0:
            break
        cost = sum(_overreach(markers, context.for_os(v)) for v in split)
        if cost < best_cost:
            best, best_cost = split, cost
    return best


@dataclass(frozen=True)
class DependencyContext:
    """Everything a dependency's translation depends on besides the requirement itself."""

    markers: MarkerContext
    names: NameMap
    family: GpuFamily | None = None  # the dependent's GPU family; per-family dependencies follow it
    multi_arch: bool = False  # the dependent is a multi-arch host: its ROCm is generic, not per family


def translate_requirement(req: Requirement, context: DependencyContext) -> Decision:
    """One Requires-Dist entry → the MatchSpecs it becomes for this target.

    A requirement that holds only with extras of the package itself gets action ``extra``
    and lists them (its specs go to the ``<name>-with-<extra>`` metapackages).
    """
    text = str(req)
    reasons: list[str] = []
    report = False
    extra_names: tuple[str, ...] = ()
    if req.marker is not None:
        outcome = decide(req.marker, context.markers)
        if outcome.holds:
            reasons.append(outcome.assumption)
            report = bool(outcome.assumption)
        else:
            hits = [(e, _with_extra(req.marker, context.markers, e)) for e in marker_extras(req.marker)]
            extra_names = tuple(e for e, o in hits if o.holds)
            if not extra_names:
                why = outcome.assumption or "marker is false for this target"
                return Decision(text, "excluded", reason=f"{why}: {req.marker}", report=bool(outcome.assumption))
            assumptions = sorted({o.assumption for e, o in hits if o.holds and o.assumption})
            reasons.extend(assumptions)
            report = bool(assumptions)
    specs, notes, loud = requirement_specs(req, context)
    reasons.extend(notes)
    action: Action = "extra" if extra_names else "kept"
    if extra_names:
        reasons.insert(0, "only with extra " + ", ".join(extra_names))
    return Decision(text, action, tuple(specs), "; ".join(r for r in reasons if r), extra_names, report or loud)


def _with_extra(marker: Marker, context: MarkerContext, extra: str) -> Outcome:
    """Whether ``extra`` pulls the requirement in: :func:`decide`, except that a marker true for
    only some of the target's Pythons counts as true (the extra's own packages are split by
    Python, :func:`python_split` with ``extra``, and each decides it exactly)."""
    outcome = decide(marker, context, extra)
    if not outcome.holds and len(context.pythons) > 1 and True in context.outcomes(marker, extra):
        return Outcome(True)
    return outcome


def marker_extras(marker: Marker) -> tuple[str, ...]:
    """The extras a marker compares ``extra`` with (PEP 685-normalised, sorted).

    Only these can turn a marker that is false without extras true.
    """
    return tuple(sorted({str(canonicalize_name(m.group(1) or m.group(2))) for m in _EXTRA_COMPARISON.finditer(str(marker))}))


_EXTRA_COMPARISON = re.compile(r"""\bextra\s*==\s*["']([^"']+)["']|["']([^"']+)["']\s*==\s*extra\b""")


def requirement_specs(req: Requirement, context: DependencyContext, build_parts: Sequence[str] = ()) -> tuple[list[str], list[str], bool]:
    """MatchSpecs for a requirement whose marker holds: ``(specs, notes, notes_are_warnings)``.

    ``build_parts`` must appear in the dependency's build string, in order (``cu124`` for the
    torch of a ``+cu124torch2.4`` extension), before those of a local label or GPU family.
    """
    names = context.names
    mapped = names.to_conda(req.name)
    translated = translate_specifier_set(req.specifier)
    notes = list(translated.notes)
    loud = bool(notes)
    version = names.dependency_version(req.name, translated.version, translated.pinned)
    glob_parts: list[str] = list(build_parts)
    if translated.local:
        glob_parts.extend(parse_local(translated.local).build_parts)
    if str(canonicalize_name(req.name)) in family_specific_names():
        if context.family is not None:
            glob_parts.append(context.family.tag)
        elif not context.multi_arch:
            notes.append(f"{req.name} is built per GPU family and this package has none (see --gpu-family): any family satisfies it")
            loud = loud or str(canonicalize_name(req.name)) == family_mutex()  # core/devel may be plain builds
    build = "*" + "*".join(glob_parts) + "*" if glob_parts else None
    if req.url:
        notes.append(f"direct reference {req.url} dropped: depends on {mapped.name} from the channel")
        loud = True
    specs = [match_spec(mapped.name, version, build), *mapped.with_specs]
    for extra in sorted(req.extras):
        specs.extend(names.extra_specs(req.name, extra, version, build))
    return merge_specs(specs), notes, loud


def match_spec(name: str, version: str = "", build: str | None = None) -> str:
    """``name [version [build]]`` in conda's space-separated MatchSpec form."""
    if build:
        return f"{name} {version or '*'} {build}"
    return f"{name} {version}" if version else name


def merge_specs(specs: Sequence[str]) -> list[str]:
    """Drop exact duplicates, keeping first occurrence order."""
    return list(dict.fromkeys(specs))
