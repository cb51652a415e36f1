"""The neutral package model every reader produces and every writer consumes.

A :class:`Distribution` is a Python distribution described in install-scheme terms (the
vocabulary wheels and installers share): files under ``purelib``/``platlib`` (site-packages),
``scripts``, ``headers`` and ``data``, plus core metadata, entry points and tags.  Readers
fill it from a wheel, a conda package or an installed distribution; writers turn it into a
conda package, a wheel or a plain tree.  File contents are never held here: a member is
opened through :meth:`Distribution.open`, which streams and verifies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ContextManager, Protocol  # noqa: UP035  (ContextManager: the alias OpenFn documents)

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import BuildTag, NormalizedName, canonicalize_name
from packaging.version import Version

from ..core.digest import VerifyingReader
from .conda import CondaRecord
from .scheme import Scheme
from .variant import WheelVariant


@dataclass(frozen=True, slots=True)
class Member:
    """One installed file (or symlink) of a distribution."""

    scheme: Scheme
    path: str  # POSIX path relative to the scheme root
    size: int  # for a link: size of the target's content when known, else 0
    sha256: str | None  # hex digest; None when the source cannot tell before reading
    mode: int = 0o644
    target: str | None = None  # symlink target, relative to the link's directory
    origin: str = ""  # the member's name inside the source, for messages and reading

    @property
    def is_link(self) -> bool:
        return self.target is not None

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A console or gui script: ``name = module:attr``."""

    name: str
    module: str
    attr: str
    gui: bool = False

    @property
    def value(self) -> str:
        return f"{self.module}:{self.attr}" if self.attr else self.module


@dataclass(frozen=True)
class Provenance:
    """Where a distribution came from; recorded in the output so nothing is lost."""

    path: str  # the input file (or directory) as given
    filename: str  # its base name
    sha256: str | None = None
    size: int | None = None
    timestamp: int = 0  # seconds since the epoch; newest member time, for reproducible output


@dataclass(frozen=True)
class NestedRef:
    """A file inside a tar member of the distribution (rocm-sdk-devel's ``_devel.tar``): entry ``index``, named ``name``."""

    name: str
    index: int


class MemberOpener(Protocol):
    def __call__(self, member: Member) -> BinaryIO: ...


@dataclass
class Distribution:
    """A Python distribution, independent of the archive format it came in."""

    name: str  # project name as written in METADATA
    version: Version
    metadata: bytes  # METADATA, verbatim
    summary: str
    requires_dist: tuple[Requirement, ...]
    requires_python: SpecifierSet | None
    provides_extra: tuple[str, ...]
    tags: frozenset[Tag]
    build_tag: BuildTag
    root_is_purelib: bool
    dist_info: str  # e.g. "torch-2.9.1+rocm7.11.0a20260104.dist-info"
    entry_points: tuple[EntryPoint, ...]
    members: tuple[Member, ...]  # RECORD/INSTALLER/REQUESTED/direct_url.json excluded: writers regenerate them
    provenance: Provenance
    opener: MemberOpener = field(repr=False)
    fields: Mapping[str, Any] = field(default_factory=dict)  # parsed core metadata (packaging RawMetadata)
    license_files: tuple[str, ...] = ()  # dist-info-relative paths (e.g. "licenses/LICENSE")
    conda_record: CondaRecord | None = None  # a round-trip wheel's conda-package.json: the conda package to restore
    wheel_filename: str | None = None  # the file name of the wheel an installed distribution came from, when known
    gpu_family: str | None = None  # the GPU family a ROCm meta distribution was made for
    variant: WheelVariant | None = None  # PEP 825 variant of a variant wheel (label in the file name, variant.json)

    @property
    def normalized_name(self) -> NormalizedName:
        return canonicalize_name(self.name)

    @property
    def site_scheme(self) -> Scheme:
        return Scheme.PURELIB if self.root_is_purelib else Scheme.PLATLIB

    def dist_info_members(self) -> Iterator[Member]:
        prefix = self.dist_info + "/"
        for m in self.members:
            if m.scheme.in_site_packages and m.path.startswith(prefix):
                yield m

    @contextmanager
    def open(self, member: Member) -> Iterator[VerifyingReader]:
        """Stream a member's bytes; on normal exit its size and digest are verified."""
        raw = self.opener(member)
        try:
            reader = VerifyingReader(
                raw,
                label=member.origin or member.path,
                where=self.provenance.path,
                size=member.size if not member.is_link else None,
                expected=("sha256", member.sha256) if member.sha256 else None,
            )
            yield reader
            reader.verify()
        finally:
            raw.close()

    def read(self, member: Member) -> bytes:
        """Whole content of a (small) member, verified."""
        with self.open(member) as stream:
            return stream.read()


OpenFn = Callable[[Member], ContextManager[BinaryIO]]
