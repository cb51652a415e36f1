"""``.dist-info`` facts every reader shares: core metadata, WHEEL, entry points, file roles.

Parsing is done by the field's libraries (``packaging.metadata``, ``email``, ``configparser``);
this module only validates what conversion relies on and turns failures into one-line
:class:`BadInput` errors that name the file.
"""

from __future__ import annotations

import csv
import email.parser
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import BuildTag, canonicalize_name
from packaging.version import InvalidVersion, Version

from ..core.digest import parse_record_digest
from ..core.errors import BadInput

#: dist-info files an installer writes itself; never copied from a source.
REGENERATED = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "RECORD.jws", "RECORD.p7s"})
#: Legacy license file names found directly in ``.dist-info`` (PEP 639 puts them under ``licenses/``).
LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "COPYRIGHT")
#: The fix for a file name that disagrees with its metadata.
RENAMED = "the file was renamed: use the name its publisher gave it"


#: A project name (core metadata spec, "Name"; the rule packaging's ``canonicalize_name(validate=True)``
#: applies, spelt out so that it does not depend on the installed packaging version).
VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)

def is_license_file(inner: str) -> bool:
    """Whether a dist-info-relative path is a license file."""
    return inner.startswith("licenses/") or inner.rsplit("/", 1)[-1].upper().startswith(LICENSE_PREFIXES)


def is_bytecode(path: str) -> bool:
    """``__pycache__`` content and ``.pyc``/``.pyo`` files: never shipped, compiled at install."""
    return "__pycache__" in PurePosixPath(path).parts or path.endswith((".pyc", ".pyo"))


def parse_metadata(
    where: str,
    data: bytes,
    *,
    label: str = "METADATA",
    name: str | None = None,
    version: Version | None = None,
    hint: str | None = None,
) -> dict[str, Any]:
    """Core metadata as parsed by ``packaging``, with Requires-Dist/Requires-Python objects.

    ``name``/``version``, when given (from a file name), must agree with the metadata.
    ``hint`` is the caller's fix for malformed metadata.
    """
    raw, unparsed = parse_email(data)
    meta_name, meta_version = raw.get("name"), raw.get("version")
    if not meta_name or not meta_version:
        raise BadInput(where, f"{label} lacks Name or Version", hint=hint)
    if not VALID_NAME.match(meta_name):
        raise BadInput(where, f"{label} Name {meta_name!r} is not a valid project name", hint=hint)
    if name is not None and canonicalize_name(meta_name) != canonicalize_name(name):
        raise BadInput(where, f"file name says {name!r} but {label} says Name: {meta_name}", hint=RENAMED)
    try:
        parsed = Version(meta_version)
    except InvalidVersion:
        raise BadInput(where, f"{label} Version {meta_version!r} is not a valid PEP 440 version", hint=hint) from None
    if version is not None and parsed != version:
        raise BadInput(where, f"file name says version {version} but {label} says {meta_version}", hint=RENAMED)
    fields: dict[str, Any] = dict(raw)
    for bad in unparsed.get("requires_dist", []):
        raise BadInput(where, f"{label} has an invalid Requires-Dist {bad!r}", hint=hint)
    try:
        fields["requires_dist"] = [Requirement(r) for r in raw.get("requires_dist", [])]
    except InvalidRequirement as exc:
        raise BadInput(where, f"{label} has an invalid Requires-Dist ({exc})", hint=hint) from None
    if raw.get("requires_python"):
        try:
            fields["requires_python"] = SpecifierSet(raw["requires_python"])
        except InvalidSpecifier:
            raise BadInput(where, f"{label} has an invalid Requires-Python {raw['requires_python']!r}", hint=hint) from None
    return fields


def metadata_kwargs(fields: dict[str, Any]) -> dict[str, Any]:
    """The :class:`~bridge.model.Distribution` arguments that come straight from core metadata."""
    return {
        "name": str(fields["name"]),
        "version": Version(str(fields["version"])),
        "summary": str(fields.get("summary") or ""),
        "requires_dist": tuple(fields.get("requires_dist") or ()),
        "requires_python": fields.get("requires_python"),
        "provides_extra": tuple(fields.get("provides_extra") or ()),
        "fields": fields,
    }


@dataclass(frozen=True)
class WheelFile:
    """The ``WHEEL`` file: format version, Root-Is-Purelib, tags, build tag."""

    purelib: bool | None  # None when absent or unreadable (lenient parsing)
    tags: frozenset[Tag]
    build_tag: BuildTag
    generator: str = ""
    tag_lines: tuple[str, ...] = ()  # the Tag lines as written, in order (file names keep this order)


def parse_wheel_file(where: str, data: bytes, *, label: str = "WHEEL", strict: bool = True, hint: str | None = None) -> WheelFile:
    """Parse ``WHEEL``; ``strict`` (a wheel being converted) requires Wheel-Version 1.x and Root-Is-Purelib.

    ``hint`` is the caller's fix for a malformed file.
    """
    msg = email.parser.BytesParser().parsebytes(data)
    if strict:
        version = msg.get("Wheel-Version")
        if not version:
            raise BadInput(where, f"{label} has no Wheel-Version", hint=hint)
        try:
            major = int(str(version).strip().split(".")[0])
        except ValueError:
            raise BadInput(where, f"{label}: invalid Wheel-Version {version!r}", hint=hint) from None
        if major != 1:
            raise BadInput(where, f"{label}: Wheel-Version {version} is not supported (only 1.x)", hint="convert a wheel built for Wheel-Version 1.x (pip and build backends write 1.0)")
    purelib_text = str(msg.get("Root-Is-Purelib", "")).strip().lower()
    if purelib_text not in ("true", "false"):
        if strict:
            raise BadInput(where, f"{label}: Root-Is-Purelib must be true or false, not {purelib_text!r}", hint=hint)
        purelib = None
    else:
        purelib = purelib_text == "true"
    tags: set[Tag] = set()
    lines: list[str] = []
    for value in msg.get_all("Tag") or ():
        try:
            tags |= parse_tag(str(value).strip())
            lines.append(str(value).strip())
        except ValueError:
            if strict:
                raise BadInput(where, f"{label}: invalid Tag {value!r}", hint=hint) from None
    build_tag = parse_build_tag(str(msg.get("Build") or ""))
    return WheelFile(purelib, frozenset(tags), build_tag, str(msg.get("Generator", "")).strip(), tuple(lines))


def parse_build_tag(text: str) -> BuildTag:
    """A wheel build tag (``1``, ``2gpu``) → ``(number, rest)`` as :func:`packaging.utils.parse_wheel_filename` gives it; ``()`` when absent or not led by digits."""
    m = re.fullmatch(r"(\d+)(.*)", text.strip())
    return (int(m.group(1)), m.group(2)) if m else ()


#: A RECORD row: path, ``(algorithm, hex digest)`` or None, size or None.
RecordRow = tuple[str, "tuple[str, str] | None", "int | None"]


def parse_record(where: str, data: bytes, *, label: str = "RECORD", hint: str | None = None) -> Iterator[RecordRow]:
    """Rows of a RECORD file (CSV via the stdlib), digests decoded; empty rows skipped."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(where, f"{label} cannot be parsed ({exc})", hint=hint) from None
    for row in rows:
        if not row:
            continue
        if len(row) != 3:
            raise BadInput(where, f"{label}: malformed row {row!r}", hint=hint)
        path, digest, size = row
        try:
            yield path, (parse_record_digest(digest) if digest else None), (int(size) if size else None)
        except ValueError as exc:
            raise BadInput(where, f"{label}: {path}: {exc}", hint=hint) from None
