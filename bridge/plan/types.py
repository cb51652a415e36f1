"""The plan of a conda package: what the wheel → conda planner decides and every writer reads.

Data only: the planners next to it (:mod:`bridge.plan.wheel_to_conda`, ...) make plans, the
writers (:mod:`bridge.sinks`) read them and import nothing else from :mod:`bridge.plan`.  Its
fields are :mod:`bridge.translate` values, so it sits above ``translate`` (not in ``model``).  A plan is immutable: a step that changes it returns a new one
(:func:`dataclasses.replace`).  Every dependency, constraint and build-string part carries its
:class:`~bridge.translate.specs.Origin`, recorded where it was decided, so ``inspect`` renders
the plan instead of re-deriving it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import BuildTag, canonicalize_name
from packaging.version import Version

from ..model.conda import AboutJson, ProvenanceRecord, package_filename
from ..model.wheel import Member, NestedRef
from ..translate.layout import CondaLayout
from ..translate.names import NameMap
from ..translate.specs import Decision, Origin
from ..translate.tags import Target
from ..translate.variants import Variant
from ..translate.wheelvariant import WheelVariant

PackageFormat = Literal["conda", "tar.bz2", "tree"]
EXTENSIONS: dict[str, str] = {"conda": ".conda", "tar.bz2": ".tar.bz2", "tree": ""}


@dataclass(frozen=True)
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
class LinkOptions:
    """What the user chose about softlinks (ignored where the target cannot hold links)."""

    dedup: bool = True  # identical files of one library alias chain: one file plus links
    soname_links: bool = False  # add ``libX.so`` -> ``libX.so.N`` read from the ELF SONAME
    expand_devel: bool = True  # expand rocm-sdk-devel's _devel.tar at conversion time


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
    gpu_family_origin: str | None = None  # where gpu_family came from, for the plan's origins (default: --gpu-family)
    extras: ExtrasChoice = ALL_EXTRAS  # which ``<name>-with-<extra>`` metapackages to plan (``--extras``)
    links: LinkOptions = field(default_factory=LinkOptions)  # dedup, SONAME links, devel tarball expansion


class CoreMetadata(Protocol):
    """What the planner reads to decide a package's identity and requirements: a wheel's
    :class:`~bridge.model.wheel.Distribution`, or the METADATA an index serves (PEP 658)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> Version: ...
    @property
    def tags(self) -> frozenset[Tag]: ...
    @property
    def requires_dist(self) -> tuple[Requirement, ...]: ...
    @property
    def requires_python(self) -> SpecifierSet | None: ...
    @property
    def build_tag(self) -> BuildTag: ...
    @property
    def variant(self) -> WheelVariant | None: ...
    @property
    def provides_extra(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class PackageDecisions:
    """The planner's decisions for one target that need no file of the package: identity and requirements."""

    name: str
    version: str
    build: str
    build_number: int
    build_parts: tuple[Origin, ...]  # each part of the build string (the build number last)
    variant: Variant
    decisions: tuple[Decision, ...]  # what became of each Requires-Dist entry
    dependencies: tuple[Origin, ...]
    constraints: tuple[Origin, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def depends(self) -> list[str]:
        return [d.value for d in self.dependencies]

    @property
    def constrains(self) -> list[str]:
        return [c.value for c in self.constraints]


@dataclass(frozen=True)
class CondaPackage:
    """A fully planned conda package; ``dependencies``, ``constraints`` and ``build_parts`` say where each came from."""

    name: str
    version: str
    build: str
    build_number: int
    target: Target
    layout: CondaLayout
    dependencies: tuple[Origin, ...]
    constraints: tuple[Origin, ...]
    build_parts: tuple[Origin, ...]  # each part of the build string (the build number last)
    timestamp_ms: int
    about_fields: dict[str, Any]  # about.json without extra.wheel2conda ...
    provenance: ProvenanceRecord  # ... which is this record
    link: dict[str, Any] | None
    files: tuple[PlannedFile, ...]
    info_files: tuple[PlannedFile, ...]
    decisions: tuple[Decision, ...]
    variant: Variant
    license: str | None = None
    track_features: str | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # informational decisions (shown with -v)
    index_override: dict[str, Any] | None = None  # a recorded index.json (bridge.plan.roundtrip), written verbatim
    writes_provenance: bool = True  # False: a restored foreign package's about.json has no extra.wheel2conda

    @property
    def depends(self) -> list[str]:
        return [d.value for d in self.dependencies]

    @property
    def constrains(self) -> list[str]:
        return [c.value for c in self.constraints]

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
        if self.constraints:
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
