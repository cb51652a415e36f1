"""Read a wheel (PEP 427 / binary distribution format) into a :class:`Distribution`.

Nothing is extracted: members are streamed out of the zip on demand and verified against
RECORD while they are read.  Everything that can be checked without reading file contents
(file name, WHEEL, METADATA, RECORD completeness, path safety, duplicates) is checked on open.
"""

from __future__ import annotations

import configparser
import csv
import email.parser
import hashlib
import io
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from .. import roundtrip  # module import: roundtrip imports this package too
from ..digest import CHUNK, parse_record_digest
from ..errors import BadInput
from ..model import Distribution, EntryPoint, Member, Provenance, Scheme
from .paths import check_relative_path

#: dist-info files an installer writes itself; never copied from a source.
REGENERATED = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "RECORD.jws", "RECORD.p7s"})
LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "COPYRIGHT")
#: Hints for refused wheels: broken by whoever built it, or damaged on the way.
MALFORMED = "the wheel breaks the wheel format: rebuild it with a standard build backend (python -m build, pip wheel) or report it to its publisher"
DAMAGED = "the file is damaged: download it again"


@contextmanager
def open_wheel(path: str | Path) -> Iterator[Distribution]:
    """Open ``path`` as a wheel; the returned distribution streams members until exit."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BadInput(path, "no such file") from None
    except IsADirectoryError:
        raise BadInput(path, "is a directory, not a wheel") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadInput(path, f"not a valid zip archive ({exc})", hint="the download may be truncated") from None
    try:
        yield read_wheel(path, zf)
    finally:
        zf.close()


def read_wheel(path: Path, zf: zipfile.ZipFile) -> Distribution:
    where = str(path)
    try:
        name, version, build_tag, tags = parse_wheel_filename(path.name)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise BadInput(where, f"not a wheel file name ({exc})", hint="wheel names look like NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl; rename it as its publisher did") from None

    infos = [i for i in zf.infolist() if not i.is_dir()]
    _check_names(where, infos)
    by_name = {i.filename: i for i in infos}

    dist_info = _find_dist_info(where, by_name, name)
    wheel_meta = _read_wheel_file(where, zf, by_name, dist_info)
    metadata = _read_small(where, zf, by_name, f"{dist_info}/METADATA")
    raw, unparsed = parse_email(metadata)
    fields = _validated_metadata(where, raw, unparsed, name, version)
    record = _read_record(where, zf, by_name, dist_info)

    data_dir = _data_dir(by_name, dist_info)
    members: list[Member] = []
    newest = 0
    license_files: list[str] = []
    for info in infos:
        newest = max(newest, _zip_time(info))
        rel = info.filename
        if rel.startswith(dist_info + "/") and rel[len(dist_info) + 1 :] in REGENERATED:
            continue
        if rel not in record:
            raise BadInput(where, f"{rel}: not listed in RECORD", hint="the wheel was modified after it was built")
        if rel.startswith(dist_info + "/") and rel[len(dist_info) + 1 :] in roundtrip.CONSUMED:
            continue  # LINKS, conda-package.json: applied below, never copied
        if _is_bytecode(rel):
            continue
        scheme, scheme_path = _classify(where, rel, data_dir, wheel_meta["purelib"])
        expected_algo, expected_hex, expected_size = record[rel]
        if expected_size is not None and expected_size != info.file_size:
            raise BadInput(where, f"{rel}: size is {info.file_size} bytes but RECORD says {expected_size}", hint=DAMAGED)
        members.append(
            Member(
                scheme=scheme,
                path=scheme_path,
                size=info.file_size,
                sha256=expected_hex if expected_algo == "sha256" else None,
                mode=_mode(info),
                origin=rel,
            )
        )
        if rel.startswith(dist_info + "/"):
            inner = rel[len(dist_info) + 1 :]
            if inner.startswith("licenses/") or inner.upper().startswith(LICENSE_PREFIXES):
                license_files.append(inner)
    for rel in record:
        if rel not in by_name and not rel.endswith("/"):
            raise BadInput(where, f"{rel}: listed in RECORD but missing from the archive", hint=DAMAGED)
    members, extra = roundtrip.read_wheel_manifests(
        where, dist_info, members, lambda n: _read_small(where, zf, by_name, n) if n in by_name else None
    )
    # Non-sha256 RECORD digests: remember them so reading still verifies.
    other_digests = {rel: (algo, hexd) for rel, (algo, hexd, _) in record.items() if algo and algo != "sha256"}

    def opener(member: Member) -> BinaryIO:
        return _MemberStream(zf.open(by_name[member.origin]), where, member.origin, other_digests.get(member.origin))

    return Distribution(
        name=str(fields["name"]),
        version=Version(str(fields["version"])),
        metadata=metadata,
        summary=str(fields.get("summary") or ""),
        requires_dist=tuple(fields["requires_dist"]),
        requires_python=fields.get("requires_python"),
        provides_extra=tuple(fields.get("provides_extra") or ()),
        tags=frozenset(tags),
        build_tag=build_tag,
        root_is_purelib=wheel_meta["purelib"],
        dist_info=dist_info,
        entry_points=_entry_points(where, zf, by_name, dist_info),
        members=tuple(sorted(members, key=lambda m: (m.scheme.value, m.path))),
        provenance=Provenance(
            path=where,
            filename=path.name,
            sha256=_file_sha256(path),
            size=path.stat().st_size,
            timestamp=newest,
        ),
        opener=opener,
        fields=fields,
        license_files=tuple(sorted(license_files)),
        extra={"wheel_generator": wheel_meta.get("generator", ""), **extra},
    )


def _check_names(where: str, infos: list[zipfile.ZipInfo]) -> None:
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        problem = check_relative_path(name)
        if problem:
            raise BadInput(where, f"unsafe member name {name!r}: {problem}", hint="never install this wheel; report it to its publisher")
        if name in seen:
            raise BadInput(where, f"duplicate member {name!r}", hint=MALFORMED)
        seen.add(name)


def _find_dist_info(where: str, by_name: dict[str, zipfile.ZipInfo], name: str) -> str:
    candidates = sorted({n.split("/", 1)[0] for n in by_name if n.split("/", 1)[0].endswith(".dist-info") and "/" in n})
    if not candidates:
        raise BadInput(where, "no .dist-info directory", hint="this is not a wheel built by a standard build backend")
    if len(candidates) > 1:
        raise BadInput(where, f"several .dist-info directories: {', '.join(candidates)}", hint=MALFORMED)
    dist_info = candidates[0]
    stem = dist_info[: -len(".dist-info")]
    dist_name = stem.rpartition("-")[0] or stem
    if canonicalize_name(dist_name) != name:
        raise BadInput(where, f"file name says {name!r} but the archive holds {dist_info}", hint="the file was renamed: use the name its publisher gave it")
    for required in ("METADATA", "WHEEL", "RECORD"):
        if f"{dist_info}/{required}" not in by_name:
            raise BadInput(where, f"{dist_info}/{required} is missing", hint=MALFORMED)
    return dist_info


def _read_small(where: str, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], name: str) -> bytes:
    info = by_name[name]
    if info.file_size > 64 << 20:
        raise BadInput(where, f"{name} is implausibly large ({info.file_size} bytes)", hint=MALFORMED)
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise BadInput(where, f"{name}: cannot be read ({exc})", hint=DAMAGED) from None


def _read_wheel_file(where: str, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], dist_info: str) -> dict:
    text = _read_small(where, zf, by_name, f"{dist_info}/WHEEL")
    msg = email.parser.BytesParser().parsebytes(text)
    version = msg.get("Wheel-Version")
    if not version:
        raise BadInput(where, f"{dist_info}/WHEEL has no Wheel-Version", hint=MALFORMED)
    try:
        major = int(str(version).strip().split(".")[0])
    except ValueError:
        raise BadInput(where, f"{dist_info}/WHEEL: invalid Wheel-Version {version!r}", hint=MALFORMED) from None
    if major != 1:
        raise BadInput(where, f"{dist_info}/WHEEL: Wheel-Version {version} is not supported (only 1.x)", hint="convert a wheel built for Wheel-Version 1.x (pip and build backends write 1.0)")
    purelib = str(msg.get("Root-Is-Purelib", "")).strip().lower()
    if purelib not in ("true", "false"):
        raise BadInput(where, f"{dist_info}/WHEEL: Root-Is-Purelib must be true or false, not {purelib!r}", hint=MALFORMED)
    return {"purelib": purelib == "true", "generator": str(msg.get("Generator", "")).strip()}


def _validated_metadata(where: str, raw: dict, unparsed: dict, name: str, version: Version) -> dict:
    """Check the fields conversion relies on; keep the rest as parsed by packaging."""
    meta_name = raw.get("name")
    meta_version = raw.get("version")
    if not meta_name or not meta_version:
        raise BadInput(where, "METADATA lacks Name or Version", hint=MALFORMED)
    if canonicalize_name(meta_name) != name:
        raise BadInput(where, f"file name says {name!r} but METADATA says Name: {meta_name}", hint="the file was renamed: use the name its publisher gave it")
    try:
        parsed_version = Version(meta_version)
    except InvalidVersion:
        raise BadInput(where, f"METADATA Version {meta_version!r} is not a valid PEP 440 version", hint=MALFORMED) from None
    if parsed_version != version:
        raise BadInput(where, f"file name says version {version} but METADATA says {meta_version}", hint="the file was renamed: use the name its publisher gave it")
    fields = dict(raw)
    try:
        fields["requires_dist"] = [Requirement(r) for r in raw.get("requires_dist", [])]
    except InvalidRequirement as exc:
        raise BadInput(where, f"METADATA has an invalid Requires-Dist ({exc})", hint=MALFORMED) from None
    for bad in unparsed.get("requires_dist", []):
        raise BadInput(where, f"METADATA has an invalid Requires-Dist {bad!r}", hint=MALFORMED)
    if raw.get("requires_python"):
        try:
            fields["requires_python"] = SpecifierSet(raw["requires_python"])
        except InvalidSpecifier:
            raise BadInput(where, f"METADATA has an invalid Requires-Python {raw['requires_python']!r}", hint=MALFORMED) from None
    return fields


def _read_record(where: str, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], dist_info: str) -> dict[str, tuple[str | None, str | None, int | None]]:
    text = _read_small(where, zf, by_name, f"{dist_info}/RECORD")
    try:
        rows = list(csv.reader(io.StringIO(text.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(where, f"{dist_info}/RECORD cannot be parsed ({exc})", hint=MALFORMED) from None
    record: dict[str, tuple[str | None, str | None, int | None]] = {}
    for row in rows:
        if not row:
            continue
        if len(row) != 3:
            raise BadInput(where, f"{dist_info}/RECORD: malformed row {row!r}", hint=MALFORMED)
        path, digest, size = row
        if path in record:
            raise BadInput(where, f"{dist_info}/RECORD lists {path!r} twice", hint=MALFORMED)
        base = path.rsplit("/", 1)[-1]
        if path.startswith(dist_info + "/") and base in {"RECORD", "RECORD.jws", "RECORD.p7s"}:
            record[path] = (None, None, None)
            continue
        if not digest:
            raise BadInput(where, f"{dist_info}/RECORD has no hash for {path}", hint=MALFORMED)
        try:
            algo, hexd = parse_record_digest(digest)
            nbytes = int(size) if size else None
        except ValueError as exc:
            raise BadInput(where, f"{dist_info}/RECORD: {path}: {exc}", hint=MALFORMED) from None
        record[path] = (algo, hexd, nbytes)
    return record


def _data_dir(by_name: dict[str, zipfile.ZipInfo], dist_info: str) -> str:
    return dist_info[: -len(".dist-info")] + ".data"


def _classify(where: str, rel: str, data_dir: str, purelib: bool) -> tuple[Scheme, str]:
    if rel.startswith(data_dir + "/"):
        scheme_name, _, inner = rel[len(data_dir) + 1 :].partition("/")
        try:
            scheme = Scheme(scheme_name)
        except ValueError:
            raise BadInput(where, f"{rel}: unknown install scheme {scheme_name!r} in .data", hint=MALFORMED) from None
        if not inner:
            raise BadInput(where, f"{rel}: empty path in .data/{scheme_name}", hint=MALFORMED)
        return scheme, inner
    return (Scheme.PURELIB if purelib else Scheme.PLATLIB), rel


def _is_bytecode(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return "__pycache__" in parts or rel.endswith((".pyc", ".pyo"))


def _mode(info: zipfile.ZipInfo) -> int:
    unix = info.external_attr >> 16
    return 0o755 if (unix & 0o111) and not stat.S_ISDIR(unix) else 0o644


def _zip_time(info: zipfile.ZipInfo) -> int:
    try:
        return int(datetime(*info.date_time, tzinfo=timezone.utc).timestamp())
    except ValueError:
        return 0


def _entry_points(where: str, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], dist_info: str) -> tuple[EntryPoint, ...]:
    name = f"{dist_info}/entry_points.txt"
    if name not in by_name:
        return ()
    return parse_entry_points(where, _read_small(where, zf, by_name, name))


def parse_entry_points(where: str, text: bytes) -> tuple[EntryPoint, ...]:
    """Console and gui scripts from an ``entry_points.txt`` (other groups are kept as a file only)."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise BadInput(where, f"entry_points.txt cannot be parsed ({exc})", hint=MALFORMED) from None
    result: list[EntryPoint] = []
    for group, gui in (("console_scripts", False), ("gui_scripts", True)):
        if not parser.has_section(group):
            continue
        for script, value in parser.items(group):
            target = value.split("[", 1)[0].strip()  # drop deprecated [extras]
            module, _, attr = target.partition(":")
            if not module.strip() or not script.strip():
                raise BadInput(where, f"entry_points.txt: invalid entry point {script} = {value}", hint=MALFORMED)
            result.append(EntryPoint(script.strip(), module.strip(), attr.strip(), gui))
    return tuple(result)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _MemberStream(io.RawIOBase):
    """A zip member stream whose corruption surfaces as :class:`BadInput`.

    CRC and deflate errors name the wheel and the member.  Members whose RECORD digest is
    not sha256 are checked here at end of data (sha256 ones are checked by the consumer).
    """

    def __init__(self, raw: BinaryIO, where: str, label: str, other: tuple[str, str] | None):
        super().__init__()
        self._raw, self._where, self._label = raw, where, label
        self._other = other
        self._hash = hashlib.new(other[0]) if other else None

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        try:
            data = self._raw.read(n)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise BadInput(self._where, f"{self._label}: corrupt data ({exc})", hint=DAMAGED) from None
        if self._hash is not None:
            if data:
                self._hash.update(data)
            elif self._other and self._hash.hexdigest() != self._other[1]:
                raise BadInput(self._where, f"{self._label}: {self._other[0]} does not match RECORD", hint=DAMAGED)
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()
