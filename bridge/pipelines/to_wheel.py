"""The conda → wheel pipeline: read a conda package, check it fits a wheel, write the wheel.

Library entry points: :func:`to_wheel` (raises) and :func:`convert_to_wheel` (captures the
error in its result, for batch use); :func:`fold_extras` folds ``<name>-with-<extra>``
metapackages (never a wheel of their own) into their base package's wheel.  What is refused and why:

* nothing Python-importable (no files in site-packages) unless ``data_only`` or the package is
  one wheel2conda made from a wheel (a headers/data-only wheel such as ``pybind11-global`` goes back);
* files other than Python scripts that carry a prefix placeholder (a wheel has no install-time
  relocation) unless ``keep_placeholders``, which ships them unchanged;
* links that are absolute, escape the environment or loop (:mod:`bridge.model.roundtrip`; a link to a
  directory or to another package's path is a ``LINKS`` row without a copy);
* zstd members for a wheel that older Pythons may install (:func:`bridge.sinks.wheel.zstd_refusal`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..core.errors import BridgeError, Unsupported
from ..model import Distribution
from ..model.roundtrip import CONDA_RECORD
from ..model.variant import VariantError, VariantProperty, WheelVariant, check_label, split_variant_filename, variant_hash
from ..plan.conda_to_wheel import WheelPlan, plan_wheel_from_conda
from ..sinks.settings import WriteSettings
from ..sinks.wheel import wheel_filename, write_wheel
from ..sources.conda import open_conda
from ..translate.names import NameMap
from ..translate.reverse import ReverseDecision, ReverseError, variant_label, variant_parts
from ..translate.wheelvariant import properties_from_build, providers_for
from .outcome import Outcome


@dataclass(frozen=True)
class ToWheelOptions:
    """What the user chose for conda → wheel."""

    names: NameMap = field(default_factory=NameMap)
    glibc: tuple[int, int] | None = None  # manylinux floor for Linux packages without __glibc
    data_only: bool = False
    keep_placeholders: bool = False
    variant: bool = False  # PEP 825 (draft): label the file name, write variant.json
    variant_label: str | None = None
    variant_properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtraOf:
    """A ``<name>-with-<extra>`` metapackage (``convert`` makes one per extra): whose extra it is."""

    base: str  # the base package's ``name-version-build`` (same version and build string)
    extra: str
    pypi_name: str  # the distribution whose extra it is

    @classmethod
    def of(cls, source: WheelPlan) -> ExtraOf | None:
        """From ``about.json`` ``extra.wheel2conda`` (``extra_of``, ``extra``), when the package is one."""
        extra, pypi_name = source.provenance.extra, source.provenance.extra_of
        suffix = f"-with-{extra}"
        name = str(source.index["name"])
        if extra is None or pypi_name is None or not name.endswith(suffix):
            return None
        return cls(f"{name[: -len(suffix)]}-{source.index['version']}-{source.index['build']}", extra, pypi_name)


@dataclass(frozen=True)
class WheelDetail:
    """What ``to-wheel`` reports of one conda package (its wheel is the outcome's one output)."""

    name: str = ""
    version: str = ""
    tags: list[str] = field(default_factory=list)
    decisions: list[ReverseDecision] = field(default_factory=list)
    provides_extra: list[str] = field(default_factory=list)
    extra_of: ExtraOf | None = None  # an extras metapackage: no wheel of its own
    skipped: str | None = None  # why no wheel was written (extras metapackages)
    folded_into: Path | None = None  # the base package's wheel that declares the extra


def to_wheel(path: str | Path, out_dir: str | Path, options: ToWheelOptions = ToWheelOptions(), settings: WriteSettings | None = None) -> Outcome[WheelDetail]:
    """Convert one ``.conda``/``.tar.bz2`` into a wheel in ``out_dir``; raises :class:`BridgeError`."""
    started = time.monotonic()
    path = Path(path)
    with open_conda(path) as package:
        source = plan_wheel_from_conda(package, options.names, options.glibc)
        dist = source.dist
        extra_of = ExtraOf.of(source)
        if extra_of is not None:  # a wheel declares its extras itself: folded by fold_extras, never a wheel
            skipped = f"extra '{extra_of.extra}' of {extra_of.pypi_name}: no wheel of its own (give {extra_of.base}.conda too: its wheel declares the extra)"
            return Outcome(path, WheelDetail(dist.name, str(dist.version), extra_of=extra_of, skipped=skipped), seconds=time.monotonic() - started)
        check_wheelable(dist, source, options)
        # every wheel records its conda package, so converting it back gives the same bytes (the
        # first source's provenance included: about.json's source_sha256 names the original wheel)
        extra: dict[str, bytes] = {CONDA_RECORD: source.record().to_bytes()}
        label = None
        if options.variant:
            label, extra["variant.json"] = _variant(dist, source, options)
            # Ours replaces a variant.json the package kept from a variant wheel (as variantlib's
            # make-variant discards the input's copy).
            own = f"{dist.dist_info}/variant.json"
            dist = replace(dist, members=tuple(m for m in dist.members if not (m.scheme.in_site_packages and m.path == own)))
        filename = wheel_filename(dist, label) if label else planned_wheel_name(dist, source)
        output = write_wheel(dist, Path(out_dir), settings, filename=filename, extra_dist_info=extra)
        warnings = wheel_warnings(source)
        provides = [str(canonicalize_name(e)) for e in dist.provides_extra]
        detail = WheelDetail(dist.name, str(dist.version), sorted(map(str, dist.tags)), source.decisions, provides_extra=provides)
        return Outcome(path, detail, [output], warnings=warnings, seconds=time.monotonic() - started)


def convert_to_wheel(path: str | Path, out_dir: str | Path, options: ToWheelOptions = ToWheelOptions(), settings: WriteSettings | None = None) -> Outcome[WheelDetail]:
    """Like :func:`to_wheel`, but a refusal is returned in ``result.error`` (nothing is written)."""
    started = time.monotonic()
    try:
        return to_wheel(path, out_dir, options, settings)
    except BridgeError as exc:
        return Outcome(Path(path), WheelDetail(), error=exc, seconds=time.monotonic() - started)


def package_stem(path: Path) -> str:
    """``name-version-build`` of a ``.conda``/``.tar.bz2`` file name."""
    return path.name.removesuffix(".conda").removesuffix(".tar.bz2")


def fold_extras(results: list[Outcome[WheelDetail]]) -> None:
    """Fold each extras metapackage into its base package's wheel when both were converted.

    The base wheel's METADATA already declares the extra (``Provides-Extra`` and the
    ``extra == "…"`` requirements: wheel2conda keeps METADATA verbatim), so folding writes
    nothing; it says where the extra went, and warns when the base wheel does not declare it.
    """
    bases = {package_stem(Path(r.input)): r for r in results if r.detail.extra_of is None and r.outputs}
    for r in results:
        extra_of = r.detail.extra_of
        if extra_of is None:
            continue
        base = bases.get(extra_of.base)
        if base is None:
            continue
        (wheel,) = base.outputs
        skipped = f"extra '{extra_of.extra}' of {extra_of.pypi_name}: folded into {wheel.name} (Provides-Extra: {extra_of.extra})"
        r.detail = replace(r.detail, folded_into=wheel, skipped=skipped)
        if str(canonicalize_name(extra_of.extra)) not in base.detail.provides_extra:
            r.warnings.append(f"{wheel.name} does not declare Provides-Extra: {extra_of.extra}; pip users cannot ask for {extra_of.pypi_name}[{extra_of.extra}]")


def wheel_warnings(source: WheelPlan) -> list[str]:
    """What the user should hear about a conda package's wheel (dropped depends, left-out files)."""
    warnings = list(source.notes)
    warnings += [f"{d.spec}: {d.reason}" for d in source.decisions if d.action == "dropped" or (d.action == "kept" and d.reason)]
    bytecode = sum(1 for p in source.dropped if p.endswith((".pyc", ".pyo")))
    if bytecode:
        warnings.append(f"{bytecode} bytecode files left out (installers compile their own)")
    if source.placeholders:
        warnings.append(f"{len(source.placeholders)} files keep their build prefix placeholder (--keep-placeholders)")
    return warnings


def check_wheelable(dist: Distribution, source: WheelPlan, options: ToWheelOptions) -> None:
    """Raise :class:`Unsupported` when the package cannot become a wheel with ``options``."""
    where = dist.provenance.path
    if not source.importable and not options.data_only and source.dist_info != "wheel":
        raise Unsupported(
            where,
            "nothing Python-importable: the package has no files in site-packages",
            hint="pass --data-only for a wheel that installs its files under the environment prefix",
        )
    if source.placeholders and not options.keep_placeholders:
        shown = ", ".join(source.placeholders[:8]) + (f" and {len(source.placeholders) - 8} more" if len(source.placeholders) > 8 else "")
        raise Unsupported(
            where,
            f"{len(source.placeholders)} files carry a prefix placeholder that a wheel cannot relocate: {shown}",
            hint="--keep-placeholders ships them unchanged (they keep pointing at the build prefix)",
        )


def planned_wheel_name(dist: Distribution, source: WheelPlan) -> str:
    """The wheel's file name without ``--variant``: the recorded original's, else derived."""
    return _recorded_filename(dist, source) or wheel_filename(dist)


def _recorded_filename(dist: Distribution, source: WheelPlan) -> str | None:
    """The original wheel's file name, when the package records one that still fits."""
    if not source.wheel_filename:
        return None
    plain, _label = split_variant_filename(source.wheel_filename)  # a variant wheel keeps its label
    try:
        name, version, build, tags = parse_wheel_filename(plain)
    except (InvalidWheelFilename, ValueError):
        return None
    if name == canonicalize_name(dist.name) and version == dist.version and build == dist.build_tag and tags == dist.tags:
        return source.wheel_filename
    return None


def _variant(dist: Distribution, source: WheelPlan, options: ToWheelOptions) -> tuple[str, bytes]:
    """PEP 825 (draft) label and ``variant.json`` from the build string and the user's properties.

    The file is what variantlib 0.2.2 writes for the same variant (:mod:`bridge.model.variant`):
    providers for every namespace used, the GPU family expanded to its chips.  The label is
    ``--variant-label``, else the build string's variant parts (``rocm7.11_gfx103x``), else —
    when only ``--variant-property`` names the variant — variantlib's default, the properties' hash.
    """
    where = dist.provenance.path
    build, number = source.index["build"], int(source.index.get("build_number") or 0)
    parts = variant_parts(build, number)
    derived, unmatched = properties_from_build(parts, source.provenance.gpu_family)
    try:
        given = [VariantProperty.parse(text) for text in options.variant_properties]
        properties = tuple(sorted(set(derived) | set(given)))
        if not properties:
            raise Unsupported(where, f"build string {build!r} names no variant property", hint="give --variant-property 'namespace :: feature :: value'")
        if unmatched:
            source.notes.append(f"variant: build-string parts {', '.join(unmatched)} give no property; add them with --variant-property")
        label = options.variant_label or (variant_label(parts) if parts else variant_hash(properties))
        check_label(label)
        variant = WheelVariant(label, properties, providers_for(p.namespace for p in properties))
    except (VariantError, ReverseError) as exc:
        raise Unsupported(where, str(exc)) from None
    return label, variant.to_json()
