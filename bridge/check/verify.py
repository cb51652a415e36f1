"""Trust before publishing: install packages with a real client into a throwaway prefix and check them.

For each package, :func:`verify_packages` (package files) or :func:`verify_channel` (a
channel, optionally narrowed by specs) solves and installs it with py-rattler
(:mod:`bridge.check.client`) into a fresh prefix next to the channel's other packages, then:

* **libraries** (Linux subdirs): every ELF file the package installed has each ``DT_NEEDED``
  entry resolved the way the dynamic loader would: the object's RUNPATH (else RPATH) with
  ``$ORIGIN`` expanded, then the environment's ``lib/``, then the host allowlist
  (``bridge/data/system_libs.yaml``).  A library found elsewhere in the environment only
  by its SONAME is accepted with a warning (it loads only if something loaded it first).
  Windows (PE import tables) and macOS (Mach-O load commands) get the same check with their
  loaders' search rules and host lists (:func:`check_foreign_libraries`).
* **imports** (when the prefix is for this machine and its python runs): every top-level
  module the package put in site-packages imports, each in its own interpreter.
* **entry points** (of the package's own ``.dist-info``, not of vendored ones inside it): each
  console script runs with ``--help``, else ``--version``, else its ``module:attr`` is resolved
  with the prefix python; gui scripts are only resolved.  For other platforms only the
  launcher's presence is checked.

The verdict means what it says for the package's users:

* a module or entry point that needs an optional extra (an entry point declared
  ``name = module:attr [extra]``, or a module whose import fails for a distribution only that
  extra requires) is reported as *needing the extra*, not as a failure, unless the extra's
  ``<name>-with-<extra>`` package is installed too; verifying that package checks them;
* an extras package whose extra dependencies the channels do not provide is *not installable
  here* (a warning naming what is missing), not a failure: it installs where they are.

Nothing here writes outside a temporary directory (kept only on request).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from packaging.metadata import Metadata
from packaging.utils import canonicalize_name
from rattler import MatchSpec, Version

from ..binary.elf import BadElf, DynamicInfo, expand_origin, is_elf, machine_compatible, read_dynamic_file
from ..binary.macho import BadMachO, MachOInfo, is_macho, read_load_commands
from ..binary.pe import BadPE, PEInfo, is_pe, read_imports
from ..channel.gate import check_package
from ..channel.index import index_channel
from ..channel.records import is_package, read_index_json
from ..channel.repodata import iter_records
from ..core.data import load
from ..core.errors import BadInput, BridgeError
from ..model import EntryPoint
from ..translate.entry_points import parse_entry_points
from .client import HOST_SUBDIR, InstallFailed, SolveError, install_isolated, prefix_python, run_in_prefix, solve
from .standin import build_base_channel

NeededStatus = Literal["found", "system", "soname-only", "missing"]

#: Environment variables that would let the host satisfy what the environment must provide.
_SCRUBBED = ("LD_LIBRARY_PATH", "LD_PRELOAD", "DYLD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "PYTHONSTARTUP", "PYTHONUSERBASE")


@cache
def system_libraries() -> frozenset[str]:
    """SONAMEs the host provides (``bridge/data/system_libs.yaml``, all groups)."""
    return frozenset(name for group in load("system_libs").values() for name in group)


# --------------------------------------------------------------------------- report


@dataclass
class NeededLib:
    name: str
    status: NeededStatus
    where: str | None = None  # prefix-relative path, or "host" for allowlisted names


@dataclass
class LibraryReport:
    path: str  # prefix-relative
    needed: list[NeededLib] = field(default_factory=list)
    error: str | None = None  # unreadable ELF

    @property
    def ok(self) -> bool:
        return self.error is None and all(n.status != "missing" for n in self.needed)


@dataclass
class ImportResult:
    module: str
    ok: bool
    error: str | None = None
    needs_extra: str | None = None  # ok: importable only with this extra (its package is not installed)


@dataclass
class EntryPointResult:
    name: str
    target: str  # module:attr
    how: Literal["help", "version", "resolved", "launcher", "failed", "needs-extra"]
    ok: bool
    detail: str | None = None
    needs_extra: str | None = None  # how == "needs-extra": the extra it needs


@dataclass
class VerifyReport:
    """The verdict on one package, with every check that ran and what was skipped."""

    package: str  # subdir/file name, or name-version-build for installed records
    name: str
    version: str
    build: str
    subdir: str
    platform: str  # the platform the prefix was installed for
    installed: bool = False
    error: str | None = None  # install (solve) failure
    libraries: list[LibraryReport] = field(default_factory=list)
    imports: list[ImportResult] = field(default_factory=list)
    entry_points: list[EntryPointResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    prefix: str | None = None  # only when kept
    extra_of: str | None = None  # a <name>-with-<extra> package: its base package's name
    extra: str | None = None  # ... and the extra
    not_installable: str | None = None  # an extras package whose dependencies the channels lack: "missing X"
    depends: list[str] = field(default_factory=list, repr=False)  # index.json depends (not reported)

    @property
    def ok(self) -> bool:
        """False only when the package is broken for its users (see :attr:`status`)."""
        if self.not_installable is not None:
            return True
        return (
            self.installed
            and self.error is None
            and all(lib.ok for lib in self.libraries)
            and all(i.ok for i in self.imports)
            and all(e.ok for e in self.entry_points)
        )

    @property
    def status(self) -> Literal["pass", "fail", "not-installable"]:
        if self.not_installable is not None:
            return "not-installable"
        return "pass" if self.ok else "fail"

    def problems(self) -> list[str]:
        """One line per failure, naming what failed (for error messages)."""
        lines: list[str] = []
        if self.error:
            lines.append(self.error)
        for lib in self.libraries:
            if lib.error:
                lines.append(f"{lib.path}: {lib.error}")
            missing = [n.name for n in lib.needed if n.status == "missing"]
            if missing:
                lines.append(f"{lib.path}: needs {', '.join(missing)}, not found")
        lines += [f"import {i.module}: {i.error}" for i in self.imports if not i.ok]
        lines += [f"entry point {e.name}: {e.detail}" for e in self.entry_points if not e.ok]
        return lines

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["depends"]
        data["ok"] = self.ok
        data["status"] = self.status
        return data


@dataclass(frozen=True)
class VerifyOptions:
    """How to build the throwaway environment and which checks to run."""

    extra_channels: tuple[str | Path, ...] = ()  # after the channel under test, in priority order
    virtual_packages: tuple[str, ...] = ()  # added to bridge.check.client's defaults, e.g. "__cuda=12.4"
    platforms: tuple[str, ...] = ()  # verify_channel: subdirs to verify (default: this machine's)
    standin_python: bool = False  # add bridge.check.standin's offline python channel last
    imports: bool = True
    entry_points: bool = True
    timeout_s: float = 60.0  # per import / per entry-point run
    keep_dir: Path | None = None  # keep prefixes under this directory instead of a deleted temp dir


# --------------------------------------------------------------------------- verifying


def verify_packages(packages: Sequence[Path], options: VerifyOptions = VerifyOptions(), *, channel: Path | None = None) -> list[VerifyReport]:
    """Verify package files (not yet published): each is installed next to ``channel``'s packages.

    The files are placed in a temporary channel that takes priority over ``channel`` and
    ``options.extra_channels``, so a package is checked together with what it would be
    published beside. Noarch packages are installed for this machine's platform.
    """
    indexes = [(Path(p), _index_of(Path(p))) for p in packages]
    if channel is not None:
        _require_channel(Path(channel))
    with _Workspace(options) as ws:
        staging = ws.root / "candidates"
        for path, index in indexes:
            _link_or_copy(path, staging / index["subdir"] / path.name)
        index_channel(staging)
        channels = ws.channels([staging, *([channel] if channel is not None else [])])
        reports = []
        for path, index in indexes:
            platform = HOST_SUBDIR if index["subdir"] == "noarch" else index["subdir"]
            report = _new_report(f"{index['subdir']}/{path.name}", index, platform)
            reports.append(ws.check([_exact_spec(index)], channels, platform, [report])[0])
        return reports


def verify_channel(channel: Path, specs: Sequence[str] = (), options: VerifyOptions = VerifyOptions()) -> list[VerifyReport]:
    """Verify a published channel.

    With ``specs``: install them together (per platform) and check every installed package
    that comes from ``channel``.  Without: check the newest build of every package name
    for each platform (and noarch), each in its own prefix.
    """
    channel = _require_channel(Path(channel))
    label = " ".join(specs)  # failures are named as the user wrote the specs
    specs = normalize_specs(specs)
    platforms = options.platforms or (HOST_SUBDIR,)
    _gate_channel(channel, platforms)
    reports: list[VerifyReport] = []
    with _Workspace(options) as ws:
        channels = ws.channels([channel])
        for platform in platforms:
            if specs:
                reports += ws.check(list(specs), channels, platform, None, only_channel=channel, label=label)
                continue
            for subdir, filename, record in _newest_records(channel, platform):
                report = _new_report(f"{subdir}/{filename}", record, platform)
                reports += ws.check([_exact_spec(record)], channels, platform, [report])
    return reports


# --------------------------------------------------------------------------- the throwaway workspace


class _Workspace:
    """A temporary root holding the stand-in channel, a shared package cache and the prefixes."""

    def __init__(self, options: VerifyOptions):
        self.options = options
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0

    def __enter__(self) -> _Workspace:
        if self.options.keep_dir is not None:
            self.options.keep_dir.mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix="w2c-verify-", dir=self.options.keep_dir))
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="w2c-verify-")
            self.root = Path(self._tmp.name)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:  # every installer has exited (install_isolated): nothing writes here any more
            shutil.rmtree(self._tmp.name, ignore_errors=True)
            self._tmp.cleanup()

    def channels(self, first: Iterable[Path]) -> list[str | Path]:
        chosen: list[str | Path] = [*first, *self.options.extra_channels]
        if self.options.standin_python:
            chosen.append(build_base_channel(self.root / "standin-python"))
        return chosen

    def check(
        self,
        specs: list[str],
        channels: list[str | Path],
        platform: str,
        reports: list[VerifyReport] | None,
        *,
        only_channel: Path | None = None,
        label: str | None = None,
    ) -> list[VerifyReport]:
        """Install ``specs`` into a new prefix and check ``reports``' packages (or, with
        ``reports=None``, every installed package from ``only_channel``)."""
        self._count += 1
        prefix = self.root / f"prefix-{self._count}"
        try:
            records = install_isolated(  # in a child: done writing when it returns, and its crash is not ours
                channels,
                specs,
                prefix,
                platform=platform,
                virtual_packages=self.options.virtual_packages,
                cache_dir=self.root / "pkgs",
            )
        except SolveError as exc:
            failed = reports or [_spec_report(specs, platform, label)]
            for report in failed:
                missing = self._missing_extra_dependencies(report, channels, platform) if report.extra_of else None
                if missing:
                    report.not_installable = f"missing {', '.join(missing)}"
                    report.warnings.append(f"not installable here: missing {', '.join(missing)} (extra '{report.extra}' of {report.extra_of}; it installs where a channel provides them)")
                else:
                    report.error = f"does not install: {exc}"
            return failed
        except ValueError as exc:  # a malformed virtual package
            raise BridgeError(None, str(exc)) from None
        except InstallFailed as exc:
            if exc.signal_name is None and exc.kind in ("GatewayError",):
                raise BridgeError(None, f"cannot install into a throwaway prefix ({exc.kind}: {exc})", hint="check the --channel-extra channels") from None
            failed = reports or [_spec_report(specs, platform, label)]
            for report in failed:
                report.error = f"does not install: {exc.kind}: {' '.join(str(exc).split())}"
            shutil.rmtree(prefix, ignore_errors=True)
            return failed
        if reports is None:
            uri = only_channel.resolve().as_uri().rstrip("/") + "/" if only_channel else ""
            reports = [
                _new_report(f"{r.subdir}/{r.file_name}", _record_fields(r), platform)
                for r in records
                if r.url.startswith(uri)
            ]
        why_not = _why_not_runnable(prefix, platform)
        for report in reports:
            report.installed = True
            _check_package(prefix, report, why_not, self.options)
            if self.options.keep_dir is not None:
                report.prefix = str(prefix)
        if self.options.keep_dir is None:
            shutil.rmtree(prefix, ignore_errors=True)
        return reports

    def _missing_extra_dependencies(self, report: VerifyReport, channels: list[str | Path], platform: str) -> list[str] | None:
        """The extra's dependencies that do not solve on their own here; None when the base package
        itself does not install or every dependency does (then the package is broken)."""
        base = next((d for d in report.depends if d.split(" ", 1)[0] == report.extra_of), None)
        own = [d for d in report.depends if d != base and not d.startswith("__") and d.split(" ", 1)[0] not in ("python", "python_abi")]
        try:
            if base is not None:
                solve(channels, [base], platform=platform, virtual_packages=self.options.virtual_packages)
        except SolveError:
            return None
        missing = []
        for spec in own:
            try:
                solve(channels, [spec], platform=platform, virtual_packages=self.options.virtual_packages)
            except SolveError:
                missing.append(spec)
        return missing or None


def _gate_channel(channel: Path, platforms: Iterable[str]) -> None:
    """Refuse a channel holding a package the gate refuses, before anything is installed from it."""
    for listed in iter_records(channel, sorted({"noarch", *platforms})):
        if (path := channel / listed.subdir / listed.filename).is_file():
            check_package(path)


def is_channel(path: Path) -> bool:
    """Whether ``path`` is an indexed local channel (has ``noarch/repodata.json``)."""
    return (Path(path) / "noarch" / "repodata.json").is_file()


def _require_channel(path: Path) -> Path:
    if not is_channel(path):
        raise BadInput(path, "not a channel (no noarch/repodata.json)", hint="run wheel2conda index first")
    return path


def _index_of(path: Path) -> dict[str, Any]:
    if not path.is_file() or not is_package(path):
        raise BadInput(path, "not a conda package file (.conda or .tar.bz2)", hint="give .conda/.tar.bz2 files or a channel directory")
    check_package(path)  # the channel's gate: never let the installer near an unsafe package
    index = read_index_json(path)
    for key in ("name", "version", "build", "subdir"):
        if not isinstance(index.get(key), str) or not index[key]:
            raise BadInput(path, f"info/index.json has no {key}", hint="the package is malformed: rebuild it")
    return index


def _record_fields(record: Any) -> dict[str, Any]:
    return {
        "name": record.name,
        "version": str(record.version),
        "build": str(record.build),
        "subdir": record.subdir,
        "depends": list(record.depends),
    }


def _new_report(label: str, fields: dict[str, Any], platform: str) -> VerifyReport:
    report = VerifyReport(label, fields["name"], fields["version"], fields["build"], fields["subdir"], platform)
    report.depends = [str(d) for d in fields.get("depends") or []]
    base = extras_base(report.name, report.version, report.build, report.depends)
    if base is not None:
        report.extra_of, report.extra = base
    return report


def extras_base(name: str, version: str, build: str, depends: Sequence[str]) -> tuple[str, str] | None:
    """``(base name, extra)`` when ``name`` is a ``<base>-with-<extra>`` package (it depends on
    exactly ``<base> ==<version> <build>``, as ``convert`` makes them), else None."""
    head, sep, extra = name.rpartition("-with-")
    if not sep or not head or not extra:
        return None
    for spec in depends:
        try:
            parsed = MatchSpec(spec)
        except Exception:  # rattler raises its own exception types; such a spec names no base
            continue
        if parsed.name is not None and parsed.name.normalized == head and str(parsed.version) == f"=={version}" and str(parsed.build) == build:
            return head, extra
    return None


def normalize_specs(specs: Sequence[str]) -> list[str]:
    """Specs as the user wrote them (``torch=*=*gfx103X*``, ``torch[build=*gfx103X*]``,
    ``torch 2.9.1 *cu12*``) in the canonical form the solver's strict parser takes, parsed by
    py-rattler's MatchSpec (lenient, as conda reads a command line)."""
    result = []
    for text in specs:
        try:
            result.append(str(MatchSpec(text)))
        except Exception as exc:  # rattler raises its own exception types
            raise BadInput(None, f"invalid spec {text!r}: {' '.join(str(exc).split())}", hint="specs look like torch, 'torch >=2.9', 'torch=2.9.1=*gfx103X*' or 'torch[build=*gfx103X*]'") from None
    return result


def _spec_report(specs: list[str], platform: str, label: str | None = None) -> VerifyReport:
    label = label or " ".join(specs)
    return VerifyReport(label, label, "", "", platform, platform)


def _exact_spec(fields: dict[str, Any]) -> str:
    return f'{fields["name"]}[version="=={fields["version"]}",build="{fields["build"]}"]'


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _newest_records(channel: Path, platform: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(subdir, file name, record) of the newest build of each name in ``platform`` and noarch."""
    newest: dict[str, tuple[tuple[Version, int], str, str, dict[str, Any]]] = {}
    subdirs = (platform, "noarch")
    listed = sorted(iter_records(channel, subdirs), key=lambda p: (subdirs.index(p.subdir), p.filename.endswith(".conda"), p.filename))
    for package in listed:
        subdir, filename, record = package.subdir, package.filename, package.record
        rank = (Version(str(record["version"])), int(record.get("build_number", 0)))
        name = record["name"]
        if name not in newest or rank > newest[name][0] or (rank == newest[name][0] and filename.endswith(".conda")):
            newest[name] = (rank, subdir, filename, {**record, "subdir": subdir})
    return [(subdir, filename, record) for _, subdir, filename, record in (newest[n] for n in sorted(newest))]


# --------------------------------------------------------------------------- checks


def _check_package(prefix: Path, report: VerifyReport, why_not: str | None, options: VerifyOptions) -> None:
    files = _installed_files(prefix, report)
    installed = _installed_names(prefix)
    if report.extra_of is not None:  # its checks are the base package's, now with the extra's dependencies
        base_meta = installed.get(report.extra_of)
        if base_meta is None:
            report.warnings.append(f"its base package {report.extra_of} is not installed; nothing to check")
            return
        files = _meta_files(base_meta, report)
        owner = report.extra_of
    else:
        owner = report.name
    extras = {name[len(owner) + len("-with-") :] for name in installed if name.startswith(owner + "-with-")}
    own_dist_info = _own_dist_info(files, owner)
    needed_by = _extra_requirements(prefix, own_dist_info)
    if report.platform.startswith("linux-"):
        report.libraries = check_libraries(prefix, files, report.warnings)
    elif report.platform.startswith(("win-", "osx-")):
        report.libraries = check_foreign_libraries(prefix, files, report.platform, report.warnings)
    else:
        report.skipped.append(f"libraries: no loader rules for {report.platform}")
    modules = top_level_modules(files)
    if options.imports:
        if why_not is not None:
            report.skipped.append(f"imports: {why_not}")
        elif modules:
            report.imports = [_needs_extra_import(_import(prefix, m, options.timeout_s), needed_by, extras, owner) for m in modules]
    if options.entry_points:
        results = []
        for ep, ep_extras in _entry_points(prefix, own_dist_info):
            lacking = sorted(set(ep_extras) - extras)
            if lacking:
                results.append(EntryPointResult(ep.name, ep.value, "needs-extra", True, f"declared [{', '.join(ep_extras)}]; {_needs_text(lacking[0], owner)}", lacking[0]))
            else:
                results.append(_needs_extra_entry_point(_run_entry_point(prefix, ep, why_not, report.platform, options.timeout_s), needed_by, extras, owner))
        report.entry_points = results


def _needs_text(extra: str, owner: str) -> str:
    return f"checked when {owner}-with-{extra} is installed"


def _needs_extra_import(result: ImportResult, needed_by: dict[str, set[str]], installed: set[str], owner: str) -> ImportResult:
    """A failed import whose missing module only an extra not installed here requires: needs that extra."""
    extra = _extra_for_missing(result.error, needed_by, installed) if not result.ok else None
    if extra is None:
        return result
    return ImportResult(result.module, True, f"{result.error}; {_needs_text(extra, owner)}", extra)


def _needs_extra_entry_point(result: EntryPointResult, needed_by: dict[str, set[str]], installed: set[str], owner: str) -> EntryPointResult:
    extra = _extra_for_missing(result.detail, needed_by, installed) if not result.ok else None
    if extra is None:
        return result
    return EntryPointResult(result.name, result.target, "needs-extra", True, f"{result.detail}; {_needs_text(extra, owner)}", extra)


def _extra_for_missing(error: str | None, needed_by: dict[str, set[str]], installed: set[str]) -> str | None:
    """The extra that requires the module an error says is missing (``No module named 'aiohttp'``)."""
    m = re.search(r"No module named '([^'.]+)", error or "")
    if m is None:
        return None
    extras = needed_by.get(str(canonicalize_name(m.group(1))), set())
    lacking = sorted(extras - installed)
    return lacking[0] if lacking and not (extras & installed) else None


def _installed_names(prefix: Path) -> dict[str, Path]:
    """Package name → its ``conda-meta`` record, for everything installed in the prefix."""
    names: dict[str, Path] = {}
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            name = json.loads(meta.read_text(encoding="utf-8")).get("name")
        except (OSError, ValueError):
            continue
        if isinstance(name, str):
            names[name] = meta
    return names


def _meta_files(meta: Path, report: VerifyReport) -> list[str]:
    try:
        return list(json.loads(meta.read_text(encoding="utf-8")).get("files") or [])
    except (OSError, ValueError) as exc:
        report.warnings.append(f"cannot read {meta.name} ({exc}); files not checked")
        return []


def _own_dist_info(files: Iterable[str], name: str) -> str | None:
    """The package's own ``.dist-info`` (prefix-relative): directly in site-packages, never one
    vendored deeper (``setuptools/_vendor/wheel-*.dist-info``); named like the package when
    there are several."""
    found: set[str] = set()
    for rel in files:
        parts = rel.split("/")
        if "site-packages" in parts:
            i = parts.index("site-packages")
            if len(parts) > i + 2 and parts[i + 1].endswith(".dist-info"):
                found.add("/".join(parts[: i + 2]))
    if len(found) > 1:
        named = [d for d in found if canonicalize_name(d.rsplit("/", 1)[1][: -len(".dist-info")].rpartition("-")[0]) == canonicalize_name(name)]
        found = set(named) or found
    return sorted(found)[0] if found else None


def _extra_requirements(prefix: Path, dist_info: str | None) -> dict[str, set[str]]:
    """Distribution (canonical name) → the extras whose requirements name it, for distributions
    that no unconditional requirement names (from the installed METADATA)."""
    if dist_info is None or not (prefix / dist_info / "METADATA").is_file():
        return {}
    try:
        meta = Metadata.from_email((prefix / dist_info / "METADATA").read_bytes(), validate=False)
    except Exception:  # a package's METADATA is not ours to judge here; no extra is inferred
        return {}
    always: set[str] = set()
    by_extra: dict[str, set[str]] = {}
    provided = [str(canonicalize_name(e)) for e in meta.provides_extra or []]
    for req in meta.requires_dist or []:
        name = str(canonicalize_name(req.name))
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            always.add(name)
            continue
        for extra in provided:
            if req.marker.evaluate({"extra": extra}):
                by_extra.setdefault(name, set()).add(extra)
    return {name: extras for name, extras in by_extra.items() if name not in always}


def _installed_files(prefix: Path, report: VerifyReport) -> list[str]:
    meta = prefix / "conda-meta" / f"{report.name}-{report.version}-{report.build}.json"
    try:
        return list(json.loads(meta.read_text(encoding="utf-8")).get("files") or [])
    except (OSError, ValueError) as exc:
        report.warnings.append(f"cannot read {meta.name} ({exc}); files not checked")
        return []


def check_libraries(prefix: Path, files: Iterable[str], warnings: list[str] | None = None) -> list[LibraryReport]:
    """Resolve the ``DT_NEEDED`` entries of every ELF file among ``files`` (prefix-relative)."""
    resolver = _Resolver(Path(prefix))
    reports = []
    for rel in files:
        path = resolver.prefix / rel
        if path.is_symlink() or not path.is_file():
            continue
        with open(path, "rb") as fh:
            if not is_elf(fh.read(4)):
                continue
        try:
            info = resolver.info(path)
        except BadElf as exc:
            reports.append(LibraryReport(rel, error=str(exc)))
            continue
        if info is None or not info.needed:
            continue
        report = LibraryReport(rel)
        for entry in resolver.ignored_entries(path, info):
            if warnings is not None:
                warnings.append(f"{rel}: search path entry {entry!r} points outside the environment; ignored")
        report.needed = [resolver.resolve(path, info, name) for name in info.needed]
        for needed in report.needed:
            if needed.status == "soname-only" and warnings is not None:
                warnings.append(
                    f"{rel}: {needed.name} is only at {needed.where}, not on this file's search path; "
                    "it loads only if another library loaded it first"
                )
        reports.append(report)
    return reports


class _Resolver:
    """The loader's search, restricted to one prefix (the host only through the allowlist)."""

    def __init__(self, prefix: Path):
        self.prefix = prefix.resolve()
        self._infos: dict[Path, DynamicInfo | None] = {}
        self._by_soname: dict[str, list[Path]] | None = None

    def info(self, path: Path) -> DynamicInfo | None:
        key = path.resolve()
        if key not in self._infos:
            self._infos[key] = read_dynamic_file(key)
        return self._infos[key]

    def _inside(self, directory: str) -> bool:
        return os.path.isabs(directory) and (
            posixpath.normpath(directory) + "/"
        ).startswith(str(self.prefix) + "/")

    def search_dirs(self, obj: Path, info: DynamicInfo) -> list[str]:
        origin = str(obj.parent.resolve())
        dirs = [expand_origin(e, origin) for e in info.search_path]
        return [d for d in dirs if d is not None and self._inside(d)] + [str(self.prefix / "lib")]

    def ignored_entries(self, obj: Path, info: DynamicInfo) -> list[str]:
        origin = str(obj.parent.resolve())
        return [e for e in info.search_path if (x := expand_origin(e, origin)) is not None and not self._inside(x)]

    def _acceptable(self, info: DynamicInfo, candidate: Path) -> bool:
        try:
            other = self.info(candidate)
        except (BadElf, OSError):
            return False
        return other is not None and machine_compatible(info, other)

    def resolve(self, obj: Path, info: DynamicInfo, name: str) -> NeededLib:
        if "/" in name:  # a path, resolved against the working directory: never portable
            return NeededLib(name, "missing")
        for directory in self.search_dirs(obj, info):
            candidate = Path(os.path.normpath(os.path.join(directory, name)))
            if candidate.is_file() and self._acceptable(info, candidate):
                return NeededLib(name, "found", self._rel(candidate))
        if name in system_libraries():
            return NeededLib(name, "system", "host")
        for candidate in self._soname_index().get(name, []):
            if self._acceptable(info, candidate):
                return NeededLib(name, "soname-only", self._rel(candidate))
        return NeededLib(name, "missing")

    def _soname_index(self) -> dict[str, list[Path]]:
        """Every ELF shared library in the prefix by file name and by SONAME (built on first use)."""
        if self._by_soname is None:
            index: dict[str, list[Path]] = {}
            for root, _dirs, names in os.walk(self.prefix):
                for filename in names:
                    if ".so" not in filename:
                        continue
                    path = Path(root) / filename
                    index.setdefault(filename, []).append(path)
                    try:
                        info = self.info(path) if path.is_file() else None
                    except (BadElf, OSError):
                        info = None
                    if info is not None and info.soname and info.soname != filename:
                        index.setdefault(info.soname, []).append(path)
            self._by_soname = index
        return self._by_soname

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.prefix).as_posix()
        except ValueError:
            return str(path)


# --------------------------------------------------------------------------- Windows and macOS


@cache
def host_libraries(system: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """(lower-cased names, prefixes) the Windows or macOS host provides (``host_libraries.yaml``)."""
    data = load("host_libraries")[system]
    return frozenset(n.lower() for n in data.get("names", ())), tuple(data.get("prefixes", ()))


def check_foreign_libraries(prefix: Path, files: Iterable[str], platform: str, warnings: list[str] | None = None) -> list[LibraryReport]:
    """Resolve what every PE (Windows) or Mach-O (macOS) file among ``files`` loads.

    Windows, as ``LoadLibraryEx`` searches for an extension module's dependencies in a conda
    environment: the file's own directory, the environment root (``python.exe``),
    ``Library\\bin`` and ``DLLs``, then the host's DLLs.  macOS, as dyld does: ``@loader_path``,
    ``@executable_path`` (``bin/``) and ``@rpath`` through the file's ``LC_RPATH`` entries, then
    the system's ``/usr/lib`` and ``/System/Library``.  A library present elsewhere in the
    environment only is ``soname-only`` (it loads only if something loaded it first).
    """
    prefix = Path(prefix).resolve()
    windows = platform.startswith("win-")
    by_name: dict[str, list[Path]] | None = None
    reports = []
    for rel in files:
        path = prefix / rel
        if path.is_symlink() or not path.is_file():
            continue
        with open(path, "rb") as fh:
            head = fh.read(4)
        if not (is_pe(head) if windows else is_macho(head)):
            continue
        report = LibraryReport(rel)
        try:
            info = read_imports(path) if windows else read_load_commands(path, platform)
        except (BadPE, BadMachO) as exc:
            report.error = str(exc)
            reports.append(report)
            continue
        names = info.imports if isinstance(info, PEInfo) else info.needed
        optional = info.delayed if isinstance(info, PEInfo) else info.weak
        for name in names:
            needed = _resolve_pe(prefix, path, name) if windows else _resolve_macho(prefix, path, name, info)  # type: ignore[arg-type]
            if needed.status == "missing" and name in optional:
                if warnings is not None:
                    warnings.append(f"{rel}: {name} ({'delay-loaded' if windows else 'weakly linked'}) is not in the environment; it is optional at load time")
                continue
            if needed.status == "missing":
                if by_name is None:
                    by_name = _files_by_name(prefix, lower=windows)
                key = PurePosixPath(name).name
                found = by_name.get(key.lower() if windows else key)
                if found:
                    needed = NeededLib(name, "soname-only", found[0].relative_to(prefix).as_posix())
                    if warnings is not None:
                        warnings.append(f"{rel}: {name} is only at {needed.where}, not where the loader looks; it loads only if something loaded it first")
            report.needed.append(needed)
        if report.needed or report.error:
            reports.append(report)
    return reports


def _resolve_pe(prefix: Path, obj: Path, name: str) -> NeededLib:
    system, prefixes = host_libraries("windows")
    for directory in (obj.parent, prefix, prefix / "Library" / "bin", prefix / "DLLs"):
        found = _case_insensitive(directory, name)
        if found is not None:
            return NeededLib(name, "found", found.relative_to(prefix).as_posix())
    if name.lower() in system or name.lower().startswith(prefixes):
        return NeededLib(name, "system", "host")
    return NeededLib(name, "missing")


def _case_insensitive(directory: Path, name: str) -> Path | None:
    try:
        return next((p for p in directory.iterdir() if p.name.lower() == name.lower() and p.is_file()), None)
    except OSError:
        return None


def _resolve_macho(prefix: Path, obj: Path, name: str, info: MachOInfo) -> NeededLib:
    _names, prefixes = host_libraries("macos")
    if name.startswith(prefixes):
        return NeededLib(name, "system", "host")

    def expand(text: str) -> Path | None:
        for token, base in (("@loader_path", obj.parent), ("@executable_path", prefix / "bin")):
            if text.startswith(token):
                return Path(os.path.normpath(str(base) + text[len(token) :]))
        return Path(os.path.normpath(text)) if os.path.isabs(text) else None

    if name.startswith("@rpath/"):
        candidates = [expand(r) for r in info.rpaths]
        candidates = [c / name[len("@rpath/") :] for c in candidates if c is not None]
    else:
        candidates = [expand(name)]
    for candidate in candidates:
        if candidate is not None and (str(candidate) + "/").startswith(str(prefix) + "/") and candidate.is_file():
            return NeededLib(name, "found", candidate.resolve().relative_to(prefix).as_posix())
    return NeededLib(name, "missing")


def _files_by_name(prefix: Path, *, lower: bool) -> dict[str, list[Path]]:
    index: dict[str, list[Path]] = {}
    for root, _dirs, names in os.walk(prefix):
        for filename in names:
            index.setdefault(filename.lower() if lower else filename, []).append(Path(root) / filename)
    return index


def top_level_modules(files: Iterable[str]) -> list[str]:
    """Importable top-level names a package installs into site-packages (sorted)."""
    found: set[str] = set()
    for rel in files:
        parts = rel.split("/")
        try:
            i = parts.index("site-packages")
        except ValueError:
            continue
        rest = parts[i + 1 :]
        if not rest:
            continue
        head = rest[0]
        if len(rest) == 1:  # a module file
            stem, dot, suffix = head.partition(".")
            if dot and (suffix == "py" or suffix.endswith(("so", "pyd"))) and stem.isidentifier():
                found.add(stem)
        elif head.isidentifier() and head != "__pycache__":
            found.add(head)
    return sorted(found)


def _scrubbed_env() -> dict[str, str]:
    return {name: "" for name in _SCRUBBED}


def _why_not_runnable(prefix: Path, platform: str) -> str | None:
    """None when imports can run; else why not (for the report's ``skipped``)."""
    if platform != HOST_SUBDIR:
        return f"the environment is for {platform}, this machine is {HOST_SUBDIR}"
    python = prefix_python(prefix)
    if not python.exists():
        return "the environment has no python"
    try:
        proc = run_in_prefix(prefix, str(python), "-c", "import sys", env=_scrubbed_env(), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the environment's python does not start ({exc})"
    if proc.returncode != 0:
        return f"the environment's python does not run here (exit {proc.returncode})"
    return None


def _import(prefix: Path, module: str, timeout: float) -> ImportResult:
    code = f"import importlib; importlib.import_module({module!r})"
    try:
        proc = run_in_prefix(prefix, str(prefix_python(prefix)), "-c", code, env=_scrubbed_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        return ImportResult(module, False, f"timed out after {timeout:g} s")
    if proc.returncode == 0:
        return ImportResult(module, True)
    return ImportResult(module, False, _last_line(proc.stderr) or f"exit {proc.returncode}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _entry_points(prefix: Path, dist_info: str | None) -> list[tuple[EntryPoint, tuple[str, ...]]]:
    """Console and gui scripts of the package's own ``.dist-info``, each with the extras it
    declares (``blackd = blackd:patched_main [d]``, parsed by :mod:`importlib.metadata`)."""
    path = prefix / dist_info / "entry_points.txt" if dist_info else None
    if path is None or not path.is_file():
        return []
    text = path.read_bytes()
    extras: dict[str, tuple[str, ...]] = {}
    for ep in importlib.metadata.PathDistribution(path.parent).entry_points:
        if ep.group in ("console_scripts", "gui_scripts"):
            extras[ep.name] = tuple(str(canonicalize_name(e)) for e in ep.extras)
    return [(ep, extras.get(ep.name, ())) for ep in parse_entry_points(str(path), text)]


def _launcher(prefix: Path, ep: EntryPoint, platform: str) -> Path:
    if platform.startswith("win-"):
        return prefix / "Scripts" / f"{ep.name}.exe"
    return prefix / "bin" / ep.name


def _run_entry_point(prefix: Path, ep: EntryPoint, why_not: str | None, platform: str, timeout: float) -> EntryPointResult:
    launcher = _launcher(prefix, ep, platform)
    if not launcher.exists():
        return EntryPointResult(ep.name, ep.value, "failed", False, f"no launcher at {launcher.relative_to(prefix).as_posix()}")
    if why_not is not None:
        return EntryPointResult(ep.name, ep.value, "launcher", True, f"launcher present; not run ({why_not})")
    notes: list[str] = []
    if not ep.gui:
        for flag, how in (("--help", "help"), ("--version", "version")):
            try:
                proc = run_in_prefix(prefix, str(launcher), flag, env=_scrubbed_env(), timeout=timeout, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                notes.append(f"{flag}: timed out after {timeout:g} s")
                continue
            except OSError as exc:
                notes.append(f"{flag}: {exc}")
                continue
            if proc.returncode == 0:
                return EntryPointResult(ep.name, ep.value, how, True, f"{flag} exit 0")  # type: ignore[arg-type]
            notes.append(f"{flag}: exit {proc.returncode} {_last_line(proc.stderr)}".strip())
    code = (
        "import importlib, sys\n"
        f"obj = importlib.import_module({ep.module!r})\n"
        f"for part in {ep.attr!r}.split('.') if {ep.attr!r} else []:\n"
        "    obj = getattr(obj, part)\n"
        "sys.exit(0 if callable(obj) else 3)\n"
    )
    try:
        proc = run_in_prefix(prefix, str(prefix_python(prefix)), "-c", code, env=_scrubbed_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        notes.append(f"resolving {ep.value}: timed out after {timeout:g} s")
        return EntryPointResult(ep.name, ep.value, "failed", False, "; ".join(notes))
    if proc.returncode == 0:
        return EntryPointResult(ep.name, ep.value, "resolved", True, "; ".join([*notes, f"{ep.value} resolves"]))
    why = "not callable" if proc.returncode == 3 else _last_line(proc.stderr) or f"exit {proc.returncode}"
    notes.append(f"resolving {ep.value}: {why}")
    return EntryPointResult(ep.name, ep.value, "failed", False, "; ".join(notes))
