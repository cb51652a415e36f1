"""Symlinks in conda packages: safety rules, alias-chain dedup, SONAME aliases, devel tarballs.

Wheels cannot hold symlinks; conda packages can, where the client can create them (``linux-*``
and ``osx-*`` subdirs, CEP 20 ``noarch: python`` packages in those subdirs included; never
``win-*`` or pure ``noarch``).  This module turns planned files into softlinks where that is
safe and checks every softlink of a plan:

* a link target is relative, never absolute;
* it resolves inside the package root, and inside the relocated region it lives in
  (``site-packages/`` or ``python-scripts/`` of a ``noarch: python`` package);
* it never goes through a parent directory that is itself a link (such targets are rewritten
  to the path the operating system would reach, or refused when that leaves the package);
* it names a file or link of the package, or, for ``site-packages`` links only, a path in a
  sibling top-level directory of site-packages (another package, e.g. ``_rocm_sdk_core``).

Where links are impossible we make none; links the source itself holds are kept and checked.

Files whose bytes live inside a nested archive (the ``rocm-sdk-devel`` ``_devel.tar``) are planned
with a :class:`NestedRef` and streamed by :func:`bridge.sources.payload.open_payload` in archive order, so the archive
is read once per write, with every entry verified against the digest taken while planning.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace

from ..binary.elf import is_elf, soname
from ..core.digest import hash_stream
from ..core.errors import BadInput, Unsupported
from ..model import Distribution, Member
from ..model.paths import MAX_LINK_HOPS, LinkError, check_link_target, check_relative_path, resolve_link_path
from ..model.wheel import NestedRef
from ..sources.payload import SeekableMember, iter_tar
from ..translate.layout import CondaLayout
from ..translate.tags import Target
from .types import LinkOptions, PlannedFile

#: ``rocm-sdk-devel`` ships its developer tree as this tarball, expanded by ``rocm_sdk`` on first use.
DEVEL_TARBALL = re.compile(r"^rocm_sdk_devel/_devel\.tar(\.xz)?$")
#: ``libX.so``, ``libX.so.1``, ``libX.so.1.2.3``: group key ``libX.so``.
_SO_ALIAS = re.compile(r"^(?P<stem>.+\.so)(?:\.[0-9][0-9A-Za-z_]*)*$")
#: ``libX.dylib``, ``libX.1.dylib``, ``libX.1.2.3.dylib``: group key ``libX.dylib``.
_DYLIB_ALIAS = re.compile(r"^(?P<stem>.+?)(?:\.[0-9]+)*\.dylib$")
#: A versioned shared library name that may lack its ``libX.so`` development link.
_VERSIONED_SO = re.compile(r"^(?P<stem>lib.+\.so)\.[0-9][0-9A-Za-z_.]*$")


def links_allowed(target: Target) -> bool:
    """Can clients create softlinks for packages of this target?"""
    return target.subdir != "noarch" and not target.windows


def write_order(f: PlannedFile) -> tuple[int, str, int]:
    """Sort key for writing: plain files by path, then each nested archive's files in archive order."""
    if f.nested is None or f.member is None:
        return (0, f.path, 0)
    return (1, f.member.origin, f.nested.index)


# --------------------------------------------------------------------------- planning


def apply_links(
    dist: Distribution, layout: CondaLayout, files: list[PlannedFile], options: LinkOptions, where: str
) -> tuple[list[PlannedFile], list[str]]:
    """Expand devel tarballs, dedup alias chains, add SONAME links, then check every link.

    Returns the new file list and warnings for the user.  Where the target cannot hold links we
    make none (a devel tarball stays for ``rocm_sdk`` to expand on first use), and links the
    source holds (an installed tree, a wheel's ``LINKS`` manifest) become copies of the file they
    point to — unless the wheel restores a recorded conda package exactly (a round trip), whose
    links are kept as they were.
    """
    warnings: list[str] = []
    if not links_allowed(layout.target):
        for f in files:
            if _is_devel_tarball(f, layout):
                warnings.append(
                    f"{f.path}: left unexpanded ({layout.target.subdir} packages cannot hold its symlinks); rocm_sdk expands it on first use"
                )
        files = check_links(files, layout, where, warnings)
        if dist.conda_record is None:
            files = dereference_links(files, layout, where)
        return files, warnings
    if options.expand_devel:
        files = expand_devel_tarballs(dist, layout, files, warnings)
    if options.dedup:
        files = dedup_alias_chains(files)
    if options.soname_links and layout.target.subdir.startswith("linux-"):
        files = add_soname_links(dist, files)
    files = check_links(files, layout, where, warnings)
    return files, warnings


def _is_devel_tarball(f: PlannedFile, layout: CondaLayout) -> bool:
    prefix = layout.site_packages + "/"
    return f.member is not None and f.nested is None and f.path.startswith(prefix) and bool(DEVEL_TARBALL.match(f.path[len(prefix) :]))


def expand_devel_tarballs(
    dist: Distribution, layout: CondaLayout, files: list[PlannedFile], warnings: list[str]
) -> list[PlannedFile]:
    """Replace ``rocm_sdk_devel/_devel.tar[.xz]`` by its entries (files, relative links).

    The tarball's top directory (``_rocm_sdk_devel``) lands in site-packages as ``rocm_sdk``
    would expand it; its ``__init__.py`` is the marker that makes ``rocm_sdk`` skip expansion,
    and the tarball itself is left out, so the installed environment is never modified.  Each
    entry is hashed here (one streaming pass); writing streams the archive once more and
    verifies every entry against that digest.
    """
    result: list[PlannedFile] = []
    for f in files:
        if not _is_devel_tarball(f, layout):
            result.append(f)
            continue
        assert f.member is not None
        entries = list(_scan_tarball(dist, f, layout.site_packages))
        tops = {e.path[len(layout.site_packages) + 1 :].split("/", 1)[0] for e in entries}
        markers = {f"{layout.site_packages}/{top}/__init__.py" for top in tops}
        if not markers & {e.path for e in entries if not e.is_link}:
            warnings.append(f"{f.path}: holds no top-level package __init__.py; left unexpanded")
            result.append(f)
            continue
        result.extend(entries)
    return result


def _scan_tarball(dist: Distribution, tar_file: PlannedFile, site_packages: str) -> Iterator[PlannedFile]:
    """Plan every file and link of a nested tarball (directories are implied by their files)."""
    member = tar_file.member
    assert member is not None
    label = member.origin or member.path
    seen: set[str] = set()
    for index, info, stream in iter_tar(dist, member):
        name = info.name.rstrip("/") if info.isdir() else info.name
        problem = check_relative_path(name)
        if problem:
            raise BadInput(dist.provenance.path, f"{label}: unsafe entry {info.name!r}: {problem}")
        if info.isdir():
            continue
        if name in seen:
            raise BadInput(dist.provenance.path, f"{label}: entry {name!r} appears twice")
        seen.add(name)
        path = f"{site_packages}/{name}"
        ref = NestedRef(name, index)
        if info.issym():
            yield replace(tar_file, path=path, size=0, sha256=None, mode=0o777, target=info.linkname, nested=ref)
        elif info.islnk():  # a hard link names an earlier entry by its archive path: same bytes, so a softlink
            target = _relative(info.linkname, posixpath.dirname(name))
            yield replace(tar_file, path=path, size=0, sha256=None, mode=0o777, target=target, nested=ref)
        elif info.isreg():
            assert stream is not None
            digest = hash_stream(stream)
            mode = 0o755 if info.mode & 0o111 else 0o644
            yield replace(tar_file, path=path, size=info.size, sha256=digest.sha256, mode=mode, target=None, nested=ref)
        else:
            raise Unsupported(dist.provenance.path, f"{label}: entry {name!r} is a device, FIFO or other special file")


def dedup_alias_chains(files: list[PlannedFile]) -> list[PlannedFile]:
    """Identical files of one library alias chain (``libX.so``, ``libX.so.1``, ``libX.so.1.2``) → one file + links.

    The file with the longest name (the full version) keeps the bytes; the others become links
    to it in the same directory.  Files differing in mode, and generated files, are left alone.
    """
    groups: dict[tuple[str, str, str, int], list[int]] = defaultdict(list)
    for i, f in enumerate(files):
        if f.is_link or f.content is not None or f.head is not None or f.sha256 is None:
            continue
        directory, name = posixpath.split(f.path)
        stem = _alias_stem(name)
        if stem is not None:
            groups[(directory, stem, f.sha256, f.mode)].append(i)
    result = list(files)
    for indices in groups.values():
        if len(indices) < 2:
            continue
        keep = max(indices, key=lambda i: (len(files[i].path), files[i].path))
        name = posixpath.basename(files[keep].path)
        for i in indices:
            if i != keep:
                result[i] = _as_link(files[i], name, files[keep])
    return result


def _alias_stem(name: str) -> str | None:
    """The name an alias chain shares (``libX.so``, ``libX.dylib``), or None for other files."""
    if m := _SO_ALIAS.match(name):
        return m.group("stem")
    if m := _DYLIB_ALIAS.match(name):
        return m.group("stem") + ".dylib"
    return None


def _as_link(f: PlannedFile, target: str, target_file: PlannedFile) -> PlannedFile:
    """``f`` as a softlink to ``target`` (relative), recording the target's content like conda-build."""
    return replace(f, target=target, sha256=target_file.sha256, size=target_file.size, mode=0o777, content=None, placeholder=None)


def add_soname_links(dist: Distribution, files: list[PlannedFile]) -> list[PlannedFile]:
    """``libX.so`` → ``libX.so.N`` for shared libraries shipped only under their SONAME.

    Only when the ELF ``DT_SONAME`` equals the file name, the directory has no ``libX.so``
    yet, and no other version of the library claims the same name.
    """
    names = {f.path for f in files}
    claims: dict[str, list[PlannedFile]] = defaultdict(list)
    for f in files:
        if f.is_link or f.member is None or f.nested is not None:
            continue
        directory, name = posixpath.split(f.path)
        m = _VERSIONED_SO.match(name)
        if m:
            alias = posixpath.join(directory, m.group("stem"))
            if alias not in names:
                claims[alias].append(f)
    added: list[PlannedFile] = []
    for alias, candidates in sorted(claims.items()):
        if len(candidates) != 1:
            continue
        (f,) = candidates
        assert f.member is not None
        name = posixpath.basename(f.path)
        if read_soname(dist, f.member) == name:
            added.append(_as_link(replace(f, path=alias, member=None), name, f))
    return files + added


def read_soname(dist: Distribution, member: Member) -> str | None:
    """A member's ELF SONAME, read without unpacking it to disk."""
    with SeekableMember(dist, member) as stream:
        if not is_elf(stream.read(4)):
            return None
        return soname(stream)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- checking


def check_links(files: list[PlannedFile], layout: CondaLayout, where: str, warnings: list[str]) -> list[PlannedFile]:
    """Validate (and where needed normalise) every link; fill in target sizes and digests.

    Raises :class:`BadInput` for a link that is absolute, escapes the package or its relocated
    region, loops, or sits below another link.  Warns about links dangling inside the package.
    """
    by_path = {f.path: f for f in files}
    links = {f.path: f.target for f in files if f.target is not None}
    if not links:
        return files
    own_tops = _own_site_packages_tops(files, layout)
    directories = {parent for f in files for parent in _parents(f.path)}
    dangling: list[str] = []
    result: list[PlannedFile] = []
    for f in files:
        for parent in _parents(f.path):
            if parent in links:
                raise BadInput(where, f"{f.path}: lies below {parent}, which is a symlink")
        if f.target is None:
            result.append(f)
            continue
        problem = check_link_target(f.path, f.target)
        if problem:
            raise BadInput(where, f"symlink {f.path}: {problem}", hint="links must stay inside the environment")
        try:
            resolved = resolve_link_path(f.path, f.target, links)
        except LinkError as exc:
            raise BadInput(where, str(exc)) from None
        region = _region(f.path, layout)
        if region and not (resolved + "/").startswith(region + "/"):
            raise BadInput(where, f"symlink {f.path} -> {f.target}: leaves {region}/, which the client relocates")
        lexical = posixpath.normpath(posixpath.join(posixpath.dirname(f.path), f.target))
        target = f.target if resolved == lexical else _relative(resolved, posixpath.dirname(f.path))  # rewritten only to avoid a link parent
        final = _final_target(resolved, by_path, links, where, f.path)
        if final is not None:
            result.append(replace(f, target=target, sha256=final.sha256, size=final.size))
            continue
        result.append(replace(f, target=target, sha256=None, size=0))  # no file of ours: no digest to record
        top = _site_packages_top(resolved, layout)
        sibling = top is not None and top not in own_tops  # another package's path (e.g. _rocm_sdk_core)
        if not sibling and resolved not in links and resolved not in directories:
            dangling.append(f.path)
    if dangling:
        more = f" and {len(dangling) - 1} more" if len(dangling) > 1 else ""
        warnings.append(f"symlink {dangling[0]}{more}: target not in the package (kept dangling, as in the source)")
    return result


def _relative(path: str, start: str) -> str:
    """``path`` relative to the directory ``start`` (both package-relative, normalised; no file system)."""
    to, base = path.split("/"), start.split("/") if start else []
    common = 0
    while common < min(len(to), len(base)) and to[common] == base[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + to[common:]) or "."


def _parents(path: str) -> Iterator[str]:
    parts = path.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def dereference_links(files: list[PlannedFile], layout: CondaLayout, where: str) -> list[PlannedFile]:
    """Replace every (checked) link by a copy of the file it ends at, for targets without links."""
    by_path = {f.path: f for f in files}
    links = {f.path: f.target for f in files if f.target is not None}
    result: list[PlannedFile] = []
    for f in files:
        if f.target is None:
            result.append(f)
            continue
        final = _final_target(posixpath.normpath(posixpath.join(posixpath.dirname(f.path), f.target)), by_path, links, where, f.path)
        if final is None:
            raise BadInput(
                where,
                f"symlink {f.path} -> {f.target} points outside this package, and {layout.target.subdir} packages cannot hold links",
                hint="convert for a Linux or macOS subdir (--subdir), where links are kept",
            )
        result.append(replace(final, path=f.path))
    return result


def _final_target(path: str, by_path: dict[str, PlannedFile], links: dict[str, str], where: str, origin: str) -> PlannedFile | None:
    """The file a chain of links inside the package ends at, or None if it leaves our files."""
    for _ in range(MAX_LINK_HOPS):
        f = by_path.get(path)
        if f is None:
            return None
        if f.target is None:
            return f
        if f.target.startswith("/"):
            return None
        try:
            path = resolve_link_path(path, f.target, links)
        except LinkError:
            return None
    raise BadInput(where, f"symlink {origin}: too many levels of links (a loop?)")


def _region(path: str, layout: CondaLayout) -> str:
    """The archive directory a path is relocated with ('' = the whole package, linked verbatim)."""
    if layout.target.noarch_python:
        for root in (layout.site_packages, layout.scripts_dir):
            if path.startswith(root + "/"):
                return root
    return ""


def _site_packages_top(path: str, layout: CondaLayout) -> str | None:
    prefix = layout.site_packages + "/"
    if not path.startswith(prefix):
        return None
    return path[len(prefix) :].split("/", 1)[0] or None


def _own_site_packages_tops(files: Iterable[PlannedFile], layout: CondaLayout) -> set[str]:
    return {top for f in files if (top := _site_packages_top(f.path, layout)) is not None}
