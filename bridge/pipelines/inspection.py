"""What a conversion would produce, or what a conda package holds; nothing is written.

:func:`inspect_path` reads one input and returns a :class:`PackageReport` per package:

* a wheel (or ROCm's ``rocm-V.tar.gz``) gives the *plan* of every conda package ``convert``
  would write (kind ``plan``): identity, where each build-string part, dependency and
  constraint came from, what became of every Requires-Dist entry, entry points, file and byte
  counts, the links the package would hold, warnings;
* a ``.conda``/``.tar.bz2`` gives what the package holds (kind ``package``) and what
  ``to-wheel`` would make of it.

Plan reports render the plan of :mod:`bridge.plan.wheel_to_conda` (the same plan ``convert`` writes,
with the origins its planner recorded) and package reports read
:mod:`bridge.sources.conda` (the same reader ``to-wheel`` uses), so they cannot disagree with
what those commands do.  ``docs/json.md`` documents :meth:`PackageReport.to_dict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..core.errors import BadInput, BridgeError
from ..gpu.rocm import is_rocm_sdist, meta_options, rocm_meta_distributions
from ..model import Distribution
from ..plan.conda_to_wheel import plan_wheel_from_conda
from ..plan.types import CondaPackage, ConversionOptions, PackageFormat
from ..plan.wheel_to_conda import plan_packages
from ..sources.conda import SUFFIXES as CONDA_SUFFIXES
from ..sources.conda import open_conda
from ..translate.multiarch import device_extra_target
from ..translate.names import NameMap
from ..translate.specs import Origin
from .inputs import open_distribution

ReportKind = Literal["plan", "package"]


@dataclass
class RequirementReport:
    """What became of one Requires-Dist entry (``kept``, ``excluded`` or ``extra``)."""

    requirement: str
    action: str
    specs: list[str]
    reason: str
    extras: list[str]
    warning: bool  # the reason is an assumption or a loss the user must hear about


@dataclass
class FileCounts:
    count: int  # regular files (paths.json hardlinks)
    bytes: int  # their total size
    links: int  # softlinks
    placeholders: int  # files whose prefix is rewritten at install
    licenses: int | None  # files under info/licenses (None: not read)


@dataclass
class Link:
    path: str
    target: str


@dataclass
class EntryPointReport:
    name: str
    value: str  # module:function
    gui: bool
    launchers: list[str]  # planned launcher paths; empty when the client creates them (noarch: python)


@dataclass
class WheelPreview:
    """What ``to-wheel`` would make of a conda package."""

    ok: bool
    filename: str | None
    tags: list[str]
    requires_dist: list[str]
    dropped: list[Origin]  # depends left out, with the reason
    reason: str | None = None  # why to-wheel refuses (when not ok)
    hint: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class PythonRegionReport:
    """Which Pythons a per-Python build serves, and why the package was split."""

    python: str  # PEP 440 specifier of the region ("<3.9", ">=3.9"; "" when only the implementation differs)
    implementation: str | None  # "cpython"/"pypy" when split by implementation
    rank: int  # added to the build number: the newest region has the highest
    reason: str  # the Requires-Dist entries whose markers differ between the regions


@dataclass
class PackageReport:
    """One conda package: planned from a source (``plan``) or read from a file (``package``)."""

    kind: ReportKind
    source: str
    source_size: int | None
    filename: str  # <subdir>/<name>-<version>-<build><ext>
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    noarch: str | None
    pypi_name: str
    pypi_version: str
    wheel_tags: list[str]
    build_parts: list[Origin]
    variant: dict[str, Any] | None
    depends: list[Origin]
    constrains: list[Origin]
    track_features: str | None
    license: str | None
    requirements: list[RequirementReport]
    entry_points: list[EntryPointReport]
    files: FileCounts
    links: list[Link]
    extra_of: str | None = None  # for <name>-with-<extra> packages: the distribution whose extra it is
    extra: str | None = None  # ... the extra
    base_package: str | None = None  # ... and the base conda package (name-version-build)
    python_region: PythonRegionReport | None = None  # plan of a per-Python build (markers split the package)
    to_wheel: WheelPreview | None = None  # kind "package" only
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- entry points ------------------------------------------------------------------------------


def inspect_path(
    path: str | Path,
    options: ConversionOptions = ConversionOptions(),  # noqa: B008  (frozen: one shared default is safe)
    *,
    fmt: PackageFormat = "conda",
    rocm_extras: Sequence[str] = (),
    read_packages: bool = True,
) -> list[PackageReport]:
    """Reports for one input; raises :class:`BridgeError` when it cannot be read or planned.

    A conda package is described as it is (``read_packages``) or planned for conversion like a
    wheel (``convert --dry-run``).
    """
    path = Path(path)
    if read_packages and path.name.endswith(CONDA_SUFFIXES):
        return [inspect_conda(path, options.names)]
    if path.name.endswith(".tar.gz"):
        if not is_rocm_sdist(path):
            raise BadInput(path, "only ROCm's rocm-VERSION.tar.gz sdist is read", hint="inspect a wheel built from this sdist instead")
        return inspect_rocm_meta(path, options, fmt=fmt, extras=rocm_extras)
    with open_distribution(path, hash_source=False) as dist:
        return plan_reports(dist, plan_packages(dist, options), fmt)


def inspect_rocm_meta(
    sdist: str | Path | None,
    options: ConversionOptions,
    *,
    version: str | None = None,
    fmt: PackageFormat = "conda",
    extras: Sequence[str] = (),
) -> list[PackageReport]:
    """Plans of the ``rocm`` meta package, one per GPU family (from the sdist or ``version``)."""
    reports: list[PackageReport] = []
    for dist in rocm_meta_distributions(sdist, version=version, family=options.gpu_family, extras=extras):
        origin = "one of the families the sdist offers" if sdist else f"--gpu-family {options.gpu_family}"
        per_family = replace(meta_options(dist, options), gpu_family_origin=origin)
        reports += plan_reports(dist, plan_packages(dist, per_family), fmt)
    return reports


def plan_reports(dist: Distribution, packages: Iterable[CondaPackage], fmt: PackageFormat = "conda") -> list[PackageReport]:
    """Reports rendering plans made from ``dist`` (the distribution must still be open)."""
    return [_plan_report(dist, pkg, fmt) for pkg in packages]


# -- plans -------------------------------------------------------------------------------------


def _plan_report(dist: Distribution, pkg: CondaPackage, fmt: PackageFormat) -> PackageReport:
    """The plan as it is: every origin was recorded by the planner where it decided."""
    extra_of, extra = pkg.provenance.extra_of, pkg.provenance.extra
    selector = extra_of is not None and extra is not None and device_extra_target(extra) is not None
    base_package = f"{pkg.name.removesuffix(f'-with-{extra}')}-{pkg.version}-{pkg.build}" if extra_of and not selector else None
    variant = pkg.variant
    links = [Link(f.path, f.target) for f in pkg.files if f.target is not None]
    regular = [f for f in pkg.files if f.target is None]
    return PackageReport(
        kind="plan",
        source=dist.provenance.path,
        source_size=dist.provenance.size,
        filename=f"{pkg.subdir}/{pkg.filename(fmt)}",
        name=pkg.name,
        version=pkg.version,
        build=pkg.build,
        build_number=pkg.build_number,
        subdir=pkg.subdir,
        noarch=pkg.noarch,
        pypi_name=dist.name,
        pypi_version=str(dist.version),
        wheel_tags=sorted(map(str, dist.tags)),
        build_parts=list(pkg.build_parts),
        variant={
            "label": variant.label,
            "backend": variant.backend,
            "family": str(variant.family) if variant.family else None,
            "build_number_offset": variant.build_number_offset,
        },
        depends=list(pkg.dependencies),
        constrains=list(pkg.constraints),
        track_features=pkg.track_features,
        license=pkg.license,
        requirements=[
            RequirementReport(d.requirement, d.action, list(d.specs), d.reason, list(d.extras), d.report) for d in pkg.decisions
        ],
        entry_points=[] if extra_of else _entry_points(dist, pkg),
        files=FileCounts(
            count=len(regular),
            bytes=sum(f.size for f in regular),
            links=len(links),
            placeholders=sum(1 for f in pkg.files if f.placeholder),
            licenses=len(pkg.info_files),
        ),
        links=links,
        extra_of=extra_of,
        python_region=_region_report(pkg),
        extra=extra if extra_of else None,
        base_package=base_package,
        warnings=list(pkg.warnings),
        notes=list(pkg.notes),
    )


def _region_report(pkg: CondaPackage) -> PythonRegionReport | None:
    region = pkg.target.region
    if not region.split:
        return None
    return PythonRegionReport(region.specifier, region.implementation or None, region.rank, region.reason)


def _entry_points(dist: Distribution, pkg: CondaPackage) -> list[EntryPointReport]:
    paths = {f.path for f in pkg.files}
    result = []
    for ep in dist.entry_points:
        candidates = (f"bin/{ep.name}", f"Scripts/{ep.name}.exe", f"Scripts/{ep.name}-script.py", f"Scripts/{ep.name}-script.pyw")
        result.append(EntryPointReport(ep.name, ep.value, ep.gui, [c for c in candidates if c in paths]))
    return result


# -- conda packages ----------------------------------------------------------------------------


def inspect_conda(path: str | Path, names: NameMap | None = None) -> PackageReport:
    """What a ``.conda``/``.tar.bz2`` holds and what ``to-wheel`` would make of it."""
    from .to_wheel import ExtraOf, ToWheelOptions, check_wheelable, planned_wheel_name, wheel_warnings

    with open_conda(path, hash_source=False) as package:
        source = plan_wheel_from_conda(package, names)
        dist = source.dist
        index = source.index
        entries = source.paths
        link_targets = {m.origin: m.target for m in dist.members if m.target is not None}
        links = [Link(p, link_targets.get(p, "?")) for p, e in entries.items() if e.get("path_type") == "softlink"]
        regular = [e for e in entries.values() if e.get("path_type", "hardlink") != "softlink"]
        preview = WheelPreview(
            ok=True,
            filename=None,
            tags=sorted(map(str, dist.tags)),
            requires_dist=[str(r) for r in dist.requires_dist],
            dropped=[Origin(d.spec, d.reason) for d in source.decisions if d.action == "dropped"],
            warnings=wheel_warnings(source),
        )
        extra_of = ExtraOf.of(source)
        try:
            if extra_of is not None:
                preview.ok, preview.requires_dist = False, []
                preview.reason = f"no wheel of its own: extra '{extra_of.extra}' of {extra_of.pypi_name}"
                preview.hint = f"to-wheel with {extra_of.base}.conda folds it into that wheel (its METADATA declares the extra)"
            else:
                check_wheelable(dist, source, ToWheelOptions())
                preview.filename = planned_wheel_name(dist, source)
        except BridgeError as exc:
            preview.ok, preview.reason, preview.hint = False, exc.reason, exc.hint
        noarch = index.get("noarch")
        launchers = {p for p in entries if p.startswith(("bin/", "Scripts/"))}
        origin = source.provenance
        return PackageReport(
            kind="package",
            source=dist.provenance.path,
            source_size=dist.provenance.size,
            filename=f"{index['subdir']}/{source.filename}",
            name=index["name"],
            version=index["version"],
            build=index["build"],
            build_number=int(index.get("build_number") or 0),
            subdir=index["subdir"],
            noarch=noarch if isinstance(noarch, str) else ("generic" if noarch else None),
            pypi_name=dist.name,
            pypi_version=str(dist.version),
            wheel_tags=sorted(map(str, dist.tags)),
            build_parts=[],
            variant=(
                {"label": origin.local_version_label, "backend": origin.variant_backend, "family": origin.gpu_family, "build_number_offset": None}
                if origin.keys
                else None
            ),
            depends=[Origin(s, "info/index.json") for s in index.get("depends") or []],
            constrains=[Origin(s, "info/index.json") for s in index.get("constrains") or []],
            track_features=index.get("track_features") or None,
            license=index.get("license"),
            requirements=[],
            entry_points=[
                EntryPointReport(ep.name, ep.value, ep.gui, sorted(p for p in launchers if _launcher_name(p) == ep.name))
                for ep in dist.entry_points
            ],
            files=FileCounts(
                count=len(regular),
                bytes=sum(int(e.get("size_in_bytes") or 0) for e in regular),
                links=len(links),
                placeholders=sum(1 for e in regular if e.get("prefix_placeholder")),
                licenses=None,
            ),
            links=links,
            extra_of=extra_of.pypi_name if extra_of else None,
            extra=extra_of.extra if extra_of else None,
            base_package=extra_of.base if extra_of else None,
            to_wheel=preview,
            warnings=[],
            notes=[f"converted by wheel2conda {origin.converter_version} from {origin.source}"] if origin.source else [],
        )


def _launcher_name(path: str) -> str:
    """The entry point a launcher path is for (`bin/x`, `Scripts/x.exe`, `Scripts/x-script.py` → `x`)."""
    name = path.rsplit("/", 1)[-1]
    for suffix in ("-script.pyw", "-script.py", ".exe"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
