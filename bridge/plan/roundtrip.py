"""What a wheel made from a conda package records, so that converting it back loses nothing.

A wheel cannot hold symlinks, prefix placeholders or conda's identity (build string, exact
``depends``).  ``to-wheel`` writes two files into the wheel's ``.dist-info``; the wheel reader
consumes them (they never reach a conda package) and the planner restores what they say:

``LINKS``
    CSV rows ``path,target`` (the shape PEP 778, deferred, proposed): ``path`` is the wheel
    member that stands for a symlink (RECORD lists it; it holds a copy of the target's bytes,
    so pip installs a working file), ``target`` the link text exactly as the conda package had
    it, relative to the link's directory.  No member stands for a link to a directory (its
    ``path`` ends in ``/``) or to a path outside the package (another package's file, e.g.
    ``../../_rocm_sdk_core/bin/hipconfig``).  Converting the wheel to conda writes the link again.

``conda-package.json``
    ``{"format": 1, "package": <name-version-build>, "index": <index.json>, "about": <about.json, verbatim>,
    "link": <link.json or null>, "dist_info": "own" | "synthesized", "dist_info_files": [...],
    "dist_info_text": {...}, "paths": {<archive path>: {...}}}``.  ``paths`` lists only entries a wheel cannot express: prefix placeholders
    (``prefix_placeholder``, ``file_mode``; for scripts also the original ``interpreter`` that
    ``#!python`` replaced), ``no_link``, each with the original ``sha256`` so a restore is
    checked.  ``dist_info: synthesized`` means the ``.dist-info`` was made up for the wheel and
    is left out again; for an own one, ``dist_info_files`` lists its files and
    ``dist_info_text`` keeps those the wheel drops or rewrites (``INSTALLER``, ``WHEEL``,
    ``direct_url.json``, ...; never ``RECORD``, which is regenerated).

Besides, the planner notes in ``about.json`` ``extra.wheel2conda.schemes`` the files whose
install scheme a reader of the conda package could not guess (a shell script from
``.data/scripts``, a data file under ``bin/``), so conda → wheel puts them back where they were.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.digest import CHUNK, HeadReplaced, sha256_bytes
from ..core.errors import BadInput
from ..model import Distribution, Member, Scheme
from ..model.conda import RECORD_FORMAT, AboutJson, CondaRecord  # noqa: F401  (RECORD_FORMAT: the format the record declares)
from ..model.paths import check_link_target, check_relative_path
from ..translate.layout import PLACEHOLDER
from ..translate.reverse import ReverseLayout, scheme_exceptions
from ..translate.shebang import restore_shebang

if TYPE_CHECKING:
    from .wheel_to_conda import CondaPackage, ConversionOptions, PlannedFile

LINKS = "LINKS"
CONDA_RECORD = "conda-package.json"
#: dist-info files the wheel reader consumes instead of copying.
CONSUMED = frozenset({LINKS, CONDA_RECORD})


# --------------------------------------------------------------------------- LINKS


def format_links(rows: Iterable[tuple[str, str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(sorted(rows))
    return buf.getvalue().encode("utf-8")


def parse_links(data: bytes) -> list[tuple[str, str]]:
    """Rows of a ``LINKS`` file; ValueError when malformed."""
    rows = []
    for row in csv.reader(io.StringIO(data.decode("utf-8"))):
        if not row:
            continue
        if len(row) != 2 or not row[0] or not row[1]:
            raise ValueError(f"malformed row {row!r}")
        rows.append((row[0], row[1]))
    return rows


def directories_of(files: Iterable[str]) -> set[str]:
    """Every directory that holds one of ``files`` (relative paths), at any depth."""
    dirs = {posixpath.dirname(f) for f in files}
    return dirs | {d.rsplit("/", i)[0] for d in list(dirs) for i in range(1, d.count("/") + 1)}


def resolve_links(links: Mapping[str, str], files: Collection[str], *, directories: bool = False, outside: bool = False) -> dict[str, str]:
    """The regular file (or, with ``directories``, the directory) each link finally points to.

    ``links`` maps link paths to their targets (relative to the link's directory), ``files``
    are the regular files; all paths share one root.  Raises ValueError naming every link that
    escapes the root, loops, dangles or (without ``directories``) points to a directory; with
    ``outside`` a target that is not in the package (another package's file, as
    ``../../_rocm_sdk_core/lib/llvm``) is no problem.  Callers tell the kinds apart by
    ``resolved in files`` and :func:`directories_of`.
    """
    dirs = directories_of(files)
    resolved: dict[str, str] = {}
    problems: list[str] = []
    for link in sorted(links):
        current, seen = link, list[str]()
        while True:
            if current in seen:
                problems.append(f"{link}: link loop ({' -> '.join([*seen, current])})")
                break
            seen.append(current)
            target = links[current]
            problem = check_link_target(current, target)
            if problem:
                problems.append(f"{link}: {problem}")
                break
            path = _through_parent_links(posixpath.normpath(posixpath.join(posixpath.dirname(current), target)), links)
            if path in links:
                current = path
                continue
            if path in files or (directories and path in dirs) or (outside and path not in dirs):
                resolved[link] = path
            elif path in dirs:
                problems.append(f"{link}: points to the directory {path} (wheels can only hold copies of files)")
            else:
                problems.append(f"{link}: target {path} is not in the package")
            break
    if problems:
        raise ValueError("; ".join(problems))
    return resolved


def _through_parent_links(path: str, links: Mapping[str, str]) -> str:
    """``path`` with a parent directory that is a link replaced by where it points (``llvm/bin/x``
    with ``llvm -> lib/llvm`` → ``lib/llvm/bin/x``); bounded, so a loop stays unresolved."""
    for _ in range(40):
        parts = path.split("/")
        parent = next(("/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1) if "/".join(parts[:i]) in links), None)
        if parent is None or links[parent].startswith("/"):
            return path
        path = posixpath.normpath(posixpath.join(posixpath.dirname(parent), links[parent], path[len(parent) + 1 :]))
    return path


# --------------------------------------------------------------------------- conda record


def read_wheel_manifests(
    where: str,
    dist_info: str,
    members: list[Member],
    read: Callable[[str], bytes | None],
    classify: Callable[[str], tuple[Scheme, str]] | None = None,
) -> tuple[list[Member], dict[str, Any]]:
    """Apply a wheel's ``LINKS`` to its members and parse its ``conda-package.json``.

    ``read(name)`` returns a dist-info file's bytes (None when absent); ``classify(arcname)``
    gives a directory link's scheme and path (rows ending in ``/``: no member stands for them).
    Returns the members (link members now carry their target, directory links are added) and
    the entries for ``Distribution.extra``.
    """
    extra: dict[str, Any] = {}
    links = read(f"{dist_info}/{LINKS}")
    if links is not None:
        try:
            rows = parse_links(links)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadInput(where, f"{dist_info}/{LINKS}: {exc}", hint="the wheel was edited after wheel2conda wrote it: convert the conda package again") from None
        by_origin = {m.origin: i for i, m in enumerate(members)}
        members = list(members)
        for path, target in rows:
            if classify is not None and (path.endswith("/") or path not in by_origin):
                members.append(_uncopied_link(where, dist_info, path.removesuffix("/"), target, members, classify))
                continue
            if path not in by_origin:
                raise BadInput(where, f"{dist_info}/{LINKS}: {path} is not a file of the wheel", hint="the wheel was edited after wheel2conda wrote it: convert the conda package again")
            if not target or target.startswith("/") or "\\" in target or "\x00" in target or ":" in target.split("/", 1)[0]:
                raise BadInput(where, f"{dist_info}/{LINKS}: {path}: unsafe link target {target!r}", hint="the wheel was edited after wheel2conda wrote it: convert the conda package again")
            members[by_origin[path]] = dataclasses.replace(members[by_origin[path]], target=target)
    record = read(f"{dist_info}/{CONDA_RECORD}")
    if record is not None:
        try:
            extra["conda_record"] = CondaRecord.from_bytes(record, where, f"{dist_info}/{CONDA_RECORD}")
        except BadInput as exc:
            raise BadInput(where, exc.reason, hint="the wheel was edited after wheel2conda wrote it: convert the conda package again") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadInput(where, f"{dist_info}/{CONDA_RECORD}: {exc}", hint="the wheel was edited after wheel2conda wrote it: convert the conda package again") from None
    return members, extra


def _uncopied_link(where: str, dist_info: str, arcname: str, target: str, members: list[Member], classify: Callable[[str], tuple[Scheme, str]]) -> Member:
    """The member for a ``LINKS`` row no wheel member stands for: a link to a directory
    (``dir/,target``) or to another package's file, with no bytes in the wheel."""
    hint = "the wheel was edited after wheel2conda wrote it: convert the conda package again"
    problem = check_relative_path(arcname)
    if problem:
        raise BadInput(where, f"{dist_info}/{LINKS}: unsafe link path {arcname!r} ({problem})", hint=hint)
    if check_link_target(arcname, target) or ":" in target.split("/", 1)[0]:
        raise BadInput(where, f"{dist_info}/{LINKS}: {arcname}: unsafe link target {target!r}", hint=hint)
    if any(m.origin == arcname or m.origin.startswith(arcname + "/") for m in members):
        raise BadInput(where, f"{dist_info}/{LINKS}: {arcname} is a link without a copy, but the wheel has files at or below it", hint=hint)
    scheme, path = classify(arcname)
    return Member(scheme, path, 0, None, 0o644, target=target, origin=arcname)


# --------------------------------------------------------------------------- planner hook


def finish_plan(pkg: CondaPackage, dist: Distribution, options: ConversionOptions) -> None:
    """Check links, record scheme exceptions, restore a recorded conda identity (in place)."""
    where = dist.provenance.path
    # links the source itself holds (a round-trip wheel's LINKS, an installed tree); the links
    # bridge.plan.links makes (devel tarballs, alias chains) were checked by its own rules
    links = {f.path: f.target for f in pkg.files if f.target is not None and f.member is not None and f.member.target is not None}
    if links:
        try:
            resolve_links(links, {f.path for f in pkg.files if f.target is None}, directories=True, outside=True)  # bridge.plan.links checks where they go
        except ValueError as exc:
            raise BadInput(where, str(exc)) from None
    schemes = _scheme_exceptions(pkg, dist)
    if schemes:
        pkg.provenance = pkg.provenance.replace(schemes={p: Scheme(s) for p, s in schemes.items()})
    record = dist.extra.get("conda_record")
    if isinstance(record, CondaRecord):
        pkg.provenance = pkg.provenance.replace(conda_record=True)
        _restore(pkg, dist, record, options)


def _scheme_exceptions(pkg: CondaPackage, dist: Distribution) -> dict[str, str]:
    target = pkg.target
    layout = ReverseLayout.create(pkg.layout.site_packages, target.noarch_python, target.windows, dist.name, dist.root_is_purelib)
    placeholders = {f.path for f in pkg.files if f.placeholder}
    items = []
    for m in dist.members:
        path = pkg.layout.path_for(m.scheme, m.path)
        items.append((path, m.scheme, m.scheme is Scheme.SCRIPTS and path in placeholders))
    return scheme_exceptions(layout, items)


def _restore(pkg: CondaPackage, dist: Distribution, record: CondaRecord, options: ConversionOptions) -> None:
    index = record.index
    if options.name or options.build_number is not None or options.extra_depends:
        pkg.warnings.append("the wheel records its conda package; --name/--build-number/--depends given, so it is not restored")
        return
    if index.get("subdir") != pkg.subdir:
        pkg.warnings.append(f"the wheel records a {index.get('subdir')} package; building {pkg.subdir}, so it is not restored")
        return
    pkg.name, pkg.version, pkg.build = index["name"], index["version"], index["build"]
    pkg.build_number = int(index.get("build_number") or 0)
    pkg.depends = list(index.get("depends") or [])
    pkg.constrains = list(index.get("constrains") or [])
    pkg.license = index.get("license")
    pkg.track_features = index.get("track_features")
    pkg.timestamp_ms = int(index.get("timestamp") or pkg.timestamp_ms)
    pkg.index_override = dict(index)
    pkg.link = record.link
    if record.about is not None:  # verbatim: a package wheel2conda made keeps its first source's provenance
        about = AboutJson.from_raw(record.about, dist.provenance.path, f"{CONDA_RECORD}: about")
        pkg.about_fields = {k: v for k, v in record.about.items() if k != "extra"}
        if foreign := about.foreign_extra():
            pkg.about_fields["extra"] = foreign
        if about.provenance is not None:
            pkg.provenance = about.provenance
        else:
            pkg.writes_provenance = False
    _restore_dist_info(pkg, f"{pkg.layout.site_packages}/{dist.dist_info}/", record)
    for f in pkg.files:
        entry = record.paths.get(f.path)
        if entry and not _apply_entry(f, entry, dist):
            pkg.warnings.append(f"{f.path}: differs from the recorded conda file; written as converted")


def _restore_dist_info(pkg: CondaPackage, prefix: str, record: CondaRecord) -> None:
    """Leave out dist-info files the package did not have; put back the ones the wheel changed."""
    from .wheel_to_conda import PlannedFile

    if record.dist_info == "synthesized":
        pkg.files = [f for f in pkg.files if not f.path.startswith(prefix)]
        pkg.info_files = []
        return
    had = set(record.dist_info_files)
    files = {f.path: f for f in pkg.files if not f.path.startswith(prefix) or f.path[len(prefix) :] in had}
    for inner, text in record.dist_info_text.items():
        data = text.encode("utf-8", "surrogateescape")
        files[prefix + inner] = PlannedFile(prefix + inner, len(data), sha256_bytes(data), content=data)
    pkg.files = sorted(files.values(), key=lambda f: f.path)


def _apply_entry(f: PlannedFile, entry: Mapping[str, Any], dist: Distribution | None = None) -> bool:
    """Put back placeholder, file mode, no_link and original interpreter line; False on mismatch."""
    interpreter = entry.get("interpreter")
    if interpreter is not None and f.content is not None and f.placeholder:
        found = restore_shebang(f.content, PLACEHOLDER)
        if found is None:
            return False
        content = interpreter.encode("utf-8", "surrogateescape") + f.content[len(found[1]) :]
        if sha256_bytes(content) != entry.get("sha256"):
            return False
        f.content, f.size, f.sha256 = content, len(content), sha256_bytes(content)
    elif interpreter is not None and f.head is not None and f.placeholder and dist is not None and f.member is not None:
        found = restore_shebang(f.head, PLACEHOLDER)  # a streamed script: only its first line is in memory
        if found is None:
            return False
        head = interpreter.encode("utf-8", "surrogateescape") + f.head[len(found[1]) :]
        with dist.open(f.member) as raw:
            stream = HeadReplaced(raw, head, f.skip)  # type: ignore[arg-type]
            size = sum(len(chunk) for chunk in iter(lambda: stream.read(CHUNK), b""))
            sha = stream.sha256
        if sha != entry.get("sha256"):
            return False
        f.head, f.size, f.sha256 = head, size, sha
    elif entry.get("sha256") not in (None, f.sha256):
        return False
    if entry.get("prefix_placeholder"):
        f.placeholder = str(entry["prefix_placeholder"])
        f.file_mode = str(entry.get("file_mode") or "text")
    if entry.get("no_link"):
        f.no_link = True
    return True
