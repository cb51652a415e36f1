"""Plan a conda package from a :class:`Distribution` and a :class:`Target` (nothing is written).

The plan holds everything a writer needs (identity, ``index.json``/``about.json``/``link.json``
content, and every file with its archive path, mode, size and sha256) and everything
``inspect`` shows (where each decision came from).  Only small members are read here
(scripts, to rewrite their ``#!python`` line); payload files are streamed later by a writer.
"""

from __future__ import annotations

import re
import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from .. import __version__
from ..core.digest import Digests, RecordEntry, format_record, read_first_line, sha256_bytes
from ..core.errors import BadInput, Unsupported
from .launchers import windows_launcher
from ..sources.payload import NestedRef
from .links import LinkOptions, apply_links, write_order
from ..model import Distribution, EntryPoint, Member, Scheme
from ..model.conda import AboutJson, ProvenanceRecord, package_filename
from ..model.wheel import entry_point_problem
from .roundtrip import finish_plan
from ..translate.buildstring import build_string
from ..translate.layout import PLACEHOLDER, RESERVED_ROOTS, CondaLayout, unix_launcher, windows_launcher_script
from ..translate.shebang import rewrite_shebang
from ..translate.names import NameMap, extras_package
from ..translate.specs import OS_VIRTUALS, Decision, DependencyContext, MarkerContext, merge_specs, os_split, python_split, requirement_specs, translate_requirement
from ..translate.tags import PlatformTarget, Target, TagError, targets_for_tags
from ..translate.variants import FamilyError, GpuFamily, Variant, variant_for
from ..translate.versions import conda_version, nightly_build_offset, translate_specifier_set
from ..translate.wheelvariant import family_of

PackageFormat = Literal["conda", "tar.bz2", "tree"]
EXTENSIONS: dict[str, str] = {"conda": ".conda", "tar.bz2": ".tar.bz2", "tree": ""}
_REBUILD = "fix the project's metadata and rebuild the wheel, or report it to its publisher"


@dataclass
class PlannedFile:
    """One file or softlink of the package, with where its bytes come from."""

    path: str  # archive path, relative to the package root
    size: int
    sha256: str | None
    mode: int = 0o644
    member: Member | None = None  # stream it from the distribution ...
    content: bytes | None = None  # ... or write these (generated) bytes
    head: bytes | None = None  # with member: these bytes replace the member's first `skip` bytes (a rewritten shebang line)
    skip: int = 0
    nested: NestedRef | None = None  # with member: the bytes are this entry of the tar archive `member`
    target: str | None = None  # softlink target (relative)
    placeholder: str | None = None  # prefix placeholder
    file_mode: str = "text"  # how the placeholder is replaced ("text" or "binary")
    no_link: bool = False

    @property
    def is_link(self) -> bool:
        return self.target is not None

    def paths_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"_path": self.path, "path_type": "softlink" if self.is_link else "hardlink"}
        if self.sha256 is not None:
            entry["sha256"] = self.sha256
            entry["size_in_bytes"] = self.size
        if self.placeholder:
            entry["file_mode"] = self.file_mode
            entry["prefix_placeholder"] = self.placeholder
        if self.no_link:
            entry["no_link"] = True
        return entry


_EXTRA_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class ExtrasChoice:
    """Which ``<name>-with-<extra>`` packages to build: every extra (``names`` None), none, or these.

    Names are PEP 685-normalised.  ``all`` means every extra, a real extra named ``all`` included.
    """

    names: frozenset[str] | None = None

    @classmethod
    def parse(cls, text: str) -> ExtrasChoice:
        """``all``, ``none`` or ``NAME,NAME,…`` (``--extras``); :class:`ValueError` otherwise."""
        text = text.strip()
        if text == "all":
            return cls(None)
        if text == "none":
            return cls(frozenset())
        names = [n.strip() for n in text.split(",")]
        for name in names:
            if name in ("all", "none") and len(names) > 1:
                raise ValueError(f"'{name}' cannot be combined with extra names")
            if not _EXTRA_NAME.match(name):
                raise ValueError(f"{name!r} is not an extra name (expected all, none or NAME,NAME,...)")
        return cls(frozenset(str(canonicalize_name(n)) for n in names))

    def wants(self, extra: str) -> bool:
        return self.names is None or str(canonicalize_name(extra)) in self.names

    @property
    def any(self) -> bool:
        return self.names is None or bool(self.names)

    def __str__(self) -> str:
        return "all" if self.names is None else ",".join(sorted(self.names)) or "none"


#: Every extra becomes a package unless the user says otherwise (docs/extras.md argues why).
ALL_EXTRAS = ExtrasChoice(None)
NO_EXTRAS = ExtrasChoice(frozenset())


@dataclass(frozen=True)
class ConversionOptions:
    """What the user chose; everything else is derived from the wheel."""

    build_number: int | None = None
    names: NameMap = field(default_factory=NameMap)
    subdirs: tuple[str, ...] = ()  # only these subdirs (universal2, multi-platform tag sets)
    pythons: tuple[str, ...] = ()  # only these Python versions ("3.12") for multi-ABI tag sets
    extra_depends: tuple[str, ...] = ()
    name: str | None = None  # override the conda name
    gpu_family: str | None = None  # GPU target family (e.g. "gfx103X"), for build strings and pins
    extras: ExtrasChoice = ALL_EXTRAS  # which ``<name>-with-<extra>`` metapackages to plan (``--extras``)
    links: LinkOptions = field(default_factory=LinkOptions)  # dedup, SONAME links, devel tarball expansion


@dataclass
class CondaPackage:
    """A fully planned conda package."""

    name: str
    version: str
    build: str
    build_number: int
    target: Target
    layout: CondaLayout
    depends: list[str]
    constrains: list[str]
    timestamp_ms: int
    about_fields: dict[str, Any]  # about.json without extra.wheel2conda ...
    provenance: ProvenanceRecord  # ... which is this record
    link: dict[str, Any] | None
    files: list[PlannedFile]
    info_files: list[PlannedFile]
    decisions: list[Decision]
    variant: Variant
    license: str | None = None
    track_features: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # informational decisions (shown with -v)
    index_override: dict[str, Any] | None = None  # a recorded index.json (bridge.plan.roundtrip), written verbatim
    writes_provenance: bool = True  # False: a restored foreign package's about.json has no extra.wheel2conda

    @property
    def subdir(self) -> str:
        return self.target.subdir

    @property
    def about(self) -> dict[str, Any]:
        """``about.json`` as written (a fresh document: change :attr:`about_fields` or :attr:`provenance`)."""
        return AboutJson(raw=self.about_fields, provenance=self.provenance if self.writes_provenance else None).to_raw()

    @property
    def noarch(self) -> str | None:
        return "python" if self.target.noarch_python else None

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    def filename(self, fmt: PackageFormat) -> str:
        """``name-version-build`` plus the format's extension; ValueError unless conda's grammar allows it."""
        return package_filename(self.name, self.version, self.build, EXTENSIONS[fmt])

    def index_json(self) -> dict[str, Any]:
        if self.index_override is not None:
            return dict(self.index_override)
        index: dict[str, Any] = {
            "build": self.build,
            "build_number": self.build_number,
            "depends": self.depends,
            "name": self.name,
            "subdir": self.subdir,
            "timestamp": self.timestamp_ms,
            "version": self.version,
        }
        if self.constrains:
            index["constrains"] = self.constrains
        if self.license:
            index["license"] = self.license
        if self.noarch:
            index["noarch"] = self.noarch
        if self.track_features:
            index["track_features"] = self.track_features
        return index

    def paths_json(self) -> dict[str, Any]:
        return {"paths": [f.paths_entry() for f in sorted(self.files, key=lambda f: f.path)], "paths_version": 1}

    def metadata_files(self) -> list[tuple[str, bytes]]:
        """``info/*.json`` files (licenses are separate: :attr:`info_files`)."""
        files = [
            ("info/about.json", _json(self.about)),
            ("info/index.json", _json(self.index_json())),
            ("info/paths.json", _json(self.paths_json())),
        ]
        if self.link is not None:
            files.append(("info/link.json", _json(self.link)))
        return sorted(files)


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def plan_targets(dist: Distribution, options: ConversionOptions) -> list[Target]:
    """The targets to build, after the user's subdir/python selection."""
    try:
        offered = targets = targets_for_tags(dist.tags)
    except TagError as exc:  # "<why>; <what to do>"
        reason, _, fix = str(exc).rpartition("; ")
        raise Unsupported(dist.provenance.path, reason or fix, hint=fix if reason else None) from None
    if options.subdirs:
        targets = [t for t in targets if t.subdir in options.subdirs]
    if options.pythons:
        targets = [t for t in targets if t.python.kind != "exact" or t.python.xy in options.pythons]
    if not targets:
        choices = ", ".join(sorted({t.subdir + (f" (Python {t.python.xy})" if t.python.kind == "exact" else "") for t in offered}))
        raise Unsupported(dist.provenance.path, "no target left after --subdir/--python selection", hint=f"the wheel offers {choices}")
    return [split for t in targets for region in _split_by_python(dist, t) for split in _split_by_os(dist, region, options)]


def _split_by_python(dist: Distribution, target: Target) -> list[Target]:
    """One target per Python region when markers give different Pythons different dependencies."""
    regions = python_split(dist.requires_dist, target, dist.requires_python)
    return [replace(target, region=r) for r in regions]


def _split_by_os(dist: Distribution, target: Target, options: ConversionOptions) -> list[Target]:
    """One noarch target per OS when markers differ between OSes (``__win``/``__unix``, ...)."""
    if target.subdir != "noarch":
        return [target]
    split = os_split(dist.requires_dist, MarkerContext.for_target(target, dist.requires_python), extras=options.extras.wants)
    return [replace(target, platform=PlatformTarget("noarch", (*target.platform.virtual, v))) for v in split] or [target]


def plan_packages(dist: Distribution, options: ConversionOptions) -> list[CondaPackage]:
    """Every package a distribution becomes: one per target, each followed by its extras packages."""
    result: list[CondaPackage] = []
    restored: set[str] = set()
    for target in plan_targets(dist, options):
        base = plan_package(dist, target, options)
        if base.index_override is not None:  # the wheel's conda record names one package: every target restores it
            if base.stem in restored:
                continue
            restored.add(base.stem)
        result.append(base)
        if options.extras.any:
            result.extend(plan_extras(dist, base, options))
    return result


def plan_package(dist: Distribution, target: Target, options: ConversionOptions) -> CondaPackage:
    """Everything about the conda package for one target."""
    where = dist.provenance.path
    layout = CondaLayout(target, str(canonicalize_name(dist.name)))
    family, variant_notes = _family_option(dist, options)
    try:
        variant = variant_for(dist.version.local, name=dist.name, family=family, version=dist.version.public)
    except FamilyError as exc:
        raise BadInput(where, str(exc)) from None
    build_number = options.build_number
    if build_number is None:
        build_number = dist.build_tag[0] if dist.build_tag else 0
    build_number += nightly_build_offset(dist.version) + variant.build_number_offset + target.region.rank
    build = _build_string(target, variant, build_number, where)
    mapped = options.names.to_conda(dist.name)
    name = options.name or mapped.name

    context = DependencyContext(MarkerContext.for_target(target, dist.requires_python), options.names, variant.family)
    decisions = [translate_requirement(req, context) for req in dist.requires_dist]
    depends = merge_specs(
        [
            *_python_depends(dist, target),
            *target.platform.virtual,
            *variant.depends,
            *(s for r in variant.requires for s in requirement_specs(Requirement(r), context, variant.framework_build(options.names.mode))[0]),
            *(s for d in decisions if d.action == "kept" for s in d.specs),
            *options.extra_depends,
        ]
    )
    constrains = merge_specs([*variant.constrains, *_pins(variant, depends, context), *mapped.with_specs])
    # an extra's requirement is reported only when that extra's package is built (--extras)
    warnings = [f"{d.requirement}: {d.reason}" for d in decisions if d.report and (d.action != "extra" or any(map(options.extras.wants, d.extras)))]
    if variant.family is not None and not variant.family.known:
        warnings.append(f"GPU family {variant.family} is not listed in gpu.yaml; tagged {variant.family.tag}")
    notes = [*variant_notes, *variant.notes]

    files, link_warnings = apply_links(dist, layout, _payload(dist, layout, where), options.links, where)
    files += _launchers(dist, layout, where)
    _check_collisions(files, where)
    files.append(_installer_file(dist, layout))
    files.append(_record_file(dist, layout, files))
    files.sort(key=write_order)  # by path; files inside a nested archive in archive order
    licenses = _license_files(dist)

    link = None
    if target.noarch_python:
        for ep in dist.entry_points:  # conda makes these launchers at install time: checked as strictly
            _check_entry_point(ep, where)
        noarch: dict[str, Any] = {"type": "python"}
        if dist.entry_points:
            noarch["entry_points"] = [f"{ep.name} = {ep.value}" for ep in dist.entry_points]
        link = {"noarch": noarch, "package_metadata_version": 1}
    pkg = CondaPackage(
        name=name,
        version=conda_version(dist.version),
        build=build,
        build_number=build_number,
        target=target,
        layout=layout,
        depends=depends,
        constrains=constrains,
        timestamp_ms=dist.provenance.timestamp * 1000,
        about_fields=_about(dist, [f.path for f in licenses]),
        provenance=_provenance(dist, target, variant),
        link=link,
        files=files,
        info_files=licenses,
        decisions=decisions,
        variant=variant,
        license=_license(dist),
        track_features=variant.track_features,
        warnings=warnings + link_warnings,
        notes=notes,
    )
    finish_plan(pkg, dist, options)
    return pkg


def plan_extras(dist: Distribution, base: CondaPackage, options: ConversionOptions) -> list[CondaPackage]:
    """A ``<name>-with-<extra>`` metapackage per extra of ``dist`` that ``options.extras`` wants, for ``base``'s target.

    They have no files; each depends on exactly ``base`` (same version and build string, so
    the variant follows) and on what the extra pulls in for that target.  A dependency
    ``name[extra]`` elsewhere points at it (:meth:`NameMap.extra_specs`).  Where the extra's
    own markers differ by Python within ``base``'s Pythons, the extra gets one package per
    finer region (its own build string and rank), each still depending on ``base``.
    """
    packages = []
    provided = {str(canonicalize_name(e)) for e in dist.provides_extra}
    for extra in sorted(e for e in provided.union(*(d.extras for d in base.decisions)) if options.extras.wants(e)):
        for target, decisions, number in _extra_regions(dist, base, extra, options):
            build = base.build if target == base.target else _build_string(target, base.variant, number, dist.provenance.path)
            packages.append(_extra_package(dist, base, extra, target, build, number, decisions))
    return packages


def _extra_regions(dist: Distribution, base: CondaPackage, extra: str, options: ConversionOptions) -> list[tuple[Target, list[Decision], int]]:
    """``(target, decisions, build number)`` of each package of one extra of ``base``."""
    same = [(base.target, [d for d in base.decisions if d.action == "extra" and extra in d.extras], base.build_number)]
    fine = python_split(dist.requires_dist, base.target, dist.requires_python, extra=extra)
    coarse = python_split(dist.requires_dist, base.target, dist.requires_python)
    if [(r.runs, r.implementation) for r in fine] == [(r.runs, r.implementation) for r in coarse]:
        return same  # the extra splits nothing further: one package per base package, same build string
    inside = [r for r in fine if base.target.region.covers(r)]
    result = []
    first = base.build_number - base.target.region.rank
    for region in inside:  # oldest first; ranks count over the whole range, so newer stays higher
        target = replace(base.target, region=region)
        context = DependencyContext(MarkerContext.for_target(target, dist.requires_python), options.names, base.variant.family)
        decisions = [d for d in (translate_requirement(r, context) for r in dist.requires_dist) if d.action == "extra" and extra in d.extras]
        result.append((target, decisions, first + region.rank))
    return result


def _extra_package(dist: Distribution, base: CondaPackage, extra: str, target: Target, build: str, number: int, decisions: list[Decision]) -> CondaPackage:
    depends = merge_specs(
        [
            *_python_depends(dist, target),
            *target.platform.virtual,
            f"{base.name} =={base.version} {base.build}",
            *(s for d in decisions for s in d.specs),
        ]
    )
    # no pypi_name: the package stands for ``name[extra]``, not for the distribution
    provenance = base.provenance.without("pypi_name", "pypi_version").replace(extra_of=dist.name, extra=extra)
    about = {"summary": f"Extra '{extra}' of {base.name} {base.version}: the dependencies {dist.name}[{extra}] adds"}
    link = {"noarch": {"type": "python"}, "package_metadata_version": 1} if target.noarch_python else None
    return CondaPackage(
        name=extras_package(base.name, extra),
        version=base.version,
        build=build,
        build_number=number,
        target=target,
        layout=base.layout,
        depends=depends,
        constrains=[],
        timestamp_ms=base.timestamp_ms,
        about_fields=about,
        provenance=provenance,
        link=link,
        files=[],
        info_files=[],
        decisions=decisions,
        variant=base.variant,
        license=base.license,
        warnings=[f"{d.requirement}: {d.reason}" for d in decisions if d.report],
    )


def _family_option(dist: Distribution, options: ConversionOptions) -> tuple[str | GpuFamily | None, list[str]]:
    """The GPU family to build for: ``--gpu-family``, else the one a variant wheel's
    ``amd :: gfx_arch`` properties name (``variant.json``), else none."""
    if options.gpu_family or dist.variant is None:
        return options.gpu_family, []
    chips = dist.variant.values("amd", "gfx_arch")
    family = family_of(dist.variant)
    if chips and family is None:
        return None, [f"variant {dist.variant.label}: gfx_arch {', '.join(chips)} is no known GPU family's set of chips; give --gpu-family"]
    return family, []


def build_string_parts(target: Target, variant: Variant) -> tuple[str, list[str], list[str], list[str]]:
    """``(python part, python region parts, variant parts, os parts)`` of a build string, before sanitising (for ``inspect``)."""
    python_part = "" if (target.python.kind == "any" and target.subdir != "noarch") else target.python.build_prefix
    region_part = [target.region.tag] if target.region.split else []
    os_part = [v.lstrip("_") for v in target.platform.virtual if v in OS_VIRTUALS]
    return python_part, region_part, list(variant.build_parts), os_part


def _build_string(target: Target, variant: Variant, number: int, where: str) -> str:
    """``<python>_<region>_<variant parts>_<os>_<build number>`` (``py312_rocm7.11_gfx103X_0``, ``py_ge3.11_0``)."""
    python_part, region_part, variant_parts, os_part = build_string_parts(target, variant)
    try:
        return build_string([python_part, *region_part, *variant_parts, *os_part], number)
    except ValueError as exc:
        raise Unsupported(where, str(exc)) from None


def _pins(variant: Variant, depends: list[str], context: DependencyContext) -> list[str]:
    """Constrains from the variant's pins, except on packages the package already depends on."""
    result = []
    for text in variant.pins:
        req = Requirement(text)
        if not any(s.split(" ", 1)[0] == context.names.to_conda(req.name).name for s in depends):
            result.extend(requirement_specs(req, context)[0])
    return result


def _python_depends(dist: Distribution, target: Target) -> list[str]:
    """The interpreter pins: the tags', narrowed by Requires-Python and by the target's Python region."""
    pins = target.python.depends()
    if target.python.kind == "exact":
        return pins
    extra = translate_specifier_set(dist.requires_python).version if dist.requires_python is not None else ""
    if extra:
        head, _, spec = pins[0].partition(" ")
        pins[0] = f"{head} {spec},{extra}" if spec else f"{head} {extra}"
    region = target.region
    if region.split:
        head, _, spec = pins[0].partition(" ")
        narrowed = region.python_spec(spec, lambda text: translate_specifier_set(SpecifierSet(text)).version)
        pins[0] = f"{head} {narrowed}" if narrowed else head
        pins.extend(region.depends())
    return pins


def _payload(dist: Distribution, layout: CondaLayout, where: str) -> list[PlannedFile]:
    files: list[PlannedFile] = []
    for member in dist.members:
        path = layout.path_for(member.scheme, member.path)
        if path.split("/", 1)[0] in RESERVED_ROOTS:
            raise Unsupported(where, f"{member.origin}: installs into {path}, which conda reserves for package metadata", hint="ask its publisher to install it elsewhere")
        if member.scheme is Scheme.SCRIPTS and not member.is_link:
            files.append(_script(dist, member, path, layout))
            continue
        sha = member.sha256
        if sha is None and not member.is_link:
            with dist.open(member) as stream:
                stream.drain()
                sha = stream.sha256
        files.append(PlannedFile(path, member.size, sha, member.mode, member=member, target=member.target))
    return files


def _script(dist: Distribution, member: Member, path: str, layout: CondaLayout) -> PlannedFile:
    """A ``.data/scripts`` member, streamed: only its first line is held, to rewrite ``#!python``.

    One pass hashes what will be written (new first line + the rest); the writer streams the
    member again through :class:`HeadReplaced`, which checks the bytes against this digest.
    """
    with dist.open(member) as stream:
        line, after = read_first_line(stream)
        rewritten = rewrite_shebang(line, layout.python_executable)
        digest = Digests()
        digest.update(rewritten if rewritten is not None else line)
        digest.update(after)
        digest.consume(stream)
    if rewritten is None:
        return PlannedFile(path, member.size, digest.sha256, 0o755, member=member)
    size = member.size - len(line) + len(rewritten)
    return PlannedFile(path, size, digest.sha256, 0o755, member=member, head=rewritten, skip=len(line), placeholder=PLACEHOLDER)


def _launchers(dist: Distribution, layout: CondaLayout, where: str) -> list[PlannedFile]:
    """Entry-point launchers for version-specific packages (noarch ones get them from link.json)."""
    if layout.target.noarch_python:
        return []
    files: list[PlannedFile] = []
    for ep in dist.entry_points:
        _check_entry_point(ep, where)
        if layout.target.windows:
            script_name, script = windows_launcher_script(ep)
            exe = windows_launcher(layout.target.subdir, ep.gui)
            files.append(PlannedFile(f"Scripts/{script_name}", len(script), sha256_bytes(script), 0o644, content=script))
            files.append(PlannedFile(f"Scripts/{ep.name}.exe", len(exe), sha256_bytes(exe), 0o755, content=exe))
        else:
            body = unix_launcher(ep, layout.python_executable)
            files.append(PlannedFile(f"bin/{ep.name}", len(body), sha256_bytes(body), 0o755, content=body, placeholder=PLACEHOLDER))
    return files


def _check_entry_point(ep: EntryPoint, where: str) -> None:
    if not ep.attr:
        raise BadInput(where, f"entry point {ep.name} = {ep.module} names no function (module:function expected)", hint=_REBUILD)
    problem = entry_point_problem(ep.name, ep.module, ep.attr)
    if problem:
        raise BadInput(where, f"entry point {ep.name} = {ep.value}: {problem}", hint=_REBUILD)


def _check_collisions(files: list[PlannedFile], where: str) -> None:
    seen: set[str] = set()
    for f in files:
        key = f.path.lower()  # case-insensitive file systems (Windows, macOS) must not clash either
        if key in seen:
            raise BadInput(where, f"two files would install to {f.path} (names that differ only in case clash on Windows and macOS)", hint=_REBUILD)
        seen.add(key)


def _installer_file(dist: Distribution, layout: CondaLayout) -> PlannedFile:
    data = b"conda\n"
    return PlannedFile(f"{layout.site_packages}/{dist.dist_info}/INSTALLER", len(data), sha256_bytes(data), content=data)


def _record_file(dist: Distribution, layout: CondaLayout, files: list[PlannedFile]) -> PlannedFile:
    """RECORD listing what conda installs, relative to site-packages (PEP 376/627)."""
    record_path = f"{layout.site_packages}/{dist.dist_info}/RECORD"
    rows: list[RecordEntry] = []
    for f in files:
        rel = layout.record_path(f.path)
        if f.placeholder or f.sha256 is None or f.is_link:
            rows.append((rel, None, None))  # content changes at install (prefix) or is a link
        else:
            rows.append((rel, f.sha256, f.size))
    rows.append((layout.record_path(record_path), None, None))
    data = format_record(sorted(rows, key=lambda row: row[0]))
    return PlannedFile(record_path, len(data), sha256_bytes(data), content=data)


def _license_files(dist: Distribution) -> list[PlannedFile]:
    by_path = {m.path: m for m in dist.dist_info_members()}
    result: list[PlannedFile] = []
    for rel in dist.license_files:
        member = by_path.get(f"{dist.dist_info}/{rel}")
        if member is None:
            continue
        inner = rel[len("licenses/") :] if rel.startswith("licenses/") else rel
        result.append(PlannedFile(f"info/licenses/{inner}", member.size, member.sha256, 0o644, member=member))
    return result


def _license(dist: Distribution) -> str | None:
    fields = dist.fields
    if fields.get("license_expression"):
        return str(fields["license_expression"])
    text = str(fields.get("license") or "").strip()
    if text and "\n" not in text and len(text) <= 100:
        return text
    for classifier in fields.get("classifiers") or ():
        if classifier.startswith("License :: ") and classifier.count("::") >= 2:
            return classifier.rsplit("::", 1)[1].strip()
    return None


def _about(dist: Distribution, license_paths: list[str]) -> dict[str, Any]:
    """``about.json`` fields from core metadata (wheel2conda's own record is :func:`_provenance`)."""
    fields = dist.fields
    urls = {str(k).lower(): str(v) for k, v in (fields.get("project_urls") or {}).items()}
    about: dict[str, Any] = {"summary": dist.summary}
    home = fields.get("home_page") or urls.get("homepage") or urls.get("home")
    if home:
        about["home"] = str(home)
    for key, labels in (("dev_url", ("source", "repository", "source code", "code")), ("doc_url", ("documentation", "docs"))):
        for label in labels:
            if label in urls:
                about[key] = urls[label]
                break
    if fields.get("description"):
        about["description"] = str(fields["description"])
    if fields.get("keywords"):
        about["keywords"] = list(fields["keywords"])
    license = _license(dist)
    if license:
        about["license"] = license
    if license_paths:
        about["license_file"] = [p[len("info/") :] for p in license_paths]
    return about


def _provenance(dist: Distribution, target: Target, variant: Variant) -> ProvenanceRecord:
    """``about.json`` ``extra.wheel2conda``: the source and the decisions that shaped the package."""
    return ProvenanceRecord().replace(
        converter_version=__version__,
        source=dist.provenance.filename,
        source_sha256=dist.provenance.sha256,
        source_size=dist.provenance.size,
        pypi_name=dist.name,
        pypi_version=str(dist.version),
        local_version_label=variant.label,
        variant_backend=variant.backend,
        gpu_family=str(variant.family) if variant.family else None,
        wheel_tags=tuple(sorted(str(t) for t in dist.tags)),
        build_tag="".join(str(x) for x in dist.build_tag) if dist.build_tag else None,
        requires_dist=tuple(str(r) for r in dist.requires_dist),
        requires_python=str(dist.requires_python) if dist.requires_python else None,
        python_target=target.python.build_prefix,
    )
