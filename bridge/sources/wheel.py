"""Read a wheel (PEP 427 / binary distribution format) into a :class:`Distribution`.

Nothing is extracted: members are streamed out of the zip on demand and verified against
RECORD while they are read.  Everything that can be checked without reading file contents
(file name, WHEEL, METADATA, RECORD completeness, path safety, duplicates) is checked on open.
"""

from __future__ import annotations

import dataclasses
import io
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, BinaryIO, cast

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion

from ..core.digest import Digests, sha256_file
from ..core.errors import BadInput
from ..core.limits import check_metadata_size, read_capped, require_regular_file
from ..model import Distribution, EntryPoint, Member, Provenance, Scheme
from ..model.conda import CondaRecord
from ..model.paths import check_link_target, check_package_paths, check_relative_path, zip_overlap
from ..model.roundtrip import CONDA_RECORD, CONSUMED, LINKS, parse_links
from ..model.variant import VariantError, WheelVariant, split_variant_filename
from ..translate.entry_points import parse_entry_points
from .distinfo import REGENERATED, is_bytecode, is_license_file, metadata_kwargs, parse_metadata, parse_record, parse_wheel_file

#: Hints for refused wheels: broken by whoever built it, or damaged on the way.
MALFORMED = "the wheel breaks the wheel format: rebuild it with a standard build backend (python -m build, pip wheel) or report it to its publisher"
DAMAGED = "the file is damaged: download it again"


@contextmanager
def open_wheel(path: str | Path, *, hash_source: bool = True) -> Iterator[Distribution]:
    """Open ``path`` as a wheel; the returned distribution streams members until exit.

    ``hash_source=False`` skips the one extra read that records the wheel's own sha256 as
    provenance (``inspect`` and ``--dry-run`` do not need it).
    """
    path = Path(path)
    require_regular_file(path, "wheel")
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BadInput(path, "no such file") from None
    except IsADirectoryError:
        raise BadInput(path, "is a directory, not a wheel") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadInput(path, f"not a valid zip archive ({exc})", hint="the download may be truncated") from None
    except (UnicodeDecodeError, ValueError) as exc:  # the UTF-8 flag on names that are not UTF-8, ...
        raise BadInput(path, f"not a valid zip archive ({type(exc).__name__}: {exc})", hint=MALFORMED) from None
    try:
        overlap = zip_overlap(zf.infolist(), zf.start_dir)
        if overlap:
            raise BadInput(path, f"not a valid zip archive ({overlap})", hint=MALFORMED)
        yield read_wheel(path, zf, hash_source=hash_source)
    finally:
        zf.close()


def read_wheel(path: Path, zf: zipfile.ZipFile, *, hash_source: bool = True) -> Distribution:
    where = str(path)
    plain_name, variant_label = split_variant_filename(path.name)
    try:
        name, version, build_tag, tags = parse_wheel_filename(plain_name)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise BadInput(where, f"not a wheel file name ({exc})", hint="wheel names look like NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl; rename it as its publisher did") from None

    infos = [i for i in zf.infolist() if not i.is_dir()]
    _check_names(where, infos)
    by_name = {i.filename: i for i in infos}

    dist_info = _find_dist_info(where, by_name, name)
    wheel_file = parse_wheel_file(where, _read_small(where, zf, by_name, f"{dist_info}/WHEEL"), label=f"{dist_info}/WHEEL", hint=MALFORMED)
    metadata = _read_small(where, zf, by_name, f"{dist_info}/METADATA")
    fields = parse_metadata(where, metadata, name=name, version=version, hint=MALFORMED)
    record = _read_record(where, zf, by_name, dist_info)
    variant = _read_variant(where, zf, by_name, dist_info, variant_label)

    data_dir = _data_dir(dist_info)
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
        if rel.startswith(dist_info + "/") and rel[len(dist_info) + 1 :] in CONSUMED:
            continue  # LINKS, conda-package.json: applied below, never copied
        if is_bytecode(rel):
            continue
        scheme, scheme_path = _classify(where, rel, data_dir, bool(wheel_file.purelib))
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
        if rel.startswith(dist_info + "/") and is_license_file(rel[len(dist_info) + 1 :]):
            license_files.append(rel[len(dist_info) + 1 :])
    for rel in record:
        if rel not in by_name and not rel.endswith("/"):
            raise BadInput(where, f"{rel}: listed in RECORD but missing from the archive", hint=DAMAGED)
    members, conda_record = _read_round_trip_manifests(
        where,
        dist_info,
        members,
        lambda n: _read_small(where, zf, by_name, n) if n in by_name else None,
        classify=lambda rel: _classify(where, rel, data_dir, bool(wheel_file.purelib)),
    )
    # Non-sha256 RECORD digests: remember them so reading still verifies.
    other_digests = {rel: (algo, hexd) for rel, (algo, hexd, _) in record.items() if algo and hexd and algo != "sha256"}

    def opener(member: Member) -> BinaryIO:
        return cast(BinaryIO, _MemberStream(zf.open(by_name[member.origin]), where, member.origin, other_digests.get(member.origin)))  # a raw stream: read() and close()

    return Distribution(
        **metadata_kwargs(fields),
        metadata=metadata,
        tags=frozenset(tags),
        build_tag=build_tag,
        root_is_purelib=bool(wheel_file.purelib),
        dist_info=dist_info,
        entry_points=_entry_points(where, zf, by_name, dist_info),
        members=tuple(sorted(members, key=lambda m: (m.scheme.value, m.path))),
        provenance=Provenance(
            path=where,
            filename=path.name,
            sha256=sha256_file(path) if hash_source else None,
            size=path.stat().st_size,
            timestamp=newest,
        ),
        opener=opener,
        license_files=tuple(sorted(license_files)),
        conda_record=conda_record,
        variant=variant,
    )


def _read_round_trip_manifests(
    where: str,
    dist_info: str,
    members: list[Member],
    read: Callable[[str], bytes | None],
    classify: Callable[[str], tuple[Scheme, str]] | None = None,
) -> tuple[list[Member], CondaRecord | None]:
    """Apply a wheel's ``LINKS`` to its members and parse its ``conda-package.json``.

    ``read(name)`` returns a dist-info file's bytes (None when absent); ``classify(arcname)``
    gives a directory link's scheme and path (rows ending in ``/``: no member stands for them).
    Returns the members (link members now carry their target, directory links are added) and
    the parsed record (None when the wheel has none).
    """
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
    data = read(f"{dist_info}/{CONDA_RECORD}")
    record = None
    if data is not None:
        try:
            record = CondaRecord.from_bytes(data, where, f"{dist_info}/{CONDA_RECORD}")
        except BadInput as exc:
            raise BadInput(where, exc.reason, hint="the wheel was edited after wheel2conda wrote it: convert the conda package again") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadInput(where, f"{dist_info}/{CONDA_RECORD}: {exc}", hint="the wheel was edited after wheel2conda wrote it: convert the conda package again") from None
    return members, record


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
    clash = check_package_paths(info.filename for info in infos if not info.is_dir())
    if clash:
        raise BadInput(where, f"unsafe member name {clash[0]!r}: {clash[1]}", hint=MALFORMED)


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
    check_metadata_size(where, name, info.file_size)
    try:
        with zf.open(info) as fh:
            return read_capped(fh, where, name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise BadInput(where, f"{name}: cannot be read ({exc})", hint=DAMAGED) from None


def _read_variant(where: str, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], dist_info: str, label: str | None) -> WheelVariant | None:
    """The PEP 825 variant of a wheel whose file name carries a variant label (else None)."""
    if label is None:
        return None
    name = f"{dist_info}/variant.json"
    if name not in by_name:
        raise BadInput(where, f"the file name has variant label {label!r} but the wheel has no {name}", hint=MALFORMED)
    try:
        return WheelVariant.from_raw(_read_small(where, zf, by_name, name), expected_label=label)
    except VariantError as exc:
        raise BadInput(where, f"{name}: {exc}", hint=MALFORMED) from None


def _read_record(where: str, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], dist_info: str) -> dict[str, tuple[str | None, str | None, int | None]]:
    """RECORD as path → (algorithm, hex digest, size); every file but RECORD itself must have a hash."""
    label = f"{dist_info}/RECORD"
    record: dict[str, tuple[str | None, str | None, int | None]] = {}
    for path, digest, size in parse_record(where, _read_small(where, zf, by_name, label), label=label, hint=MALFORMED):
        if path in record:
            raise BadInput(where, f"{label} lists {path!r} twice", hint=MALFORMED)
        if path.startswith(dist_info + "/") and path.rsplit("/", 1)[-1] in {"RECORD", "RECORD.jws", "RECORD.p7s"}:
            record[path] = (None, None, None)
            continue
        if digest is None:
            raise BadInput(where, f"{label} has no hash for {path}", hint=MALFORMED)
        record[path] = (digest[0], digest[1], size)
    return record


def _data_dir(dist_info: str) -> str:
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
    return parse_entry_points(where, _read_small(where, zf, by_name, name), hint=MALFORMED)


class _MemberStream(io.RawIOBase):
    """A zip member stream whose corruption surfaces as :class:`BadInput`.

    CRC and deflate errors name the wheel and the member.  Members whose RECORD digest is
    not sha256 are checked here at end of data (sha256 ones are checked by the consumer).
    """

    def __init__(self, raw: IO[bytes], where: str, label: str, other: tuple[str, str] | None):
        super().__init__()
        self._raw, self._where, self._label = raw, where, label
        self._other = other
        self._hash = Digests(other[0]) if other else None

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
            elif self._other and self._hash.hexdigest(self._other[0]) != self._other[1]:
                raise BadInput(self._where, f"{self._label}: {self._other[0]} does not match RECORD", hint=DAMAGED)
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()
