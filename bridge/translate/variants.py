"""GPU and backend variants: local version labels, GPU families, and what they add.  Pure functions.

A wheel carries its variant where conda cannot see it: in the local version label
(``+rocm7.11.0a20260104``, ``+cu124torch2.4``), in a distribution-name suffix
(``rocm-sdk-libraries-gfx103X-dgpu``) or in the index it came from (``…/gfx103X-dgpu/``).
:func:`variant_for` turns all of it into conda's language: build-string parts
(``rocm7.11``, ``gfx103X``), run dependencies (``__cuda >=12``), constrains
(``cuda-version 12.*``, ``rocm ==V *gfx103X*``), ``track_features`` and a build-number
offset.  The patterns and the per-backend effects are data (``bridge/data/gpu.yaml``);
``docs/gpu.md`` explains the choices.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from ..core.data import load
from .buildstring import sanitize
from .multiarch import device_package


class FamilyError(ValueError):
    """A GPU family that cannot be used (malformed, or contradicting another source)."""


@dataclass(frozen=True)
class GpuFamily:
    """A ROCm GPU target family, or only its tag when the family was given by tag (``gfx103X``)."""

    tag: str  # the build-string tag: "gfx103X"
    name: str | None = None  # canonical family name, "gfx103X-dgpu"; None when given by tag only
    known: bool = True  # listed in gpu.yaml

    def __str__(self) -> str:
        return self.name or self.tag


@dataclass(frozen=True)
class LocalLabel:
    """A parsed local version label."""

    label: str
    backend: str | None = None  # "rocm", "cuda", "cpu", ... (None: not a known GPU/backend label)
    build_parts: tuple[str, ...] = ()
    groups: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Variant:
    """Everything a local label and a GPU family add to a conda package."""

    label: str | None  # the original local label, kept whole in about.json
    backend: str | None = None
    family: GpuFamily | None = None
    build_parts: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()  # MatchSpecs
    constrains: tuple[str, ...] = ()  # MatchSpecs
    requires: tuple[str, ...] = ()  # PEP 508 requirements that become run dependencies (names mapped)
    requires_build: tuple[tuple[str, str], ...] = ()  # (name-map mode, part): what the ``requires`` dependency's build must contain

    def framework_build(self, mode: str) -> tuple[str, ...]:
        """Build-string parts the framework dependency (``torch``) must carry under name map ``mode``."""
        return tuple(part for m, part in self.requires_build if m == mode)
    pins: tuple[str, ...] = ()  # PEP 508 requirements that become constrains (names mapped)
    track_features: str | None = None
    build_number_offset: int = 0
    notes: tuple[str, ...] = ()


# -- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LabelRule:
    backend: str
    pattern: re.Pattern[str]
    build: tuple[str, ...]
    upper: frozenset[str]


@cache
def _rocm() -> Mapping[str, Any]:
    return load("gpu")["rocm"]


@cache
def _families() -> dict[str, tuple[str, str]]:
    """lower-case family name → (canonical name, tag)."""
    return {name.lower(): (name, tag) for name, tag in _rocm()["families"].items()}


@cache
def _tags() -> dict[str, str]:
    """lower-case tag → tag."""
    return {tag.lower(): tag for tag in _rocm()["families"].values()}


@cache
def _label_rules() -> tuple[_LabelRule, ...]:
    return tuple(
        _LabelRule(r["backend"], re.compile(r["pattern"]), tuple(r["build"]), frozenset(r.get("upper", ())))
        for r in load("gpu")["local_labels"]
    )


def family_mutex() -> str:
    """PyPI name of the per-family meta package (``rocm``)."""
    return str(_rocm()["mutex"])


def family_specific_names() -> frozenset[str]:
    """Normalised names of packages that are per family without saying so in their name."""
    return frozenset(str(canonicalize_name(n)) for n in _rocm()["family_specific"])


def aliases() -> dict[str, str]:
    """Renamed families: old name → new name."""
    return dict(_rocm()["aliases"])


def known_families() -> dict[str, str]:
    """Family name → tag, as listed in gpu.yaml."""
    return dict(_rocm()["families"])


# -- families --------------------------------------------------------------------------------


def canonical_family_name(text: str) -> str:
    """TheRock spelling of a family name: lower case except the group's trailing ``X``."""
    group, sep, suffix = text.strip().lower().partition("-")
    if group.endswith("x"):
        group = group[:-1] + "X"
    return group + sep + suffix


def resolve_family(text: str) -> GpuFamily:
    """A family given by name (``gfx103X-dgpu``, any case) or by tag (``gfx103X``)."""
    key = text.strip().lower()
    if key in _families():
        name, tag = _families()[key]
        return GpuFamily(tag, name)
    if key in _tags():
        return GpuFamily(_tags()[key])
    if not re.match(_rocm()["family_pattern"], key):
        raise FamilyError(f"{text!r} is not a GPU family (e.g. {', '.join(sorted(_rocm()['families'])[:4])}, ...)")
    name = canonical_family_name(key)
    return GpuFamily(sanitize(name.split("-", 1)[0]), name, known=False)


@cache
def _targets() -> dict[str, frozenset[str]]:
    """Canonical family name → the GPU targets (chips) it builds for."""
    return {name: frozenset(str(c).lower() for c in chips) for name, chips in _rocm().get("targets", {}).items()}


def family_targets(family: GpuFamily) -> tuple[str, ...]:
    """The chips every build of ``family`` runs on, sorted: the family's own list when it is
    named, else (given by tag) the chips common to all families with that tag; () if unknown."""
    if family.name and family.name in _targets():
        return tuple(sorted(_targets()[family.name], key=_chip_order))
    sets = [chips for name, chips in _targets().items() if _families()[name.lower()][1] == family.tag]
    return tuple(sorted(frozenset.intersection(*sets), key=_chip_order)) if sets else ()


def family_for_targets(chips: Iterable[str]) -> GpuFamily | None:
    """The family that builds for exactly ``chips`` (the reverse of :func:`family_targets`).

    Given as a tag when several families with one tag list those chips; None when no family does.
    """
    wanted = frozenset(c.strip().lower() for c in chips)
    names = sorted(name for name, have in _targets().items() if have == wanted)
    tags = {_families()[n.lower()][1] for n in names}
    if len(tags) != 1:
        return None
    tag = tags.pop()
    if family_targets(GpuFamily(tag)) == tuple(sorted(wanted, key=_chip_order)):
        return GpuFamily(tag)
    return GpuFamily(tag, names[0])


def _chip_order(chip: str) -> tuple[int, str]:
    """gfx908 < gfx90a < gfx942 < gfx1030: by the number's length, then its text."""
    digits = chip.removeprefix("gfx")
    return len(digits), digits


def family_from_name(dist_name: str) -> GpuFamily | None:
    """The family a distribution name ends in (``rocm-sdk-libraries-gfx103X-dgpu``), if any.

    A multi-arch device package (``rocm-sdk-device-gfx942``, ``amd-torch-device-gfx11``) names a
    GPU *target*, not a family: it has none (:mod:`bridge.translate.multiarch`).
    """
    if device_package(dist_name) is not None:
        return None
    m = re.match(_rocm()["name_pattern"], dist_name.strip(), re.IGNORECASE)
    if not m:
        return None
    return resolve_family(m.group("family"))


def family_from_url(url: str) -> GpuFamily | None:
    """The family an index URL or path names (``…/v2-staging/gfx103X-dgpu/``), if any."""
    path = unquote(urlsplit(url).path if "://" in url else url).replace("\\", "/")
    for segment in reversed([s for s in path.split("/") if s]):
        try:
            return resolve_family(segment)
        except FamilyError:
            continue
    return None


def choose_family(option: str | None, index_url: str | None) -> str | None:
    """The family for a conversion from ``--gpu-family`` and an ``--index-url`` hint.

    Raises :class:`FamilyError` when the option is malformed or the two disagree.
    """
    given = resolve_family(option) if option else None
    hinted = family_from_url(index_url) if index_url else None
    if given and hinted and not same_family(given, hinted):
        raise FamilyError(f"--gpu-family {given} contradicts the index URL, which is for {hinted}; give only one of them, or make them agree")
    chosen = given or hinted
    return str(chosen) if chosen else None


def same_family(a: GpuFamily, b: GpuFamily) -> bool:
    """Whether two families name the same GPUs (equal tags; aliases share tags)."""
    return a.tag == b.tag


# -- local labels ----------------------------------------------------------------------------


def parse_local(label: str) -> LocalLabel:
    """Backend and build-string parts of a local label (``cu124torch2.4`` → ``cu124``, ``torch2.4``)."""
    text = label.lower()
    for rule in _label_rules():
        m = rule.pattern.match(text)
        if not m:
            continue
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        shown = {k: (v.upper() if k in rule.upper else v) for k, v in groups.items()}
        blanks = dict.fromkeys(rule.pattern.groupindex, "")
        parts = []
        for template in rule.build:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
            if not fields or any(f in shown for f in fields):
                parts.append(template.format(**{**blanks, **shown}))
        return LocalLabel(label, rule.backend, tuple(parts), groups)
    return LocalLabel(label, None, (sanitize(label),))


def build_glob_for_local(local: str) -> str | None:
    """Build-string glob that selects the variant a ``==V+local`` pin asks for."""
    parts = parse_local(local).build_parts
    return "*" + "*".join(parts) + "*" if parts else None


def cuda_major(digits: str) -> int:
    """CUDA major of a ``cuXYZ`` label: ``124`` → 12, ``118`` → 11, ``12`` → 12, ``92`` → 9."""
    if len(digits) >= 3 or digits.startswith("1"):
        return int(digits[:2])
    return int(digits[0])


def _torch_requirement(xy: str) -> str:
    major, minor = (int(p) for p in xy.split("."))
    return f"torch>={major}.{minor},<{major}.{minor + 1}"


def _rocm_requirement(groups: Mapping[str, str]) -> str:
    version = groups["rocm"]
    rest = groups.get("rest")
    if rest:
        return f"{family_mutex()}=={version}+{rest}"
    if version.count(".") == 1 and re.fullmatch(r"[\d.]+", version):
        return f"{family_mutex()}=={version}.*"
    return f"{family_mutex()}=={version}"


# -- variants --------------------------------------------------------------------------------


def family_pins() -> tuple[str, ...]:
    """Names every family-specific package constrains to its family besides the mutex."""
    return tuple(str(canonicalize_name(n)) for n in _rocm().get("family_pins") or ())


def family_requirements(name: str, version: str) -> tuple[str, ...]:
    """PEP 508 run requirements gpu.yaml adds to a family's SDK package (``{version}`` filled in)."""
    table = {str(canonicalize_name(k)): tuple(v) for k, v in (_rocm().get("family_requires") or {}).items()}
    m = re.match(_rocm()["name_pattern"], name.strip(), re.IGNORECASE)
    key = str(canonicalize_name(m.group("base") if m else name))
    return tuple(r.format(version=version) for r in table.get(key, ()))


def variant_for(local: str | None, *, name: str = "", family: str | GpuFamily | None = None, version: str | None = None) -> Variant:
    """The variant of distribution ``name`` (public version ``version``) with local label ``local``, built for ``family``.

    The family applies to family-specific packages only: a ROCm-labelled wheel, a name ending
    in a family, the per-family meta package and the SDK packages each family's CI job builds
    (``rocm-sdk-core``, ``rocm-sdk-devel``).  Such a package also constrains the
    ``family_pins`` names to its family and, with ``version``, gets gpu.yaml's
    ``family_requires``.  Raises :class:`FamilyError` when ``family`` contradicts the family in
    the name.
    """
    parsed = parse_local(local) if local else LocalLabel("")
    wanted = resolve_family(family) if isinstance(family, str) else family
    named = family_from_name(name) if name else None
    if named and wanted and not same_family(named, wanted):
        raise FamilyError(
            f"the name {name!r} is for GPU family {named} but the family given is {wanted}; "
            f"convert it with its own family's wheels (or without --gpu-family)"
        )
    normalized = str(canonicalize_name(name)) if name else ""
    family_specific = named is not None or parsed.backend == "rocm" or normalized in family_specific_names()
    chosen = (named or wanted) if family_specific else None
    notes: list[str] = []
    if wanted and not family_specific:
        notes.append(f"GPU family {wanted} not applied: the package is not specific to a GPU family")

    backend = parsed.backend
    effects: Mapping[str, Any] = load("gpu")["backends"].get(backend or "", {}) or {}
    values = {"cuda_major": str(cuda_major(parsed.groups["cuda"]))} if "cuda" in parsed.groups else {}
    requires = [_torch_requirement(parsed.groups["torch"])] if "torch" in parsed.groups else []
    # the framework build must be of the same backend: with PyPI names, the label's backend part as
    # our own torch builds spell it (+cu124 -> py312_cu124_100, +rocm6.2 -> py312_rocm6.2_…_0);
    # other name maps say in gpu.yaml (conda-forge's pytorch: cuda126_…)
    requires_build: list[tuple[str, str]] = []
    if requires and parsed.build_parts and "framework_build" in effects:
        requires_build.append(("pypi", parsed.build_parts[0]))
        requires_build.extend((mode, part) for mode, part in (effects["framework_build"] or {}).items())
    pins: list[str] = []
    if backend == "rocm" and "rocm" in parsed.groups:
        pins.append(_rocm_requirement(parsed.groups))
    elif chosen is not None and normalized != str(canonicalize_name(family_mutex())):
        pins.append(family_mutex())  # only this family's meta package may sit beside it
    if chosen is not None:
        pins.extend(n for n in family_pins() if n != normalized)  # ... and only its core
        if version is not None:
            requires.extend(family_requirements(name, version))
    return Variant(
        label=local or None,
        backend=backend,
        family=chosen,
        build_parts=(*parsed.build_parts, *((chosen.tag,) if chosen else ())),
        depends=tuple(s.format(**values) for s in effects.get("depends", ())),
        constrains=tuple(s.format(**values) for s in effects.get("constrains", ())),
        requires=tuple(requires),
        requires_build=tuple(requires_build),
        pins=tuple(pins),
        track_features=effects.get("track_features"),
        build_number_offset=int(effects.get("build_number_offset", 0)),
        notes=tuple(notes),
    )
