"""Restore what a round-trip record says while planning wheel → conda (the format: :mod:`bridge.model.roundtrip`).

The wheel reader hands over the parsed record (:attr:`Distribution.conda_record`) and the links
of its ``LINKS`` manifest (link members); :func:`finish_plan` checks those links, records the
files whose install scheme a reader of the conda package could not guess (``about.json``
``extra.wheel2conda.schemes``), and puts back the recorded conda identity, placeholders and
dist-info files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..core.digest import CHUNK, HeadReplaced, sha256_bytes
from ..core.errors import BadInput
from ..model import Distribution, Scheme
from ..model.conda import AboutJson, CondaRecord
from ..model.roundtrip import CONDA_RECORD, resolve_links
from ..translate.layout import PLACEHOLDER
from ..translate.reverse import ReverseLayout, scheme_exceptions
from ..translate.shebang import restore_shebang
from ..translate.specs import Origin
from .types import CondaPackage, ConversionOptions, PlannedFile

# --------------------------------------------------------------------------- planner hook


def finish_plan(pkg: CondaPackage, dist: Distribution, options: ConversionOptions) -> CondaPackage:
    """``pkg`` with its links checked, its scheme exceptions recorded and a recorded conda identity restored."""
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
        pkg = dataclasses.replace(pkg, provenance=pkg.provenance.replace(schemes={p: Scheme(s) for p, s in schemes.items()}))
    record = dist.conda_record
    if record is not None:
        pkg = _restore(dataclasses.replace(pkg, provenance=pkg.provenance.replace(conda_record=True)), dist, record, options)
    return pkg


def _scheme_exceptions(pkg: CondaPackage, dist: Distribution) -> dict[str, str]:
    target = pkg.target
    layout = ReverseLayout.create(pkg.layout.site_packages, target.noarch_python, target.windows, dist.name, dist.root_is_purelib)
    placeholders = {f.path for f in pkg.files if f.placeholder}
    items = []
    for m in dist.members:
        path = pkg.layout.path_for(m.scheme, m.path)
        items.append((path, m.scheme, m.scheme is Scheme.SCRIPTS and path in placeholders))
    return scheme_exceptions(layout, items)


def _restore(pkg: CondaPackage, dist: Distribution, record: CondaRecord, options: ConversionOptions) -> CondaPackage:
    """``pkg`` as the recorded conda package was: identity, index, about, link, dist-info and file entries."""
    index = record.index
    if options.name or options.build_number is not None or options.extra_depends:
        return dataclasses.replace(pkg, warnings=(*pkg.warnings, "the wheel records its conda package; --name/--build-number/--depends given, so it is not restored"))
    if index.get("subdir") != pkg.subdir:
        return dataclasses.replace(pkg, warnings=(*pkg.warnings, f"the wheel records a {index.get('subdir')} package; building {pkg.subdir}, so it is not restored"))
    recorded = "the conda package recorded in the wheel"
    changes: dict[str, Any] = {
        "name": index["name"],
        "version": index["version"],
        "build": index["build"],
        "build_number": int(index.get("build_number") or 0),
        "build_parts": (Origin(index["build"], f"{recorded} (restored as it was)"),),
        "dependencies": tuple(Origin(s, recorded) for s in index.get("depends") or []),
        "constraints": tuple(Origin(s, recorded) for s in index.get("constrains") or []),
        "license": index.get("license"),
        "track_features": index.get("track_features"),
        "timestamp_ms": int(index.get("timestamp") or pkg.timestamp_ms),
        "index_override": dict(index),
        "link": record.link,
    }
    if record.about is not None:  # verbatim: a package wheel2conda made keeps its first source's provenance
        about = AboutJson.from_raw(record.about, dist.provenance.path, f"{CONDA_RECORD}: about")
        about_fields = {k: v for k, v in record.about.items() if k != "extra"}
        if foreign := about.foreign_extra():
            about_fields["extra"] = foreign
        changes["about_fields"] = about_fields
        if about.provenance is not None:
            changes["provenance"] = about.provenance
        else:
            changes["writes_provenance"] = False
    files, info_files = _restore_dist_info(pkg.files, pkg.info_files, f"{pkg.layout.site_packages}/{dist.dist_info}/", record)
    restored: list[PlannedFile] = []
    warnings = list(pkg.warnings)
    for f in files:
        entry = record.paths.get(f.path)
        if entry:
            applied = _apply_entry(f, entry, dist)
            if applied is None:
                warnings.append(f"{f.path}: differs from the recorded conda file; written as converted")
            else:
                f = applied
        restored.append(f)
    return dataclasses.replace(pkg, files=tuple(restored), info_files=info_files, warnings=tuple(warnings), **changes)


def _restore_dist_info(
    files: tuple[PlannedFile, ...], info_files: tuple[PlannedFile, ...], prefix: str, record: CondaRecord
) -> tuple[tuple[PlannedFile, ...], tuple[PlannedFile, ...]]:
    """``(files, info_files)`` without the dist-info files the package did not have, with the ones the wheel changed put back."""
    if record.dist_info == "synthesized":
        return tuple(f for f in files if not f.path.startswith(prefix)), ()
    had = set(record.dist_info_files)
    by_path = {f.path: f for f in files if not f.path.startswith(prefix) or f.path[len(prefix) :] in had}
    for inner, text in record.dist_info_text.items():
        data = text.encode("utf-8", "surrogateescape")
        by_path[prefix + inner] = PlannedFile(prefix + inner, len(data), sha256_bytes(data), content=data)
    return tuple(sorted(by_path.values(), key=lambda f: f.path)), info_files


def _apply_entry(f: PlannedFile, entry: Mapping[str, Any], dist: Distribution | None = None) -> PlannedFile | None:
    """``f`` with its placeholder, file mode, no_link and original interpreter line put back; None on mismatch."""
    interpreter = entry.get("interpreter")
    if interpreter is not None and f.content is not None and f.placeholder:
        found = restore_shebang(f.content, PLACEHOLDER)
        if found is None:
            return None
        content = interpreter.encode("utf-8", "surrogateescape") + f.content[len(found[1]) :]
        if sha256_bytes(content) != entry.get("sha256"):
            return None
        f = dataclasses.replace(f, content=content, size=len(content), sha256=sha256_bytes(content))
    elif interpreter is not None and f.head is not None and f.placeholder and dist is not None and f.member is not None:
        found = restore_shebang(f.head, PLACEHOLDER)  # a streamed script: only its first line is in memory
        if found is None:
            return None
        head = interpreter.encode("utf-8", "surrogateescape") + f.head[len(found[1]) :]
        with dist.open(f.member) as raw:
            stream = HeadReplaced(raw, head, f.skip)  # type: ignore[arg-type]
            size = sum(len(chunk) for chunk in iter(lambda: stream.read(CHUNK), b""))
            sha = stream.sha256
        if sha != entry.get("sha256"):
            return None
        f = dataclasses.replace(f, head=head, size=size, sha256=sha)
    elif entry.get("sha256") not in (None, f.sha256):
        return None
    if entry.get("prefix_placeholder"):
        f = dataclasses.replace(f, placeholder=str(entry["prefix_placeholder"]), file_mode=str(entry.get("file_mode") or "text"))
    if entry.get("no_link"):
        f = dataclasses.replace(f, no_link=True)
    return f
