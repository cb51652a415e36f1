"""conda → PyPI: the inverse of the forward rules.  Pure functions.

* ``index.json`` (``subdir``, ``noarch``, ``depends``) → wheel tags: the interpreter pins and the
  virtual packages (``__glibc``, ``__osx``) become tags and are dropped as requirements;
* MatchSpecs (parsed by py-rattler) → PEP 508 requirements, names through
  :meth:`NameMap.to_pypi`;
* conda version + build string → PEP 440 version, the GPU variant becoming a local label;
* archive paths → install schemes (the inverse of :mod:`bridge.translate.layout`);
* prefix-placeholder shebangs → ``#!python``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from rattler import MatchSpec

from ..core.data import load
from ..model import EntryPoint, Scheme
from .names import NameMap


class ReverseError(ValueError):
    """A conda fact with no wheel equivalent; the message says why."""


# --------------------------------------------------------------------------- requirements

ReverseAction = Literal["kept", "dropped", "python", "tag"]


@dataclass
class ReverseDecision:
    """What became of one ``depends`` entry."""

    spec: str
    action: ReverseAction
    requirement: str | None = None  # PEP 508 (kept) or a specifier (python)
    reason: str = ""


@dataclass(frozen=True)
class ParsedSpec:
    name: str
    version: str | None  # rattler's canonical version spec, None = any
    build: str | None


def parse_match_spec(spec: str) -> ParsedSpec:
    """``name [version [build]]`` through py-rattler's MatchSpec parser."""
    try:
        parsed = MatchSpec(spec)
    except Exception as exc:  # rattler raises its own exception types
        raise ReverseError(f"invalid MatchSpec {spec!r} ({' '.join(str(exc).splitlines()[0].split())})") from None
    if parsed.name is None:
        raise ReverseError(f"MatchSpec {spec!r} names no package")
    version = str(parsed.version) if parsed.version is not None else None
    build = str(parsed.build) if parsed.build is not None else None
    return ParsedSpec(parsed.name.normalized, None if version in (None, "*") else version, None if build in (None, "*") else build)


def pep440_specifier(conda_spec: str) -> tuple[str, list[str]]:
    """A conda version spec (rattler's canonical form) → PEP 440 specifier and notes.

    ``1.2.*`` → ``==1.2.*``, ``==1.2`` → ``==1.2``, ``<2.0a0`` → ``<2.0`` (PEP 440 ``<V``
    already excludes V's pre-releases), ``1.0dev1`` → ``1.0.dev1``.  Alternatives (``|``) have no
    PEP 440 form: the constraint is left open, with a note.
    """
    if "|" in conda_spec:
        return "", [f"'{conda_spec}': alternatives (|) have no PEP 440 form; version left open"]
    clauses: list[str] = []
    notes: list[str] = []
    for raw in conda_spec.strip("()").split(","):
        clause = raw.strip().strip("()")
        if not clause or clause == "*":
            continue
        m = re.fullmatch(r"(==|!=|>=|<=|~=|>|<|=)?\s*(.+)", clause)
        assert m is not None
        op, text = m.group(1) or "", m.group(2)
        star = text.endswith(".*") or text.endswith("*")
        text = text.rstrip("*").rstrip(".")
        try:
            version = Version(text)
        except InvalidVersion:
            notes.append(f"'{clause}': {text!r} is not a PEP 440 version; clause left out")
            continue
        if star or op == "=":
            clauses.append(f"{'!=' if op == '!=' else '=='}{version.public}.*")
        elif op == "<" and version.pre == ("a", 0) and version.dev is None and version.post is None:
            clauses.append(f"<{version.base_version}")
        else:
            clauses.append(f"{op or '=='}{version}")
    try:
        return str(SpecifierSet(",".join(clauses))) if clauses else "", notes
    except InvalidSpecifier as exc:
        return "", [*notes, f"'{conda_spec}': {exc}; version left open"]


def translate_depends(spec: str, names: NameMap) -> ReverseDecision:
    """One ``depends`` entry → a Requires-Dist entry, Requires-Python, a tag, or nothing."""
    try:
        parsed = parse_match_spec(spec)
    except ReverseError as exc:
        return ReverseDecision(spec, "dropped", reason=str(exc))
    if parsed.name.startswith("__"):
        return ReverseDecision(spec, "tag", reason="virtual package: expressed by the wheel's platform tag")
    conda_only = load("reverse")["conda_only"]
    if parsed.name in conda_only:
        return ReverseDecision(spec, "tag" if parsed.name in ("python_abi", "cpython", "_python_abi3_support") else "dropped", reason=conda_only[parsed.name])
    specifier, notes = pep440_specifier(parsed.version) if parsed.version else ("", [])
    if parsed.build:
        notes.append(f"build constraint {parsed.build!r} has no PEP 508 form; left out")
    if parsed.name == "python":
        return ReverseDecision(spec, "python", specifier or None, "; ".join(notes))
    pypi = names.to_pypi(parsed.name)
    try:
        requirement = str(Requirement(f"{pypi}{specifier}"))
    except InvalidRequirement as exc:
        return ReverseDecision(spec, "dropped", reason=f"{pypi!r} is not a valid PyPI requirement ({exc})")
    return ReverseDecision(spec, "kept", requirement, "; ".join(notes))


# --------------------------------------------------------------------------- tags


@dataclass(frozen=True)
class PythonPins:
    """What a package's depends and noarch say about the interpreter."""

    kind: Literal["noarch", "abi3", "exact", "none"]
    version: tuple[int, int] | None = None  # minimum (noarch, abi3) or exact
    abi: str = "none"  # "cp312", "cp313t", "pypy39_pp73"


_PYTHON_ABI = re.compile(r"_(cp(\d)(\d+)t?|pypy(\d)(\d+)_pp\d+)$")
_FLOOR = re.compile(r">=?\s*(\d+)\.(\d+)")
_ONE_MINOR = re.compile(r"^(?:==)?(\d+)\.(\d+)(?:\.\*|\.\d+)?$")
_MINOR_RANGE = re.compile(r"^>=(\d+)\.(\d+)[^,]*,<(\d+)\.(\d+)")


def _exact_python(spec: str) -> tuple[int, int] | None:
    """X.Y when a python spec admits one minor version only (``3.12.*``, ``>=3.12,<3.13.0a0``)."""
    m = _ONE_MINOR.match(spec)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _MINOR_RANGE.match(spec.replace(" ", ""))
    if m and (int(m.group(3)), int(m.group(4))) == (int(m.group(1)), int(m.group(2)) + 1):
        return int(m.group(1)), int(m.group(2))
    return None


def python_pins(index: Mapping[str, object], site_python: tuple[int, int] | None = None) -> PythonPins:
    """The interpreter a package serves, from ``noarch`` and its ``python*`` depends.

    ``site_python`` is the X.Y of a ``lib/pythonX.Y/site-packages`` path, used when an arch
    package names no interpreter pin.
    """
    specs = {}
    for raw in index.get("depends") or ():  # type: ignore[union-attr,attr-defined]
        try:
            parsed = parse_match_spec(str(raw))
        except ReverseError:
            continue
        specs[parsed.name] = parsed
    python = specs.get("python")
    floor = None
    for name in ("cpython", "python"):
        if name in specs and specs[name].version:
            m = _FLOOR.search(specs[name].version or "")
            if m:
                floor = (int(m.group(1)), int(m.group(2)))
                break
    if index.get("noarch") == "python":
        if "_python_abi3_support" in specs or "cpython" in specs:
            return PythonPins("abi3", floor, "abi3")
        return PythonPins("noarch", floor)
    abi_spec = specs.get("python_abi")
    if abi_spec is not None and abi_spec.build:
        m = _PYTHON_ABI.search(abi_spec.build)
        if m:
            if m.group(2):
                return PythonPins("exact", (int(m.group(2)), int(m.group(3))), m.group(1))
            return PythonPins("exact", (int(m.group(4)), int(m.group(5))), m.group(1))
    xy = _exact_python(python.version) if python is not None and python.version else None
    if xy is not None:
        return PythonPins("exact", xy, f"cp{xy[0]}{xy[1]}")
    if site_python is not None:
        return PythonPins("exact", site_python, f"cp{site_python[0]}{site_python[1]}")
    return PythonPins("none")


def _virtual_floor(depends: Iterable[object], name: str) -> tuple[int, int] | None:
    for raw in depends:
        try:
            parsed = parse_match_spec(str(raw))
        except ReverseError:
            continue
        if parsed.name == name and parsed.version:
            m = _FLOOR.search(parsed.version) or re.match(r"(?:==)?(\d+)\.(\d+)", parsed.version)
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


def platform_tag(subdir: str, depends: Sequence[object] = (), glibc: tuple[int, int] | None = None) -> tuple[str, list[str]]:
    """Wheel platform tag for a conda subdir, and notes on assumptions made.

    Linux: ``__glibc >=2.X`` → ``manylinux_2_X_<arch>``; without it ``glibc`` (the user's
    ``--glibc``) or else ``linux_<arch>``, which pip installs on any Linux but PyPI refuses.
    macOS: ``__osx >=X.Y`` → ``macosx_X_Y_<arch>``, else the conda-forge default floor.
    """
    if subdir == "noarch":
        return "any", []
    platforms = load("platforms")
    notes: list[str] = []
    os_name = subdir.split("-", 1)[0]
    if os_name == "linux":
        arch = {v: k for k, v in platforms["linux_arch"].items()}.get(subdir)
        if arch is None:
            raise ReverseError(f"subdir {subdir} has no wheel platform tag")
        floor = _virtual_floor(depends, "__glibc") or glibc
        if floor is None:
            notes.append(f"no __glibc dependency: tagged linux_{arch} (use --glibc X.Y for a manylinux tag)")
            return f"linux_{arch}", notes
        return f"manylinux_{floor[0]}_{floor[1]}_{arch}", notes
    if os_name == "osx":
        arch = next((k for k, v in platforms["macos_arch"].items() if v == [subdir]), None)
        if arch is None:
            raise ReverseError(f"subdir {subdir} has no wheel platform tag")
        floor = _virtual_floor(depends, "__osx")
        if floor is None:
            default = load("reverse")["macos_default"][subdir]
            notes.append(f"no __osx dependency: assumed macOS {default}")
            floor = tuple(int(x) for x in default.split("."))  # type: ignore[assignment]
        assert floor is not None
        minimum = platforms["macos_minimum"].get(subdir)
        if minimum and floor < tuple(int(x) for x in minimum.split(".")):
            floor = tuple(int(x) for x in minimum.split("."))  # type: ignore[assignment]
        major, minor = floor
        return f"macosx_{major}_{minor if major < 11 else 0}_{arch}", notes
    tag = {v: k for k, v in platforms["windows"].items()}.get(subdir)
    if tag is None:
        raise ReverseError(f"subdir {subdir} has no wheel platform tag")
    return tag, notes


def wheel_tags(pins: PythonPins, platform: str) -> frozenset[Tag]:
    """The tag set of a wheel for an interpreter and one platform tag."""
    if pins.kind == "exact":
        assert pins.version is not None
        major, minor = pins.version
        interpreter = f"pp{major}{minor}" if pins.abi.startswith("pypy") else f"cp{major}{minor}"
        return frozenset({Tag(interpreter, pins.abi, platform)})
    if pins.kind == "abi3":
        major, minor = pins.version or (3, 2)
        return frozenset({Tag(f"cp{major}{minor}", "abi3", platform)})
    return frozenset({Tag("py3", "none", platform)})


# --------------------------------------------------------------------------- versions


_NOT_VARIANT = re.compile(r"^(?:py|pp)\d*t?(?:h[0-9a-f]{7,})?$|^h[0-9a-f]{7,}$|^abi3$|^\d+$|^pyh[0-9a-f]*$|^np\d+$")


def variant_parts(build: str, build_number: int | None = None) -> list[str]:
    """Build-string parts that name a variant: not python (``py312``, ``py312h1a2b3c4``,
    ``abi3``), not a hash (``h1a2b3c4``), not the trailing build number."""
    parts = build.split("_")
    if build_number is not None and parts and parts[-1] == str(build_number):
        parts = parts[:-1]
    return [p for p in parts if p and not _NOT_VARIANT.match(p)]


def local_label(build: str, build_number: int | None = None) -> str | None:
    """The derived local version label of a build string: its variant parts joined with ``.``.

    ``py312_rocm7.11_gfx103X_0`` → ``rocm7.11.gfx103x``; ``cuda126_py312h1a2b3c4_303`` →
    ``cuda126``; ``py312h1a2b3c4_0`` → None.  PEP 440 lower-cases it.
    """
    parts = variant_parts(build, build_number)
    text = ".".join(re.sub(r"[^A-Za-z0-9.]+", ".", p).strip(".") for p in parts)
    text = re.sub(r"\.{2,}", ".", text).strip(".").lower()
    return text or None


def pypi_version(conda_version: str, label: str | None) -> Version:
    """PEP 440 version of a conda version plus an optional local label."""
    try:
        version = Version(conda_version)
    except InvalidVersion:
        raise ReverseError(f"conda version {conda_version!r} is not a PEP 440 version") from None
    if version.local:
        return version
    try:
        return Version(f"{version}+{label}") if label else version
    except InvalidVersion:
        raise ReverseError(f"local label {label!r} is not valid in a PEP 440 version") from None


def variant_label(parts: Iterable[str]) -> str:
    """A PEP 825 label (``^[0-9a-z_.]+$``) from build-string parts."""
    label = "_".join(re.sub(r"[^0-9a-z_.]+", "", p.lower()) for p in parts).strip("_")
    if not label:
        raise ReverseError("the build string names no variant; give --variant-label")
    return label


# --------------------------------------------------------------------------- layout


_SITE = re.compile(r"^(?:site-packages|lib/python(\d+)\.(\d+)t?/site-packages|Lib/site-packages)/")


def site_packages_dirs(paths: Iterable[str]) -> set[str]:
    """The distinct site-packages directories among archive paths."""
    found: set[str] = set()
    for path in paths:
        m = _SITE.match(path)
        if m:
            found.add(m.group(0)[:-1])
    return found


def site_python(site_dir: str) -> tuple[int, int] | None:
    m = _SITE.match(site_dir + "/")
    return (int(m.group(1)), int(m.group(2))) if m and m.group(1) else None


@dataclass(frozen=True)
class ReverseLayout:
    """Where archive paths of a conda package go in a wheel (inverse of ``CondaLayout``)."""

    site_packages: str | None  # "site-packages", "lib/python3.12/site-packages", "Lib/site-packages"
    scripts_dir: str | None  # "python-scripts", "bin", "Scripts"
    headers_dir: str | None  # "include/<dist>", "include/python3.12/<dist>", "Include/<dist>"
    root_scheme: Scheme = Scheme.PURELIB
    scripts_verbatim: bool = False  # python-scripts/: every file is a script

    @classmethod
    def create(cls, site_packages: str | None, noarch_python: bool, windows: bool, dist_name: str, root_is_purelib: bool) -> ReverseLayout:
        name = str(canonicalize_name(dist_name))
        root = Scheme.PURELIB if root_is_purelib else Scheme.PLATLIB
        if site_packages is None:
            return cls(None, None, None, root)
        if noarch_python:
            return cls(site_packages, "python-scripts", f"include/{name}", root, True)
        if windows:
            return cls(site_packages, "Scripts", f"Include/{name}", root)
        # lib/pythonX.Y[t]/site-packages → include/pythonX.Y[t]/<dist> (free-threaded keeps its "t")
        parts = site_packages.split("/")
        headers = f"include/{parts[1]}/{name}" if site_python(site_packages) and len(parts) == 3 else None
        return cls(site_packages, "bin", headers, root)

    def scheme_for(self, path: str, python_script: bool, override: Scheme | None = None) -> tuple[Scheme, str]:
        """Scheme and scheme-relative path of an archive path.

        ``python_script``: the file is a prefix-placeholder Python script (scripts scheme in
        ``bin``/``Scripts``); ``override`` is a scheme recorded by the forward conversion.
        """
        scheme, rel = self._default(path, python_script)
        if override is None or override == scheme:
            return scheme, rel
        if override.in_site_packages and scheme.in_site_packages:
            return override, rel
        if override is Scheme.DATA:
            return Scheme.DATA, path
        prefix = {Scheme.SCRIPTS: self.scripts_dir, Scheme.HEADERS: self.headers_dir}.get(override)
        if prefix and path.startswith(prefix + "/"):
            return override, path[len(prefix) + 1 :]
        raise ReverseError(f"{path}: recorded scheme {override.value} does not fit its location")

    def _default(self, path: str, python_script: bool) -> tuple[Scheme, str]:
        for prefix, scheme in ((self.site_packages, self.root_scheme), (self.headers_dir, Scheme.HEADERS)):
            if prefix and path.startswith(prefix + "/"):
                return scheme, path[len(prefix) + 1 :]
        if self.scripts_dir and path.startswith(self.scripts_dir + "/") and (python_script or self.scripts_verbatim):
            return Scheme.SCRIPTS, path[len(self.scripts_dir) + 1 :]
        return Scheme.DATA, path


def scheme_exceptions(layout: ReverseLayout, files: Iterable[tuple[str, Scheme, bool]]) -> dict[str, str]:
    """``{archive path: scheme}`` for files whose scheme :meth:`ReverseLayout.scheme_for` would
    not guess; ``files`` are ``(archive path, original scheme, python script?)``."""
    result: dict[str, str] = {}
    for path, scheme, python_script in files:
        guessed, _ = layout.scheme_for(path, python_script)
        if guessed != scheme:
            result[path] = scheme.value
    return result


# --------------------------------------------------------------------------- scripts


def launcher_paths(entry_points: Iterable[EntryPoint], scripts_dir: str | None, windows: bool) -> set[str]:
    """Archive paths of the entry-point launchers a conda build generates (pip makes its own)."""
    if not scripts_dir:
        return set()
    paths: set[str] = set()
    for ep in entry_points:
        if windows:
            paths |= {f"{scripts_dir}/{ep.name}.exe", f"{scripts_dir}/{ep.name}-script.py", f"{scripts_dir}/{ep.name}-script.pyw"}
        else:
            paths.add(f"{scripts_dir}/{ep.name}")
    return paths


# --------------------------------------------------------------------------- metadata


@dataclass
class SynthesizedMetadata:
    """METADATA written for a conda package that has no ``.dist-info`` of its own."""

    text: bytes
    decisions: list[ReverseDecision] = field(default_factory=list)


def synthesize_metadata(name: str, version: Version, about: Mapping[str, object], index: Mapping[str, object], names: NameMap) -> SynthesizedMetadata:
    """Core metadata 2.1 from ``index.json``/``about.json``: depends → Requires-Dist."""
    decisions = [translate_depends(str(d), names) for d in index.get("depends") or ()]  # type: ignore[union-attr,attr-defined]
    headers: list[tuple[str, str]] = [("Metadata-Version", "2.1"), ("Name", name), ("Version", str(version))]
    summary = " ".join(str(about.get("summary") or "").split())
    if summary:
        headers.append(("Summary", summary))
    if about.get("home"):
        headers.append(("Home-page", str(about["home"])))
    for key, label in (("dev_url", "Source"), ("doc_url", "Documentation")):
        if about.get(key):
            headers.append(("Project-URL", f"{label}, {about[key]}"))
    license = about.get("license") or index.get("license")
    if license:
        headers.append(("License", " ".join(str(license).split())))
    keywords = about.get("keywords")
    if keywords:
        headers.append(("Keywords", ",".join(str(k) for k in keywords)))  # type: ignore[union-attr,attr-defined]
    python = [d.requirement for d in decisions if d.action == "python" and d.requirement]
    if python:
        headers.append(("Requires-Python", str(SpecifierSet(",".join(python)))))
    headers += [("Requires-Dist", str(d.requirement)) for d in decisions if d.action == "kept"]
    text = "".join(f"{k}: {v}\n" for k, v in headers)
    description = str(about.get("description") or "")
    if description:
        text += "Description-Content-Type: text/plain\n\n" + description.rstrip("\n") + "\n"
    return SynthesizedMetadata(text.encode("utf-8"), decisions)
