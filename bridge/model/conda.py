"""Typed, validated models of conda's own files, parsed the way ``packaging.metadata`` does.

Each model has ``from_raw(raw, where=...)``, which checks every field it knows (type, range,
grammar) and raises :class:`bridge.core.errors.BadInput` naming the file and the field, and
``to_raw()``, which gives the JSON document back.  Keys a model does not know are kept
verbatim (``to_raw`` of a parsed document is the document), so writing back never changes
bytes.  The rules:

* conda names, versions and build strings follow conda's grammar (``conda-format.md`` §1,
  CEP 26): no ``/``, ``\\``, ``..``, NUL, whitespace or leading ``.``; no ``-`` in versions and
  build strings; at most 64 characters.  Upper case is accepted in names (older packages have
  it); nothing that could leave a folder is;
* integers are JSON integers (not strings, floats or booleans) in sane ranges;
* ``subdir`` is one of conda's known subdirs (``bridge/data/platforms.yaml``);
* member paths pass the one path rule (:mod:`bridge.model.paths`);
* entry points are ``name = module.path:attr.path`` with a safe file name and identifiers.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from ..core.errors import BadInput
from .paths import check_file_name, check_package_paths, check_relative_path
from .scheme import Scheme, entry_point_problem, parse_entry_point_value

#: Largest sane values: builds numbered by date×1000 fit easily; timestamps are ms up to year 9999.
MAX_BUILD_NUMBER = 2**53
MAX_TIMESTAMP = 253402300799999
MAX_SIZE = 2**50  # 1 PiB
MAX_IDENTITY = 64  # CEP 26: name, version and build are at most 64 characters
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9_.+!*]+$")
_BUILD = re.compile(r"^[A-Za-z0-9_.+]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
NOARCH_KINDS = ("python", "generic")
PathType = Literal["hardlink", "softlink", "directory"]
FileMode = Literal["text", "binary"]


class InvalidField(BadInput, ValueError):
    """A conda document that breaks its model: names the file and the field (a :class:`BadInput`)."""


@cache
def known_subdirs() -> frozenset[str]:
    """conda's known subdirs plus ``noarch`` (``bridge/data/platforms.yaml``)."""
    from ..core.data import load

    return frozenset(load("platforms")["subdirs"])


# --------------------------------------------------------------------------- grammar


def _identity_problem(value: str, pattern: re.Pattern[str], what: str) -> str | None:
    if not value:
        return f"empty {what}"
    if len(value) > MAX_IDENTITY:
        return f"{what} longer than {MAX_IDENTITY} characters"
    if value.startswith(".") or ".." in value:
        return f"{what} {value!r} starts with '.' or contains '..'"
    if not pattern.match(value):
        return f"{what} {value!r} has characters conda does not allow"
    return None


def conda_name_problem(value: str) -> str | None:
    """Why ``value`` is not a conda package name (CEP 26), or None."""
    return _identity_problem(value, _NAME, "name")


def conda_version_problem(value: str) -> str | None:
    """Why ``value`` is not a conda version string (no ``-``, no separators), or None."""
    return _identity_problem(value, _VERSION, "version")


def conda_build_problem(value: str) -> str | None:
    """Why ``value`` is not a conda build string (``^[a-zA-Z0-9_.+]+$``), or None."""
    return _identity_problem(value, _BUILD, "build string")


def check_conda_identity(where: str, label: str, name: object, version: object, build: object) -> None:
    """Refuse a name/version/build triple that is not conda's grammar (so no file name can escape)."""
    for key, value, rule in (("name", name, conda_name_problem), ("version", version, conda_version_problem), ("build", build, conda_build_problem)):
        if not isinstance(value, str):
            raise InvalidField(where, f"{label}: {key} must be a string, not {_kind(value)}")
        problem = rule(value)
        if problem:
            raise InvalidField(where, f"{label}: {key}: {problem}")


def package_filename(name: str, version: str, build: str, extension: str) -> str:
    """``name-version-build<extension>``, after conda's grammar check (ValueError otherwise)."""
    for rule, value in ((conda_name_problem, name), (conda_version_problem, version), (conda_build_problem, build)):
        problem = rule(value)
        if problem:
            raise ValueError(problem)
    return f"{name}-{version}-{build}{extension}"


# --------------------------------------------------------------------------- field readers


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


class _Fields:
    """Typed access to one JSON object's fields; every failure names the file and the field."""

    def __init__(self, raw: object, where: str, label: str, prefix: str = ""):
        if not isinstance(raw, dict):
            raise InvalidField(where, f"{label}{': ' + prefix.rstrip('.') if prefix else ''}: must be a JSON object, not {_kind(raw)}")
        self.raw: dict[str, Any] = raw
        self.where, self.label, self.prefix = where, label, prefix

    def fail(self, key: str, why: str) -> BadInput:
        return InvalidField(self.where, f"{self.label}: {self.prefix}{key}: {why}")

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        if "\x00" in value:
            raise self.fail(key, "contains a NUL character")
        return value

    def integer(self, key: str, *, low: int = 0, high: int = MAX_BUILD_NUMBER, required: bool = False) -> int | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, not {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(key, f"{value} is out of range ({low}..{high})")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, not {_kind(value)}")
        return tuple(value)

    def obj(self, key: str) -> dict[str, Any] | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, f"must be an object, not {_kind(value)}")
        return value

    def choice(self, key: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None and value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(sorted(choices))}")
        return value

    def hexdigest(self, key: str, pattern: re.Pattern[str] = _SHA256) -> str | None:
        value = self.text(key)
        if value is not None and not pattern.match(value):
            raise self.fail(key, f"{value!r} is not a hex digest")
        return value


def parse_json(where: str, label: str, data: bytes) -> Any:
    """``json.loads`` with a BadInput naming the file (invalid UTF-8, syntax, huge numbers, and
    ``\\udcff`` escapes: strings that are not Unicode text could never be written back)."""
    try:
        doc = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidField(where, f"{label} is not valid JSON ({exc})") from None
    bad = _not_text(doc)
    if bad is not None:
        raise InvalidField(where, f"{label}: {bad!r} is not valid Unicode text (a lone surrogate)")
    return doc


def _not_text(value: object) -> str | None:
    """The first string in a JSON document that cannot be encoded as UTF-8, or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


# --------------------------------------------------------------------------- index.json


@dataclass(frozen=True)
class IndexJson:
    """``info/index.json``: identity, dependencies and target of a package."""

    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    noarch: str | None = None
    timestamp: int | None = None
    license: str | None = None
    track_features: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def windows(self) -> bool:
        return self.subdir.startswith("win-")

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str = "info/index.json", *, default_subdir: bool = False) -> IndexJson:
        """Parse and check; ``default_subdir`` fills a missing subdir (``noarch`` for noarch packages)."""
        f = _Fields(raw, where, label)
        name, version, build = f.text("name", required=True), f.text("version", required=True), f.text("build", required=True)
        check_conda_identity(where, label, name, version, build)
        assert name is not None and version is not None and build is not None
        noarch = f.raw.get("noarch")
        if isinstance(noarch, bool):  # conda-build 2 wrote "noarch": true for generic ones
            noarch = "generic" if noarch else None
        elif noarch is not None:
            noarch = f.choice("noarch", NOARCH_KINDS)
        subdir = f.text("subdir")
        if subdir is None and default_subdir and noarch:
            subdir = "noarch"
        if subdir is None:
            raise f.fail("subdir", "missing")
        if subdir not in known_subdirs():
            raise f.fail("subdir", f"{subdir!r} is not a known conda subdir")
        track = f.raw.get("track_features")
        if track is not None and not isinstance(track, str):
            raise f.fail("track_features", f"must be a string, not {_kind(track)}")
        f.text("license")
        f.text("arch"), f.text("platform")
        return cls(
            name=name,
            version=version,
            build=build,
            build_number=f.integer("build_number") or 0,
            subdir=subdir,
            depends=f.strings("depends"),
            constrains=f.strings("constrains"),
            noarch=noarch,
            timestamp=f.integer("timestamp", high=MAX_TIMESTAMP),
            license=f.text("license"),
            track_features=track,
            raw=f.raw,
        )

    def to_raw(self) -> dict[str, Any]:
        if self.raw:
            return dict(self.raw)
        raw: dict[str, Any] = {"build": self.build, "build_number": self.build_number, "depends": list(self.depends), "name": self.name, "subdir": self.subdir}
        if self.timestamp is not None:
            raw["timestamp"] = self.timestamp
        raw["version"] = self.version
        for key, value in (("constrains", list(self.constrains)), ("license", self.license), ("noarch", self.noarch), ("track_features", self.track_features)):
            if value:
                raw[key] = value
        return raw


# --------------------------------------------------------------------------- paths.json


@dataclass(frozen=True)
class PathEntry:
    """One entry of ``info/paths.json``."""

    path: str
    path_type: PathType = "hardlink"
    sha256: str | None = None
    size_in_bytes: int | None = None
    file_mode: FileMode | None = None
    prefix_placeholder: str | None = None
    no_link: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str = "info/paths.json", index: int = 0) -> PathEntry:
        f = _Fields(raw, where, label, prefix=f"paths[{index}].")
        path = f.text("_path", required=True)
        assert path is not None
        problem = check_relative_path(path)
        if problem:
            raise f.fail("_path", f"unsafe path {path!r}: {problem}")
        return cls(
            path=path,
            path_type=f.choice("path_type", ("hardlink", "softlink", "directory")) or "hardlink",  # type: ignore[arg-type]
            sha256=f.hexdigest("sha256"),
            size_in_bytes=f.integer("size_in_bytes", high=MAX_SIZE),
            file_mode=f.choice("file_mode", ("text", "binary")),  # type: ignore[arg-type]
            prefix_placeholder=f.text("prefix_placeholder"),
            no_link=bool(f.flag("no_link")),
            raw=f.raw,
        )

    def to_raw(self) -> dict[str, Any]:
        if self.raw:
            return dict(self.raw)
        raw: dict[str, Any] = {"_path": self.path, "path_type": self.path_type}
        if self.sha256 is not None:
            raw["sha256"] = self.sha256
        if self.size_in_bytes is not None:
            raw["size_in_bytes"] = self.size_in_bytes
        if self.prefix_placeholder:
            raw["file_mode"] = self.file_mode or "text"
            raw["prefix_placeholder"] = self.prefix_placeholder
        if self.no_link:
            raw["no_link"] = True
        return raw


@dataclass(frozen=True)
class PathsJson:
    """``info/paths.json`` (``paths_version`` 1): every file and link of the package."""

    paths: tuple[PathEntry, ...]

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str = "info/paths.json", *, subdir: str | None = None) -> PathsJson:
        """Parse and check every entry; names must be unique (and, off Linux, unique ignoring case)."""
        f = _Fields(raw, where, label)
        version = f.raw.get("paths_version")
        if version != 1 or isinstance(version, bool):
            raise f.fail("paths_version", f"unsupported paths_version {version!r}")
        items = f.raw.get("paths", [])
        if not isinstance(items, list):
            raise f.fail("paths", f"must be a list, not {_kind(items)}")
        entries = tuple(PathEntry.from_raw(item, where, label, i) for i, item in enumerate(items))
        check_member_names(where, label, [e.path for e in entries], subdir)
        return cls(entries)

    def files(self) -> dict[str, PathEntry]:
        """Entries by path, directories left out."""
        return {e.path: e for e in self.paths if e.path_type != "directory"}

    def to_raw(self) -> dict[str, Any]:
        return {"paths": [e.to_raw() for e in self.paths], "paths_version": 1}


def check_member_names(where: str, label: str, names: Iterable[str], subdir: str | None) -> None:
    """The path rule over a conda package's member names: unique; case-unique and no device names
    where the target's file systems need it (``win-*``, ``osx-*``, ``noarch``)."""
    names = list(names)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidField(where, f"{label}: {name!r} is listed twice")
        seen.add(name)
    windows = bool(subdir and subdir.startswith("win-"))
    case_sensitive = bool(subdir and not subdir.startswith(("win-", "osx-")) and subdir != "noarch")
    if case_sensitive:
        bad = next(((n, p) for n in names if (p := check_relative_path(n))), None)
    else:
        bad = check_package_paths(names, windows=windows)
    if bad:
        raise InvalidField(where, f"{label}: unsafe path {bad[0]!r}: {bad[1]}")


# --------------------------------------------------------------------------- about.json


@dataclass(frozen=True)
class ProvenanceRecord:
    """``about.json`` ``extra.wheel2conda``: where a package wheel2conda wrote came from.

    ``keys`` remembers which keys the record has (some are written as null), so ``to_raw`` gives
    exactly the document back.
    """

    converter_version: str | None = None
    source: str | None = None
    source_sha256: str | None = None
    source_size: int | None = None
    pypi_name: str | None = None
    pypi_version: str | None = None
    local_version_label: str | None = None
    variant_backend: str | None = None
    gpu_family: str | None = None
    wheel_tags: tuple[str, ...] = ()
    build_tag: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    python_target: str | None = None
    schemes: Mapping[str, Scheme] = field(default_factory=dict)  # archive path → install scheme a reader could not guess
    conda_record: bool = False  # restored from a wheel's conda-package.json
    extra_of: str | None = None  # for ``<name>-with-<extra>`` metapackages
    extra: str | None = None
    keys: tuple[str, ...] = ()

    _STRINGS = ("converter_version", "source", "source_sha256", "pypi_name", "pypi_version", "local_version_label", "variant_backend", "gpu_family", "build_tag", "requires_python", "python_target", "extra_of", "extra")

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str = "info/about.json") -> ProvenanceRecord:
        f = _Fields(raw, where, label, prefix="extra.wheel2conda.")
        values: dict[str, Any] = {k: f.text(k) for k in cls._STRINGS}
        values["source_size"] = f.integer("source_size", high=MAX_SIZE)
        values["wheel_tags"] = f.strings("wheel_tags")
        values["requires_dist"] = f.strings("requires_dist")
        values["conda_record"] = bool(f.flag("conda_record"))
        schemes: dict[str, Scheme] = {}
        for path, scheme in (f.obj("schemes") or {}).items():
            problem = check_relative_path(path)
            if problem:
                raise f.fail("schemes", f"unsafe path {path!r}: {problem}")
            if scheme not in {s.value for s in Scheme}:
                raise f.fail("schemes", f"{path}: unknown install scheme {scheme!r}")
            schemes[path] = Scheme(scheme)
        values["schemes"] = schemes
        return cls(**values, keys=tuple(f.raw))

    def replace(self, **changes: Any) -> ProvenanceRecord:
        """A copy with ``changes`` (their keys become present; None keeps a key as null)."""
        keys = tuple(dict.fromkeys([*self.keys, *changes]))
        return dataclasses.replace(self, **changes, keys=keys)

    def without(self, *names: str) -> ProvenanceRecord:
        """A copy whose document leaves out ``names``."""
        return dataclasses.replace(self, keys=tuple(k for k in self.keys if k not in names))

    def to_raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for key in self.keys:
            value = getattr(self, key, None)
            if isinstance(value, tuple):
                value = list(value)
            elif key == "schemes":
                value = {p: s.value for p, s in self.schemes.items()}
            raw[key] = value
        return raw


@dataclass(frozen=True)
class AboutJson:
    """``info/about.json``: descriptive fields, and wheel2conda's provenance when it wrote the package."""

    summary: str | None = None
    license: str | None = None
    provenance: ProvenanceRecord | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str = "info/about.json") -> AboutJson:
        f = _Fields(raw, where, label)
        extra = f.obj("extra") or {}
        provenance = ProvenanceRecord.from_raw(extra["wheel2conda"], where, label) if extra.get("wheel2conda") is not None else None
        for key in ("summary", "home", "dev_url", "doc_url", "description"):
            f.text(key)
        license = f.raw.get("license")
        if license is not None and not isinstance(license, str):
            raise f.fail("license", f"must be a string, not {_kind(license)}")
        return cls(summary=f.text("summary"), license=license, provenance=provenance, raw=f.raw)

    def to_raw(self) -> dict[str, Any]:
        raw = dict(self.raw)
        if self.provenance is not None:
            raw["extra"] = {**(raw.get("extra") or {}), "wheel2conda": self.provenance.to_raw()}
        return raw

    def foreign_extra(self) -> dict[str, Any]:
        """``extra`` without wheel2conda's record."""
        return {k: v for k, v in (self.raw.get("extra") or {}).items() if k != "wheel2conda"}


# --------------------------------------------------------------------------- link.json


@dataclass(frozen=True)
class EntryPointSpec:
    """A ``noarch: python`` entry point, ``name = module:attr``."""

    name: str
    module: str
    attr: str

    def to_raw(self) -> str:
        return f"{self.name} = {self.module}:{self.attr}"


def parse_entry_point_spec(text: object, where: str, label: str) -> EntryPointSpec:
    """``"name = module.path:attr.path"`` checked: a safe file name and identifiers only."""
    if not isinstance(text, str):
        raise InvalidField(where, f"{label}: entry point must be a string, not {_kind(text)}")
    name, sep, value = text.partition("=")
    name = name.strip()
    parsed = parse_entry_point_value(value) if sep else None
    if parsed is None:
        raise InvalidField(where, f"{label}: entry point {text!r} is not 'name = module:function'")
    module, attr = parsed
    problem = entry_point_problem(name, module, attr)
    if problem:
        raise InvalidField(where, f"{label}: entry point {text!r}: {problem}")
    return EntryPointSpec(name, module, attr)


@dataclass(frozen=True)
class LinkJson:
    """``info/link.json``: ``noarch`` kind and, for ``noarch: python``, the entry points conda creates."""

    noarch_type: str | None = None
    entry_points: tuple[EntryPointSpec, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str = "info/link.json") -> LinkJson:
        f = _Fields(raw, where, label)
        f.integer("package_metadata_version", high=1000)
        noarch = _Fields(f.obj("noarch") or {}, where, label, prefix="noarch.")
        kind = noarch.choice("type", NOARCH_KINDS)
        points = tuple(parse_entry_point_spec(t, where, f"{label}: noarch.entry_points") for t in noarch.strings("entry_points"))
        return cls(kind, points, raw=f.raw)

    def to_raw(self) -> dict[str, Any]:
        if self.raw:
            return dict(self.raw)
        noarch: dict[str, Any] = {"type": self.noarch_type}
        if self.entry_points:
            noarch["entry_points"] = [e.to_raw() for e in self.entry_points]
        return {"noarch": noarch, "package_metadata_version": 1}


# --------------------------------------------------------------------------- has_prefix


@dataclass(frozen=True)
class HasPrefixEntry:
    path: str
    placeholder: str | None = None
    file_mode: FileMode = "text"


@dataclass(frozen=True)
class HasPrefix:
    """``info/has_prefix`` (legacy): ``path`` or ``placeholder mode path`` per line."""

    entries: tuple[HasPrefixEntry, ...]

    @classmethod
    def from_raw(cls, raw: str | bytes, where: str, label: str = "info/has_prefix") -> HasPrefix:
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            raise InvalidField(where, f"{label} is not UTF-8 ({exc})") from None
        entries = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split(" ")
            if len(parts) == 1:
                entry = HasPrefixEntry(parts[0])
            elif len(parts) == 3 and parts[1] in ("text", "binary"):
                entry = HasPrefixEntry(parts[2].strip('"'), parts[0].strip('"'), parts[1])  # type: ignore[arg-type]
            else:
                raise InvalidField(where, f"{label}: line {number}: expected 'path' or 'placeholder mode path'")
            problem = check_relative_path(entry.path)
            if problem:
                raise InvalidField(where, f"{label}: line {number}: unsafe path {entry.path!r}: {problem}")
            entries.append(entry)
        return cls(tuple(entries))

    def to_raw(self) -> str:
        return "".join(f"{e.placeholder} {e.file_mode} {e.path}\n" if e.placeholder else f"{e.path}\n" for e in self.entries)


# --------------------------------------------------------------------------- round-trip record


RECORD_FORMAT = 1
DistInfoKind = Literal["own", "synthesized"]


@dataclass
class CondaRecord:
    """The conda package a wheel was made from (``.dist-info/conda-package.json``, :mod:`bridge.model.roundtrip`).

    ``index``/``about``/``link``/``paths`` stay JSON documents (they are written back verbatim),
    checked by their models when parsed.
    """

    package: str
    index: dict[str, Any]
    about: dict[str, Any] | None = None
    link: dict[str, Any] | None = None
    dist_info: str = "own"  # or "synthesized"
    paths: dict[str, dict[str, Any]] = field(default_factory=dict)
    dist_info_files: list[str] = field(default_factory=list)  # own: the names the package had
    dist_info_text: dict[str, str] = field(default_factory=dict)  # own: INSTALLER, WHEEL, ... the wheel changed

    @property
    def index_model(self) -> IndexJson:
        return IndexJson.from_raw(self.index, "conda-package.json", "conda-package.json: index")

    def to_raw(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "package": self.package,
            "index": self.index,
            "about": self.about,
            "link": self.link,
            "dist_info": self.dist_info,
            "paths": self.paths,
            "dist_info_files": self.dist_info_files,
            "dist_info_text": self.dist_info_text,
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_raw(), indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "conda-package.json", label: str = "conda-package.json") -> CondaRecord:
        return cls.from_raw(parse_json(where, label, data), where, label)

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str = "conda-package.json") -> CondaRecord:
        f = _Fields(raw, where, label)
        if f.raw.get("format") != RECORD_FORMAT or isinstance(f.raw.get("format"), bool):
            raise f.fail("format", f"unknown format {f.raw.get('format')!r}")
        index = IndexJson.from_raw(f.obj("index"), where, f"{label}: index")
        package = f.text("package") or ""
        if package:
            problem = check_file_name(package, "package file name")
            if problem:
                raise f.fail("package", problem)
        about = f.obj("about")
        if about is not None:
            AboutJson.from_raw(about, where, f"{label}: about")
        link = f.obj("link")
        if link is not None:
            LinkJson.from_raw(link, where, f"{label}: link")
        dist_info = f.choice("dist_info", ("own", "synthesized")) or "own"
        paths: dict[str, dict[str, Any]] = {}
        for path, entry in (f.obj("paths") or {}).items():
            problem = check_relative_path(path)
            if problem:
                raise f.fail("paths", f"unsafe path {path!r}: {problem}")
            e = _Fields(entry, where, label, prefix=f"paths[{path!r}].")
            e.text("prefix_placeholder"), e.choice("file_mode", ("text", "binary")), e.flag("no_link"), e.hexdigest("sha256"), e.text("interpreter")
            paths[path] = e.raw
        files = f.strings("dist_info_files")
        texts = f.obj("dist_info_text") or {}
        for inner in [*files, *texts]:
            problem = check_relative_path(inner)
            if problem:
                raise f.fail("dist_info_files" if inner in files else "dist_info_text", f"unsafe path {inner!r}: {problem}")
        for inner, text in texts.items():
            if not isinstance(text, str):
                raise f.fail("dist_info_text", f"{inner}: must be a string, not {_kind(text)}")
        return cls(
            package=package,
            index=dict(index.raw),
            about=about,
            link=link,
            dist_info=dist_info,
            paths=paths,
            dist_info_files=list(files),
            dist_info_text=dict(texts),
        )


# --------------------------------------------------------------------------- repodata


@dataclass(frozen=True)
class RepodataRecord:
    """One package's entry in ``repodata.json``: its ``index.json`` plus md5, sha256 and size."""

    index: IndexJson
    md5: str | None
    sha256: str | None
    size: int | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: object, where: str, label: str, *, subdir: str | None = None) -> RepodataRecord:
        f = _Fields(raw, where, label)
        index = IndexJson.from_raw({**({"subdir": subdir} if subdir else {}), **f.raw}, where, label)
        return cls(index, f.hexdigest("md5", _MD5), f.hexdigest("sha256"), f.integer("size", high=MAX_SIZE), raw=f.raw)

    def to_raw(self) -> dict[str, Any]:
        return dict(self.raw)


REPODATA_GROUPS = ("packages", "packages.conda")


def check_repodata(raw: object, where: str, label: str = "repodata.json") -> dict[str, Any]:
    """The shape of a ``repodata.json`` document: groups are objects of objects keyed by file names.

    Records are checked field by field with :class:`RepodataRecord` where they are used; here only
    what every reader of the document relies on (so a malformed file is one clear refusal).
    """
    f = _Fields(raw, where, label)
    f.obj("info")
    for group in REPODATA_GROUPS:
        records = f.obj(group) or {}
        for filename, record in records.items():
            problem = check_file_name(filename, "package file name")
            if problem:
                raise f.fail(group, problem)
            if not isinstance(record, dict):
                raise f.fail(f"{group}[{filename!r}]", f"must be an object, not {_kind(record)}")
    removed = f.raw.get("removed")
    if removed is not None and (not isinstance(removed, list) or not all(isinstance(n, str) for n in removed)):
        raise f.fail("removed", f"must be a list of file names, not {_kind(removed)}")
    return f.raw
