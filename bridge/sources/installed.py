"""Read an installed distribution (a ``.dist-info`` directory and the files its RECORD lists).

The installed files are mapped back to install schemes through the environment's layout:
site-packages → purelib/platlib, the scripts directory → scripts, pip's headers directory →
headers, anything else under the prefix → data.  Installer artefacts are undone: console-script
wrappers are dropped (``entry_points.txt`` restores them), ``#!/…/python`` shebangs that pip
wrote go back to ``#!python``, bytecode and ``INSTALLER``/``REQUESTED``/``direct_url.json`` are
left out.

Every file is hashed once while the distribution is opened, so drift is known before anything
is written: files changed since install (hash differs from RECORD), files missing, and files
added after install (RECORD entries without a hash, e.g. ROCm's lazily expanded devel tree).
Writers then stream the files again and verify them against those hashes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from packaging.tags import Tag, parse_tag, sys_tags
from packaging.utils import BuildTag, InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..core.digest import CHUNK, Digests, HeadReplaced, file_digests, read_first_line
from ..core.errors import BadInput, Unsupported
from ..core.limits import read_small_file, special_kind
from ..model import Distribution, EntryPoint, Member, Provenance, Scheme
from ..model.paths import check_link_target, check_relative_path
from ..translate.entry_points import parse_entry_points
from ..translate.shebang import restore_installed_shebang
from .distinfo import REGENERATED, RecordRow, is_bytecode, is_license_file, metadata_kwargs, parse_metadata, parse_record, parse_wheel_file

#: The fix for a damaged installed distribution.
REINSTALL = "reinstall it with pip (pip install --force-reinstall --no-deps NAME)"

@dataclass(frozen=True)
class EnvironmentLayout:
    """Where an environment keeps each install scheme."""

    prefix: Path
    site_packages: Path
    scripts: Path
    include: Path  # the directory holding pip's per-distribution header folders
    windows: bool = False

    @classmethod
    def from_site_packages(cls, site: Path) -> EnvironmentLayout:
        """Derive the layout from ``…/lib/pythonX.Y/site-packages`` or ``…/Lib/site-packages``."""
        site = Path(os.path.abspath(site))
        if site.parent.name.lower() == "lib" and site.name == "site-packages":  # Windows
            prefix = site.parent.parent
            return cls(prefix, site, prefix / "Scripts", prefix / "Include", windows=True)
        if site.name == "site-packages" and site.parent.name.startswith(("python", "pypy")) and site.parent.parent.name == "lib":
            prefix = site.parent.parent.parent
            version = site.parent.name
            venv_headers = prefix / "include" / "site" / version
            include = venv_headers if (prefix / "pyvenv.cfg").exists() else prefix / "include" / version
            return cls(prefix, site, prefix / "bin", include)
        raise BadInput(site, "not a site-packages directory (expected …/lib/pythonX.Y/site-packages or …/Lib/site-packages)", hint="give --path the site-packages directory itself, or --python the environment's interpreter")

    @classmethod
    def from_python(cls, python: str) -> EnvironmentLayout:
        """Ask an interpreter where its environment keeps things."""
        code = (
            "import json, sys, sysconfig; p = sysconfig.get_paths(); "
            "print(json.dumps({'purelib': p['purelib'], 'scripts': p['scripts'], 'prefix': sys.prefix}))"
        )
        try:
            done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise BadInput(python, f"cannot run this Python to locate its site-packages ({exc})", hint="give --python a working interpreter, or --path the site-packages directory") from None
        paths = json.loads(done.stdout)
        layout = cls.from_site_packages(Path(paths["purelib"]))
        return cls(layout.prefix, layout.site_packages, Path(paths["scripts"]), layout.include, layout.windows)

    def find(self, name: str) -> Path:
        """The ``.dist-info`` directory of distribution ``name``."""
        wanted = canonicalize_name(name)
        for entry in sorted(self.site_packages.glob("*.dist-info")):
            stem = entry.name[: -len(".dist-info")]
            if canonicalize_name(stem.rpartition("-")[0] or stem) == wanted:
                return entry
        if any(canonicalize_name(e.name.split("-")[0]) == wanted for e in self.site_packages.glob("*.egg-info")):
            raise Unsupported(self.site_packages, f"{name} is installed as an .egg-info (legacy setup.py install)", hint="reinstall it with pip to get a .dist-info")
        raise BadInput(self.site_packages, f"no installed distribution named {name!r}", hint="check the name with 'pip list' in that environment")


@dataclass
class Drift:
    """How the installed files differ from what RECORD says was installed."""

    changed: list[str] = field(default_factory=list)  # content differs from RECORD
    missing: list[str] = field(default_factory=list)  # listed but gone
    added: list[str] = field(default_factory=list)  # listed without a hash: written after install

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.added)

    def lines(self) -> list[str]:
        out = [f"changed since install: {p}" for p in self.changed]
        out += [f"missing: {p}" for p in self.missing]
        out += [f"added after install: {p}" for p in self.added]
        return out


@dataclass(frozen=True)
class Installed:
    """An installed distribution and how its files drifted from its RECORD."""

    dist: Distribution
    drift: Drift


def read_installed(dist_info: Path, layout: EnvironmentLayout) -> Installed:
    where = str(dist_info)
    if not (dist_info / "METADATA").is_file() or not (dist_info / "RECORD").is_file():
        raise BadInput(where, "not an installed distribution (METADATA or RECORD is missing)", hint=REINSTALL)
    _refuse_editable(dist_info)
    metadata = read_small_file(dist_info / "METADATA")
    fields = parse_metadata(where, metadata, hint=REINSTALL)
    entry_points: tuple[EntryPoint, ...] = ()
    if os.path.lexists(dist_info / "entry_points.txt"):
        entry_points = parse_entry_points(where, read_small_file(dist_info / "entry_points.txt"), hint=REINSTALL)
    wheel_file = dist_info / "WHEEL"
    wrappers = _wrapper_names(entry_points)

    members: list[Member] = []
    heads: dict[str, tuple[bytes, int]] = {}  # restored scripts: (new first line, length of the installed one) by member path
    drift = Drift()
    platlib_hint = False
    for rel, digest, _size in _record_rows(dist_info):
        if is_bytecode(rel):
            continue
        path = Path(os.path.normpath(layout.site_packages / rel))
        scheme, scheme_path = _classify(where, path, layout, dist_info.name[: -len(".dist-info")], str(canonicalize_name(fields["name"])))
        problem = check_relative_path(scheme_path)
        if problem:
            raise BadInput(where, f"RECORD lists {rel!r}: {problem}", hint=REINSTALL)
        if scheme.in_site_packages and scheme_path.startswith(dist_info.name + "/") and scheme_path[len(dist_info.name) + 1 :] in REGENERATED:
            continue
        if scheme is Scheme.SCRIPTS and path.name in wrappers:
            continue
        if not path.exists() and not path.is_symlink():
            drift.missing.append(rel)
            continue
        if path.suffix in (".so", ".pyd", ".dylib") and scheme.in_site_packages:
            platlib_hint = True
        member, head, installed = _member(where, rel, path, layout, scheme, scheme_path, digest[0] if digest else "sha256")
        if digest is None:
            drift.added.append(rel)
        elif installed != digest[1]:
            drift.changed.append(rel)  # other bytes, or a hashed file that became a link
        if head is not None:
            heads[member.path] = head
        members.append(member)

    tags, build_tag, purelib, tag_lines = _wheel_facts(wheel_file, where, platlib_hint)
    if not purelib:
        members = [Member(Scheme.PLATLIB, m.path, m.size, m.sha256, m.mode, m.target, m.origin) if m.scheme is Scheme.PURELIB else m for m in members]
    license_files = sorted(
        m.path[len(dist_info.name) + 1 :]
        for m in members
        if m.scheme.in_site_packages and m.path.startswith(dist_info.name + "/") and is_license_file(m.path[len(dist_info.name) + 1 :])
    )

    def opener(member: Member) -> BinaryIO:
        raw = _open_regular(where, member.origin)
        if member.path in heads and member.scheme is Scheme.SCRIPTS:
            head, skip = heads[member.path]
            return HeadReplaced(raw, head, skip)  # type: ignore[return-value]
        return raw

    dist = Distribution(
        **metadata_kwargs(fields),
        metadata=metadata,
        tags=frozenset(tags),
        build_tag=build_tag,
        root_is_purelib=purelib,
        dist_info=dist_info.name,
        entry_points=entry_points,
        members=tuple(sorted(members, key=lambda m: (m.scheme.value, m.path))),
        provenance=Provenance(path=where, filename=dist_info.name, timestamp=int((dist_info / "METADATA").stat().st_mtime)),
        opener=opener,
        license_files=tuple(license_files),
        wheel_filename=installed_wheel_filename(dist_info, str(fields["name"]), Version(str(fields["version"])), frozenset(tags), build_tag, tag_lines),
    )
    return Installed(dist, drift)


def installed_wheel_filename(
    dist_info: Path, project: str, version: Version, tags: frozenset[Tag], build_tag: BuildTag, tag_lines: tuple[str, ...]
) -> str | None:
    """The file name of the wheel that was installed, as far as the environment tells.

    pip keeps the wheel's ``.dist-info`` directory name (``PyYAML-6.0.2.dist-info`` from
    ``PyYAML-6.0.2-cp311-…whl``) and the ``WHEEL`` file's ``Tag`` lines in the order the
    build backend wrote them (the order of the compressed tags in the file name); a direct URL
    install also records the file's URL in ``direct_url.json`` (PEP 610).  None when the tags do
    not form one compressed tag set (the writer then derives a name).
    """
    name = str(canonicalize_name(project))
    archive = _original_archive(dist_info)
    url = str((archive or {}).get("url") or "")
    if url.endswith(".whl"):
        recorded = url.rsplit("/", 1)[-1]
        try:
            r_name, r_version, r_build, r_tags = parse_wheel_filename(recorded)
        except (InvalidWheelFilename, InvalidVersion):
            r_name = None  # type: ignore[assignment]
        if r_name == name and r_version == version and r_build == build_tag and r_tags == tags:
            return recorded
    ordered = [t for line in tag_lines for t in parse_tag(line)] if tag_lines else sorted(tags, key=str)
    parts: list[list[str]] = [[], [], []]
    for tag in ordered:
        for i, value in enumerate((tag.interpreter, tag.abi, tag.platform)):
            if value not in parts[i]:
                parts[i].append(value)
    if len(parts[0]) * len(parts[1]) * len(parts[2]) != len(tags):
        return None
    stem = dist_info.name[: -len(".dist-info")]
    spelled, _, spelled_version = stem.rpartition("-")
    if canonicalize_name(spelled) != name:
        spelled = name
    spelled = re.sub(r"[-_.]+", "_", spelled)
    try:
        version_text = spelled_version if Version(spelled_version) == version else str(version)
    except InvalidVersion:
        version_text = str(version)
    build = [f"{build_tag[0]}{build_tag[1]}"] if build_tag else []
    return "-".join([spelled, version_text.replace("-", "_"), *build, *(".".join(p) for p in parts)]) + ".whl"


def _refuse_editable(dist_info: Path) -> None:
    direct = dist_info / "direct_url.json"
    if direct.is_file():
        try:
            data = json.loads(read_small_file(direct))
        except (ValueError, OSError, BadInput):
            return
        if data.get("dir_info", {}).get("editable"):
            raise Unsupported(
                dist_info,
                "is an editable install: its files live in the source tree, not in the environment",
                hint="build a wheel from the project instead (pip wheel <project dir>)",
            )


def _original_archive(dist_info: Path) -> dict | None:
    direct = dist_info / "direct_url.json"
    if not direct.is_file():
        return None
    try:
        data = json.loads(read_small_file(direct))
    except (ValueError, OSError, BadInput):
        return None
    return {"url": data.get("url"), "hashes": data.get("archive_info", {}).get("hashes")}


def _record_rows(dist_info: Path) -> Iterator[RecordRow]:
    """RECORD rows, first occurrence of each path (installers may append a path again)."""
    seen: set[str] = set()
    for row in parse_record(str(dist_info), read_small_file(dist_info / "RECORD"), hint=REINSTALL):
        if row[0] not in seen:
            seen.add(row[0])
            yield row


def _classify(where: str, path: Path, layout: EnvironmentLayout, dist_stem: str, project: str) -> tuple[Scheme, str]:
    def under(base: Path) -> str | None:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            return None

    inside = under(layout.site_packages)
    if inside is not None:
        return Scheme.PURELIB, inside
    inside = under(layout.scripts)
    if inside is not None:
        return Scheme.SCRIPTS, inside
    for headers in (layout.include / project, layout.include / dist_stem.rpartition("-")[0]):
        inside = under(headers)
        if inside is not None:
            return Scheme.HEADERS, inside
    inside = under(layout.prefix)
    if inside is not None:
        return Scheme.DATA, inside
    raise BadInput(where, f"RECORD lists {path}, which is outside the environment {layout.prefix}", hint="repack it from the environment it was installed into")


def _member(
    where: str, rel: str, path: Path, layout: EnvironmentLayout, scheme: Scheme, scheme_path: str, algo: str
) -> tuple[Member, tuple[bytes, int] | None, str | None]:
    """The member for an installed file, its restored first line (scripts), and the file's digest.

    The digest (in RECORD's algorithm) is of the bytes on disk, for drift detection; the
    member's sha256 is of what will be packed.  Each file is streamed once here.  A RECORD
    entry that is a FIFO, device or socket, or a link resolving outside the environment, is
    refused before it is opened (reading it could block for ever or leak another file).
    """
    if path.is_symlink():
        target = os.readlink(path)
        if check_link_target(scheme_path, target) is None and not os.path.isabs(target):
            return Member(scheme, scheme_path, 0, None, 0o777, target=target.replace(os.sep, "/"), origin=str(path)), None, None
        # absolute or escaping links are packed as the file they point to, if that is inside the environment
        resolved = Path(os.path.realpath(path))
        root = Path(os.path.realpath(layout.prefix))
        if resolved != root and root not in resolved.parents:
            raise BadInput(where, f"RECORD lists {rel}, a link to {target} outside the environment {layout.prefix}", hint="remove the link or repack from an environment that holds the file itself")
    st = path.stat()
    kind = special_kind(st.st_mode)
    if kind is not None:
        raise BadInput(where, f"RECORD lists {rel}, which is {kind}, not a regular file", hint=REINSTALL)
    mode = 0o755 if st.st_mode & 0o111 else 0o644
    if scheme is Scheme.SCRIPTS:
        sha, installed = Digests(), Digests(algo)
        with path.open("rb") as fh:
            line, after = read_first_line(fh)
            restored = restore_installed_shebang(line)
            installed.update(line)
            sha.update(restored if restored is not None else line)
            sha.update(after)
            installed.update(after)
            while chunk := fh.read(CHUNK):
                sha.update(chunk)
                installed.update(chunk)
        if restored is not None:
            size = st.st_size - len(line) + len(restored)
            return Member(scheme, scheme_path, size, sha.sha256, 0o755, origin=str(path)), (restored, len(line)), installed.hexdigest(algo)
        return Member(scheme, scheme_path, st.st_size, sha.sha256, mode, origin=str(path)), None, installed.hexdigest(algo)
    digests = file_digests(path, algo)
    sha256, installed_digest = digests.sha256, digests.hexdigest(algo)
    return Member(scheme, scheme_path, st.st_size, sha256, mode, origin=str(path)), None, installed_digest


def _open_regular(where: str, origin: str) -> BinaryIO:
    """Open an installed file for packing, refusing one that became special since it was read."""
    path = Path(origin)
    kind = special_kind(path.stat().st_mode)
    if kind is not None:
        raise BadInput(where, f"{origin} is {kind}, not a regular file", hint=REINSTALL)
    return open(path, "rb")


def _wrapper_names(entry_points: tuple[EntryPoint, ...]) -> set[str]:
    """File names installers generate for entry points (restored from entry_points.txt instead)."""
    names: set[str] = set()
    for ep in entry_points:
        names.add(ep.name)
        names.update({f"{ep.name}.exe", f"{ep.name}-script.py", f"{ep.name}-script.pyw"})
    return names


def _wheel_facts(wheel_file: Path, where: str, platlib_hint: bool) -> tuple[frozenset[Tag], BuildTag, bool, tuple[str, ...]]:
    """Tags, build tag, Root-Is-Purelib and the Tag lines in order from WHEEL, or derived when WHEEL is missing."""
    if os.path.lexists(wheel_file):
        parsed = parse_wheel_file(where, read_small_file(wheel_file), strict=False)
        if parsed.tags:
            return parsed.tags, parsed.build_tag, parsed.purelib is not False, parsed.tag_lines
    # No WHEEL (or no Tag lines): pure if nothing compiled was installed, else this interpreter's best tag.
    if not platlib_hint:
        return frozenset(parse_tag("py3-none-any")), (), True, ()
    return frozenset({next(iter(sys_tags()))}), (), False, ()


def default_python() -> str:
    """The ``python`` of the active environment (``$VIRTUAL_ENV``/``$CONDA_PREFIX``), else PATH's."""
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        root = os.environ.get(var)
        if root:
            candidate = Path(root) / ("python.exe" if os.name == "nt" else "bin/python")
            if candidate.exists():
                return str(candidate)
    return "python" if os.name == "nt" else "python3"
