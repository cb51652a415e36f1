"""Restore what a round-trip record says while planning wheel → conda (the format: :mod:`bridge.model.roundtrip`).

The wheel reader hands over the parsed record (:attr:`Distribution.conda_record`) and the links
of its ``LINKS`` manifest (link members); :func:`finish_plan` checks those links, records the
files whose install scheme a reader of the conda package could not guess (``about.json``
``extra.wheel2conda.schemes``), and puts back the recorded conda identity, placeholders and
dist-info files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.digest import CHUNK, HeadReplaced, sha256_bytes
from ..core.errors import BadInput
from ..model import Distribution, Scheme
from ..model.conda import AboutJson, CondaRecord
from ..model.roundtrip import CONDA_RECORD, resolve_links
from ..translate.layout import PLACEHOLDER
from ..translate.reverse import ReverseLayout, restore_shebang, scheme_exceptions

if TYPE_CHECKING:
    from .wheel_to_conda import CondaPackage, ConversionOptions, PlannedFile


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
    record = dist.conda_record
    if record is not None:
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
