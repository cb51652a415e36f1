"""Plan conda → wheel: turn a read conda package (:class:`bridge.sources.conda.CondaArchive`) into the
:class:`Distribution` the wheel writer writes.

Translation decisions (tags, version, schemes, synthesized METADATA) come from
:mod:`bridge.translate.reverse`; the plan keeps what a converter needs beyond the distribution
(notes, dropped files, placeholders, Requires-Dist decisions, the round-trip record) in
:class:`WheelPlan`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..core.digest import HeadReplaced, sha256_bytes
from ..core.errors import BadInput
from ..model import Distribution, EntryPoint, Member
from ..model.conda import CondaRecord, ProvenanceRecord
from ..model.roundtrip import CONSUMED, directories_of, resolve_links
from ..sources.conda import MALFORMED, CondaArchive, Payload
from ..sources.distinfo import REGENERATED, WheelFile, is_bytecode, metadata_kwargs, parse_build_tag, parse_metadata, parse_wheel_file
from ..translate.entry_points import entry_points_txt, parse_entry_points
from ..translate.names import NameMap
from ..translate.reverse import (
    ReverseDecision,
    ReverseError,
    ReverseLayout,
    launcher_paths,
    local_label,
    platform_tag,
    pypi_version,
    python_pins,
    site_python,
    synthesize_metadata,
    wheel_tags,
)
from ..translate.shebang import restore_shebang


@dataclass
class WheelPlan:
    """A conda package planned as a wheel: the :class:`Distribution` to write and what the package said."""

    filename: str
    index: dict[str, Any]
    about: dict[str, Any]
    link: dict[str, Any] | None
    paths: dict[str, dict[str, Any]]  # paths.json entries by path
    site_packages: str | None
    dist_info: str  # "own", "synthesized" or "wheel" (a package wheel2conda made from a wheel)
    wheel_filename: str | None = None  # the original wheel's name, when recorded
    dist_info_dir: str | None = None  # archive path of the own .dist-info
    changed_dist_info: dict[str, bytes] = field(default_factory=dict)  # own dist-info files the wheel drops or rewrites
    scripts: dict[str, bytes] = field(default_factory=dict)  # rewritten scripts → their original interpreter
    placeholders: list[str] = field(default_factory=list)  # other files carrying a prefix placeholder
    dropped: list[str] = field(default_factory=list)  # launchers and bytecode left out
    decisions: list[ReverseDecision] = field(default_factory=list)  # depends → Requires-Dist (synthesized METADATA)
    notes: list[str] = field(default_factory=list)
    provenance: ProvenanceRecord = field(default_factory=ProvenanceRecord)  # about.json extra.wheel2conda (empty: none)
    dist: Distribution = field(init=False)  # set once planned

    @property
    def importable(self) -> bool:
        """Whether anything but metadata lands in site-packages."""
        prefix = (self.site_packages or "\0") + "/"
        return any(
            p.startswith(prefix) and not re.match(r"[^/]+\.(dist|egg)-info(/|$)", p[len(prefix) :]) for p in self.paths
        )

    def record(self) -> CondaRecord:
        """The ``conda-package.json`` that lets wheel → conda rebuild this package."""
        prefix = f"{self.dist_info_dir}/" if self.dist_info_dir else "\0"
        special: dict[str, dict[str, Any]] = {}
        for path, entry in self.paths.items():
            if entry.get("prefix_placeholder") or entry.get("no_link"):
                kept: dict[str, Any] = {k: entry[k] for k in ("prefix_placeholder", "file_mode", "no_link", "sha256") if k in entry}
                if path in self.scripts:
                    kept["interpreter"] = self.scripts[path].decode("utf-8", "surrogateescape")
                special[path] = kept
        about = dict(self.about)  # verbatim, extra.wheel2conda (the first source's provenance) included
        return CondaRecord(
            package=self.filename.removesuffix(".conda").removesuffix(".tar.bz2"),  # the same for both formats
            index=self.index,
            about=about,
            link=self.link,
            dist_info="synthesized" if self.dist_info == "synthesized" else "own",
            paths=special,
            dist_info_files=sorted(p[len(prefix) :] for p in self.paths if p.startswith(prefix)),
            dist_info_text={k: v.decode("utf-8", "surrogateescape") for k, v in sorted(self.changed_dist_info.items())},
        )


def plan_wheel_from_conda(package: CondaArchive, names: NameMap | None = None, glibc: tuple[int, int] | None = None) -> WheelPlan:
    """Plan the wheel for ``package``: identity, tags, dist-info, members and how each is opened.

    ``names`` maps conda names back to PyPI names (for synthesized Requires-Dist); ``glibc`` is the
    floor assumed for a Linux package that does not depend on ``__glibc``.
    """
    names = names or NameMap()
    where = package.where
    index_model, about_model, link_model, payload = package.index, package.about, package.link, package.payload
    index = {**index_model.raw, "subdir": index_model.subdir}
    about = dict(about_model.raw)
    link = dict(link_model.raw) if link_model is not None else None
    entries = package.entries
    origin = about_model.provenance or ProvenanceRecord()
    site = package.site_packages
    noarch_python = index.get("noarch") == "python"
    windows = index["subdir"].startswith("win-")

    from_wheel = bool(origin.pypi_name and origin.wheel_tags) and not origin.conda_record
    source = WheelPlan(
        filename=package.path.name, index=index, about=about, link=link, paths=entries, site_packages=site, dist_info="synthesized", provenance=origin
    )
    dist_info = _choose_dist_info(where, site, payload, names.to_pypi(index["name"]))
    build_number = index_model.build_number

    # -- identity ---------------------------------------------------------------------------
    wheel_meta: WheelFile | None = None
    if dist_info is not None:
        metadata = payload.contents[f"{site}/{dist_info}/METADATA"]
        fields = parse_metadata(where, metadata, label=f"{dist_info}/METADATA", hint=MALFORMED)
        name, version = str(fields["name"]), Version(str(fields["version"]))
        wheel_text = payload.contents.get(f"{site}/{dist_info}/WHEEL")
        wheel_meta = parse_wheel_file(where, wheel_text, strict=False) if wheel_text is not None else None
        source.dist_info = "own"
    if from_wheel and dist_info is not None:
        source.dist_info = "wheel"
        try:
            tags = frozenset(t for text in origin.wheel_tags for t in parse_tag(text))
            version = Version(origin.pypi_version or str(version))
        except (ValueError, InvalidVersion) as exc:
            raise BadInput(where, f"about.json extra.wheel2conda is inconsistent ({exc})", hint=MALFORMED) from None
        build_tag = parse_build_tag(origin.build_tag or "")
        source.wheel_filename = origin.source
    else:
        pins = python_pins(index, site_python(site) if site else None)
        try:
            platform, notes = platform_tag(index["subdir"], index.get("depends") or (), glibc)
            if dist_info is None:
                name = names.to_pypi(index["name"])
                version = pypi_version(index["version"], local_label(index["build"], build_number))
        except ReverseError as exc:
            raise BadInput(where, str(exc)) from None
        source.notes += notes
        tags = wheel_tags(pins, platform)
        build_tag = (build_number, "") if build_number else ()
        label = local_label(index["build"], build_number)
        if dist_info is not None and label and not version.local:
            source.notes.append(f"the build variant ({label}) is not in the wheel version {version}: METADATA is kept as built")
    root_is_purelib = (
        wheel_meta.purelib
        if wheel_meta is not None and wheel_meta.purelib is not None
        else noarch_python and "abi3" not in {t.abi for t in tags} and all(t.platform == "any" for t in tags)
    )

    # -- dist-info --------------------------------------------------------------------------
    generated: dict[str, bytes] = {}
    if dist_info is None:
        dist_info = f"{str(canonicalize_name(name)).replace('-', '_')}-{version}.dist-info"
        synthesized = synthesize_metadata(name, version, about, index, names)
        source.decisions = synthesized.decisions
        metadata = synthesized.text
        generated["METADATA"] = metadata
        if link_model is not None and link_model.entry_points:
            generated["entry_points.txt"] = entry_points_txt(EntryPoint(ep.name, ep.module, ep.attr) for ep in link_model.entry_points)
        fields = parse_metadata(where, metadata, label=f"{dist_info}/METADATA", hint=MALFORMED)
    keep_wheel = wheel_meta is not None and wheel_meta.tags == tags and wheel_meta.build_tag == build_tag
    dist_info_dir = f"{site}/{dist_info}/" if site else "\0"
    if source.dist_info != "synthesized":
        source.dist_info_dir = dist_info_dir[:-1]
    ep_text = generated.get("entry_points.txt") or payload.contents.get(f"{dist_info_dir}entry_points.txt")
    entry_points = parse_entry_points(where, ep_text, hint=MALFORMED) if ep_text else ()

    # -- members ----------------------------------------------------------------------------
    layout = ReverseLayout.create(site, noarch_python, windows, name, root_is_purelib)
    launchers = set() if noarch_python else launcher_paths(entry_points, layout.scripts_dir, windows)
    overrides = dict(origin.schemes)
    members: list[Member] = []
    transformed: dict[str, tuple[bytes, int]] = {}  # origin → (new head, bytes of the old one)
    cached: dict[str, bytes] = {}
    for path in payload.order:
        entry = entries[path]
        if path in launchers or is_bytecode(path):
            source.dropped.append(path)
            continue
        if path.startswith(dist_info_dir):
            inner = path[len(dist_info_dir) :]
            if inner in REGENERATED or inner in CONSUMED or (inner == "WHEEL" and not keep_wheel):
                if inner != "RECORD" and path in payload.contents:
                    source.changed_dist_info[inner] = payload.contents[path]
                continue
            cached[path] = payload.contents[path]
        placeholder = entry.get("prefix_placeholder")
        size = entry["size_in_bytes"] if entry.get("size_in_bytes") is not None else payload.sizes.get(path, 0)
        sha = entry.get("sha256")
        python_script = False
        if placeholder and path in payload.heads:
            found = restore_shebang(payload.heads[path], str(placeholder))
            if found is not None:
                wheel_head, token = found
                head = wheel_head[: len(wheel_head) - (len(payload.heads[path]) - len(token))]  # b"#!python[w]"
                transformed[path] = (head, len(token))
                source.scripts[path] = token
                size, sha, python_script = size - len(token) + len(head), None, True
        if placeholder and not python_script:
            source.placeholders.append(path)
        try:
            scheme, rel = layout.scheme_for(path, python_script, overrides.get(path))
        except ReverseError as exc:
            raise BadInput(where, str(exc)) from None
        members.append(
            Member(scheme, rel, size, sha, payload.modes[path], target=payload.links.get(path), origin=path)
        )
    for inner, data in generated.items():
        origin_name = f"<generated>/{dist_info}/{inner}"
        cached[origin_name] = data
        members.append(Member(layout.root_scheme, f"{dist_info}/{inner}", len(data), sha256_bytes(data), origin=origin_name))
    if payload.links:
        try:  # a link to a directory or to another package's path becomes a LINKS row without a copy
            resolved = resolve_links(payload.links, set(payload.sizes), directories=True, outside=True)
        except ValueError as exc:
            raise BadInput(where, f"cannot dereference links: {exc}") from None
        directories = directories_of(payload.sizes)
        elsewhere = sorted(link for link, path in resolved.items() if path not in payload.sizes and path not in directories)
        if elsewhere:
            more = f" and {len(elsewhere) - 1} more" if len(elsewhere) > 1 else ""
            source.notes.append(f"{elsewhere[0]}{more}: link to a path this package does not hold (another package's file, or dangling); listed in LINKS without a copy, so pip installs nothing there")

    license_files = sorted(
        m.path[len(dist_info) + 1 :]
        for m in members
        if m.scheme.in_site_packages and m.path.startswith(dist_info + "/licenses/")
    )
    def opener(member: Member) -> BinaryIO:
        if member.origin in cached:
            return io.BytesIO(cached[member.origin])
        raw = package.open(member.origin)
        if member.origin in transformed:
            head, skip = transformed[member.origin]
            return HeadReplaced(raw, head, skip)  # type: ignore[return-value]
        return raw

    source.dist = Distribution(
        **{**metadata_kwargs(fields), "name": name, "version": version},  # the recorded wheel identity wins
        metadata=metadata,
        tags=tags,
        build_tag=build_tag,
        root_is_purelib=root_is_purelib,
        dist_info=dist_info,
        entry_points=entry_points,
        members=tuple(members),
        provenance=package.provenance,
        opener=opener,
        license_files=tuple(license_files),
    )
    return source


def _choose_dist_info(where: str, site: str | None, payload: Payload, pypi_name: str) -> str | None:
    """The ``.dist-info`` directory of the package's own distribution, if it has one."""
    if site is None:
        return None
    found = sorted({p[len(site) + 1 :].split("/", 1)[0] for p in payload.contents})
    if len(found) > 1:
        mine = [d for d in found if canonicalize_name(d[: -len(".dist-info")].rpartition("-")[0]) == canonicalize_name(pypi_name)]
        if len(mine) != 1:
            raise BadInput(where, f"several .dist-info directories ({', '.join(found)}) and none is clearly {pypi_name}'s", hint=MALFORMED)
        found = mine
    if not found:
        return None
    if f"{site}/{found[0]}/METADATA" not in payload.contents:
        raise BadInput(where, f"{site}/{found[0]} has no METADATA", hint=MALFORMED)
    return found[0]
