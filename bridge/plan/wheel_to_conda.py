"""Plan a conda package from a :class:`Distribution` and a :class:`Target` (nothing is written).

The plan holds everything a writer needs (identity, ``index.json``/``about.json``/``link.json``
content, and every file with its archive path, mode, size and sha256) and everything
``inspect`` shows (where each decision came from).  Only small members are read here
(scripts, to rewrite their ``#!python`` line); payload files are streamed later by a writer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from .. import __version__
from ..core.digest import Digests, RecordEntry, format_record, read_first_line, sha256_bytes
from ..core.errors import BadInput, Unsupported
from ..model import Distribution, EntryPoint, Member, Scheme
from ..model.conda import ProvenanceRecord
from ..model.scheme import entry_point_problem
from ..translate.buildstring import build_string, sanitize
from ..translate.layout import PLACEHOLDER, RESERVED_ROOTS, CondaLayout, unix_launcher, windows_launcher_script
from ..translate.multiarch import NONE, device_extra_target, device_targets, is_multi_arch_host, selector_name, selector_terms
from ..translate.names import extras_package
from ..translate.shebang import rewrite_shebang
from ..translate.specs import OS_VIRTUALS, Decision, DependencyContext, MarkerContext, Origin, merge_specs, os_split, python_split, requirement_specs, translate_requirement
from ..translate.tags import PlatformTarget, TagError, Target, targets_for_tags
from ..translate.variants import FamilyError, GpuFamily, Variant, family_from_name, family_mutex, variant_for
from ..translate.versions import conda_version, nightly_build_offset, translate_specifier_set
from ..translate.wheelvariant import family_of
from .launchers import windows_launcher
from .links import apply_links, write_order
from .roundtrip import finish_plan
from .types import CondaPackage, ConversionOptions, CoreMetadata, PackageDecisions, PlannedFile

_REBUILD = "fix the project's metadata and rebuild the wheel, or report it to its publisher"
#: conda names of the interpreter pins (their origin is the wheel's Python tags).
PYTHON_NAMES = frozenset({"python", "python_abi", "cpython", "_python_abi3_support"})


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
    return [split for t in targets for region in split_by_python(dist, t) for split in _split_by_os(dist, region, options)]


def split_by_python(meta: CoreMetadata, target: Target) -> list[Target]:
    """One target per Python region when markers give different Pythons different dependencies."""
    regions = python_split(meta.requires_dist, target, meta.requires_python)
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
        result.extend(plan_selectors(dist, base, options))
        if options.extras.any:
            result.extend(plan_extras(dist, base, options))
    return result


def plan_package(dist: Distribution, target: Target, options: ConversionOptions) -> CondaPackage:
    """Everything about the conda package for one target, each dependency, constraint and
    build-string part with its origin."""
    where = dist.provenance.path
    layout = CondaLayout(target, str(canonicalize_name(dist.name)))
    decided = plan_requirements(dist, target, options, where)
    variant = decided.variant
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
        name=decided.name,
        version=decided.version,
        build=decided.build,
        build_number=decided.build_number,
        target=target,
        layout=layout,
        dependencies=decided.dependencies,
        constraints=decided.constraints,
        build_parts=decided.build_parts,
        timestamp_ms=dist.provenance.timestamp * 1000,
        about_fields=_about(dist, [f.path for f in licenses]),
        provenance=_provenance(dist, target, variant),
        link=link,
        files=tuple(files),
        info_files=tuple(licenses),
        decisions=decided.decisions,
        variant=variant,
        license=_license(dist),
        track_features=variant.track_features,
        warnings=(*decided.warnings, *link_warnings),
        notes=decided.notes,
    )
    return finish_plan(pkg, dist, options)


def plan_requirements(meta: CoreMetadata, target: Target, options: ConversionOptions, where: str) -> PackageDecisions:
    """Identity, build string and requirements of the package for one target, each with its origin.

    Needs no file of the package: ``recipes`` plans from the METADATA an index serves.
    """
    family, variant_notes = _family_option(meta, options)
    try:
        variant = variant_for(meta.version.local, name=meta.name, family=family, version=meta.version.public)
    except FamilyError as exc:
        raise BadInput(where, str(exc)) from None
    build_number = options.build_number
    if build_number is None:
        build_number = meta.build_tag[0] if meta.build_tag else 0
    build_number += nightly_build_offset(meta.version) + variant.build_number_offset + target.region.rank
    build, build_parts = _build_string(meta, target, variant, build_number, options, where)
    mapped = options.names.to_conda(meta.name)

    multi_arch = is_multi_arch_host(meta.provides_extra)
    context = DependencyContext(MarkerContext.for_target(target, meta.requires_python), options.names, variant.family, multi_arch)
    decisions = tuple(translate_requirement(req, context) for req in meta.requires_dist)
    name = options.name or mapped.name
    selector = [f"{selector_name(name)} =={conda_version(meta.version)}"] if multi_arch else []
    depends = merge_specs(
        [
            *_python_depends(meta, target),
            *target.platform.virtual,
            *variant.depends,
            *(s for r in variant.requires for s in requirement_specs(Requirement(r), context, variant.framework_build(options.names.mode))[0]),
            *(s for d in decisions if d.action == "kept" for s in d.specs),
            *options.extra_depends,
            *selector,
        ]
    )
    claims = [
        *_fixed_claims(meta, target, variant),
        *((s, d.origin) for d in decisions if d.action == "kept" for s in d.specs),
        *((s, "--depends") for s in options.extra_depends),
        *((s, "multi-arch host: its device code comes from the selector (device-<target> extras)") for s in selector),
    ]
    constrains = merge_specs([*variant.constrains, *_pins(variant, depends, context), *mapped.with_specs])
    # an extra's requirement is reported only when that extra's package is built (--extras)
    warnings = [f"{d.requirement}: {d.reason}" for d in decisions if d.report and (d.action != "extra" or any(map(options.extras.wants, d.extras)))]
    if variant.family is not None and not variant.family.known:
        warnings.append(f"GPU family {variant.family} is not listed in gpu.yaml; tagged {variant.family.tag}")
    return PackageDecisions(
        name=name,
        version=conda_version(meta.version),
        build=build,
        build_number=build_number,
        build_parts=build_parts,
        variant=variant,
        decisions=decisions,
        dependencies=_with_origins(depends, claims, _dependency_origin(meta, target, variant, options, extra_of=None)),
        constraints=tuple(Origin(spec, _constraint_origin(meta, variant, spec)) for spec in constrains),
        warnings=tuple(warnings),
        notes=(*variant_notes, *variant.notes),
    )


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
    wanted = (e for e in provided.union(*(d.extras for d in base.decisions)) if options.extras.wants(e) and device_extra_target(e) is None)
    for extra in sorted(wanted):  # device extras become selectors (plan_selectors)
        for target, decisions, number in _extra_regions(dist, base, extra, options):
            build, build_parts = _build_string(dist, target, base.variant, number, options, dist.provenance.path)
            if target == base.target:
                build = base.build
            packages.append(_extra_package(dist, base, extra, target, build, number, decisions, build_parts, options))
    return packages


def plan_selectors(dist: Distribution, base: CondaPackage, options: ConversionOptions) -> list[CondaPackage]:
    """The selector ``<name>-device`` of a multi-arch host: one build per ``device-<target>`` extra, ``all``, ``none``.

    Each build depends on what its extra pulls in (``none``: nothing) plus
    :func:`~bridge.translate.multiarch.selector_terms` (the architecture mutex and ``__amdgpu``); the
    host depends on the selector, so a plain install of the host is complete (docs/gpu.md,
    "Multi-arch").  Planned whatever ``--extras`` says: the host cannot be installed without them.
    """
    extras = {*dist.provides_extra, *(e for d in base.decisions for e in d.extras)}
    if not is_multi_arch_host(extras):
        return []
    packages = []
    for target in [*device_targets(extras), NONE]:
        decisions = tuple(d for d in base.decisions if d.action == "extra" and any(device_extra_target(e) == target for e in d.extras))
        terms = selector_terms(dist.name, target, family_mutex())
        variant = replace(base.variant, build_parts=(*base.variant.build_parts, target))
        number = base.build_number + terms.build_number_offset
        depends = merge_specs(
            [*_python_depends(dist, base.target), *base.target.platform.virtual, *(s for d in decisions for s in d.specs), *terms.depends]
        )
        extra = f"device-{target}"
        claims = [
            *_fixed_claims(dist, base.target, base.variant),
            *((s, d.origin) for d in decisions for s in d.specs),
            *((s, f"multi-arch selector for {target}: the architecture mutex's build for {target}") for s in terms.depends),
        ]
        os_parts = [p for p in base.build_parts[:-1] if p.origin.startswith("per-OS")]
        parts = [*(p for p in base.build_parts[:-1] if p not in os_parts), Origin(target, f"device target of the extra {dist.name}[{extra}]" if target != NONE else "no device code (host only)"), *os_parts]
        number_origin = f"{base.build_parts[-1].origin}, plus {terms.build_number_offset} (selector builds rank target > none > all)" if base.build_parts else "build number"
        about = {"summary": f"Device code of {base.name} {base.version} for {target} (wheel2conda selector for {dist.name}[{extra}])"}
        packages.append(
            CondaPackage(
                name=selector_name(base.name),
                version=base.version,
                build=_build_string(dist, base.target, variant, number, options, dist.provenance.path)[0],
                build_number=number,
                target=base.target,
                layout=base.layout,
                dependencies=_with_origins(depends, claims, _dependency_origin(dist, base.target, base.variant, options, extra_of=None)),
                constraints=(),
                build_parts=(*parts, Origin(str(number), number_origin)),
                timestamp_ms=base.timestamp_ms,
                about_fields=about,
                provenance=base.provenance.without("pypi_name", "pypi_version").replace(extra_of=dist.name, extra=extra),
                link={"noarch": {"type": "python"}, "package_metadata_version": 1} if base.target.noarch_python else None,
                files=(),
                info_files=(),
                decisions=decisions,
                variant=variant,
                license=base.license,
                warnings=tuple(f"{d.requirement}: {d.reason}" for d in decisions if d.report),
            )
        )
    return packages


def _extra_regions(dist: Distribution, base: CondaPackage, extra: str, options: ConversionOptions) -> list[tuple[Target, tuple[Decision, ...], int]]:
    """``(target, decisions, build number)`` of each package of one extra of ``base``."""
    same = [(base.target, tuple(d for d in base.decisions if d.action == "extra" and extra in d.extras), base.build_number)]
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
        decisions = tuple(d for d in (translate_requirement(r, context) for r in dist.requires_dist) if d.action == "extra" and extra in d.extras)
        result.append((target, decisions, first + region.rank))
    return result


def _extra_package(
    dist: Distribution,
    base: CondaPackage,
    extra: str,
    target: Target,
    build: str,
    number: int,
    decisions: tuple[Decision, ...],
    build_parts: tuple[Origin, ...],
    options: ConversionOptions,
) -> CondaPackage:
    depends = merge_specs(
        [
            *_python_depends(dist, target),
            *target.platform.virtual,
            f"{base.name} =={base.version} {base.build}",
            *(s for d in decisions for s in d.specs),
        ]
    )
    claims = [*_fixed_claims(dist, target, base.variant), *((s, d.origin) for d in decisions for s in d.specs)]
    dependencies = _with_origins(depends, claims, _dependency_origin(dist, target, base.variant, options, extra_of=extra))
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
        dependencies=dependencies,
        constraints=(),
        build_parts=build_parts,
        timestamp_ms=base.timestamp_ms,
        about_fields=about,
        provenance=provenance,
        link=link,
        files=(),
        info_files=(),
        decisions=decisions,
        variant=base.variant,
        license=base.license,
        warnings=tuple(f"{d.requirement}: {d.reason}" for d in decisions if d.report),
    )


def _family_option(meta: CoreMetadata, options: ConversionOptions) -> tuple[str | GpuFamily | None, list[str]]:
    """The GPU family to build for: ``--gpu-family``, else the one a variant wheel's
    ``amd :: gfx_arch`` properties name (``variant.json``), else none."""
    if options.gpu_family or meta.variant is None:
        return options.gpu_family, []
    chips = meta.variant.values("amd", "gfx_arch")
    family = family_of(meta.variant)
    if chips and family is None:
        return None, [f"variant {meta.variant.label}: gfx_arch {', '.join(chips)} is no known GPU family's set of chips; give --gpu-family"]
    return family, []


# -- build string ------------------------------------------------------------------------------


def _build_string(meta: CoreMetadata, target: Target, variant: Variant, number: int, options: ConversionOptions, where: str) -> tuple[str, tuple[Origin, ...]]:
    """``<python>_<region>_<variant parts>_<os>_<build number>`` (``py312_rocm7.11_gfx103X_0``, ``py_ge3.11_0``),
    and each part (sanitised, empty ones left out) with its origin."""
    python_part = "" if (target.python.kind == "any" and target.subdir != "noarch") else target.python.build_prefix
    parts = [Origin(python_part, _python_origin(meta, target))] if python_part else []
    if target.region.split:
        parts.append(Origin(target.region.tag, _region_origin(target)))
    variant_parts = list(variant.build_parts)
    family_tag = variant_parts.pop() if variant.family is not None else None
    parts += [Origin(p, f"local version label +{variant.label}") for p in variant_parts]
    if family_tag is not None:
        parts.append(Origin(family_tag, f"GPU family {variant.family} ({_family_origin(meta, options)})"))
    parts += [Origin(v.lstrip("_"), "per-OS noarch build: the dependencies differ by OS") for v in target.platform.virtual if v in OS_VIRTUALS]
    try:
        build = build_string([p.value for p in parts], number)
    except ValueError as exc:
        raise Unsupported(where, str(exc)) from None
    recorded = [Origin(sanitize(p.value), p.origin) for p in parts if sanitize(p.value)]
    return build, (*recorded, Origin(str(number), _number_origin(meta, target, variant, options)))


def _family_origin(meta: CoreMetadata, options: ConversionOptions) -> str:
    if family_from_name(meta.name):
        return f"distribution name {meta.name}"
    if options.gpu_family is None and meta.variant is not None:
        return f"wheel variant {meta.variant.label}: amd :: gfx_arch :: {', '.join(meta.variant.values('amd', 'gfx_arch'))}"
    return options.gpu_family_origin or f"--gpu-family {options.gpu_family}"


def _number_origin(meta: CoreMetadata, target: Target, variant: Variant, options: ConversionOptions) -> str:
    if options.build_number is not None:
        text = "--build-number"
    elif meta.build_tag:
        text = f"the wheel's build tag {meta.build_tag[0]}{meta.build_tag[1]}"
    else:
        text = "build number (default 0)"
    nightly = nightly_build_offset(meta.version)
    if nightly:
        text += f", plus {nightly} for the nightly dated {nightly // 1000} in its local label"
    if variant.build_number_offset:
        text += f", plus {variant.build_number_offset} for {variant.backend} builds (preferred where they can install)"
    rank = target.region.rank
    if rank:
        text += f", plus {rank} for the Python region {target.region.describe()} (newer Pythons' builds preferred)"
    return text


def _python_origin(meta: CoreMetadata, target: Target) -> str:
    python = target.python
    if python.kind == "exact":
        tags = sorted({f"{t.interpreter}-{t.abi}" for t in meta.tags if t.abi == python.abi}) or sorted({t.interpreter for t in meta.tags})
        return f"wheel tag {', '.join(tags)}"
    region = f"; per-Python build for {target.region.describe()}" if target.region.split else ""
    if python.kind == "abi3":
        return f"abi3 wheel tag: any CPython from {python.xy if python.version else '3'} on" + region
    origin = "pure-Python wheel tags " + ", ".join(sorted({t.interpreter for t in meta.tags}))
    if meta.requires_python is not None:
        origin += f", Requires-Python {meta.requires_python}"
    return origin + region


def _region_origin(target: Target) -> str:
    region = target.region
    return f"per-Python build for {region.describe()}: the dependencies differ by Python ({region.reason})"


# -- dependencies and constraints --------------------------------------------------------------


def _fixed_claims(meta: CoreMetadata, target: Target, variant: Variant) -> list[tuple[str, str]]:
    """Origins of the specs the target and variant add (virtual packages, backend, Python region)."""
    platforms = ", ".join(sorted({t.platform for t in meta.tags}))
    claims = [(v, "per-OS noarch build: the dependencies differ by OS" if v in OS_VIRTUALS else f"platform tag {platforms}") for v in target.platform.virtual]
    claims += [(s, f"{variant.backend} build (local version label +{variant.label})") for s in variant.depends]
    return claims + [(s, _region_origin(target)) for s in target.region.depends()]


def _with_origins(specs: Iterable[str], claims: Iterable[tuple[str, str]], fallback: Callable[[str], str]) -> tuple[Origin, ...]:
    """Each spec with the first origin that claims it, else ``fallback(spec)``."""
    claimed: dict[str, str] = {}
    for spec, origin in claims:
        claimed.setdefault(spec, origin)
    return tuple(Origin(spec, claimed.get(spec) or fallback(spec)) for spec in specs)


def _dependency_origin(meta: CoreMetadata, target: Target, variant: Variant, options: ConversionOptions, extra_of: str | None) -> Callable[[str], str]:
    """Origin of a dependency no Requires-Dist entry, option or target claims (by its name)."""
    variant_names = {str(canonicalize_name(Requirement(r).name)): r for r in variant.requires}

    def origin(spec: str) -> str:
        name = spec.split(" ", 1)[0]
        if name in PYTHON_NAMES:
            return _python_origin(meta, target)
        if extra_of and name == canonicalize_name(meta.name):
            return f"the package whose extra '{extra_of}' this is"
        if name in variant_names and variant.label:
            glob = variant.framework_build(options.names.mode)
            built = f", a {variant.backend} build (build string with {', '.join(glob)})" if glob else ""
            return f"local version label +{variant.label} ({variant_names[name]})" + built
        if name in variant_names:
            return f"GPU family {variant.family}: the family's SDK needs it (gpu.yaml family_requires: {variant_names[name]})"
        return "name map"

    return origin


def _constraint_origin(meta: CoreMetadata, variant: Variant, spec: str) -> str:
    name = spec.split(" ", 1)[0]
    pins = {str(canonicalize_name(Requirement(r).name)) for r in variant.pins}
    if spec in variant.constrains:
        return f"{variant.backend} build (local version label +{variant.label})"
    if name in pins and variant.backend == "rocm" and variant.label and name == family_mutex():
        return f"local version label +{variant.label}: the exact ROCm release"
    if name in pins:
        return f"GPU family {variant.family}: one family per environment"
    return f"name map entry for {meta.name}"


def _pins(variant: Variant, depends: list[str], context: DependencyContext) -> list[str]:
    """Constrains from the variant's pins, except on packages the package already depends on."""
    result = []
    for text in variant.pins:
        req = Requirement(text)
        if not any(s.split(" ", 1)[0] == context.names.to_conda(req.name).name for s in depends):
            result.extend(requirement_specs(req, context)[0])
    return result


def _python_depends(meta: CoreMetadata, target: Target) -> list[str]:
    """The interpreter pins: the tags', narrowed by Requires-Python and by the target's Python region."""
    pins = target.python.depends()
    if target.python.kind == "exact":
        return pins
    extra = translate_specifier_set(meta.requires_python).version if meta.requires_python is not None else ""
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
