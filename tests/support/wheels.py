"""Deterministic wheel builder and helpers for crafting broken wheels.

Everything here is written with :mod:`zipfile`, :mod:`csv` and :mod:`configparser`
and is independent of the project under test. Archives are byte-for-byte
reproducible: fixed ZIP timestamps, fixed member order, deflate, Unix modes.

Member order of :func:`build_wheel`: ``files`` (sorted), ``*.data/<scheme>/``
members (sorted), then ``*.dist-info/``: ``METADATA``, ``WHEEL``,
``entry_points.txt``, ``licenses/...``, ``extra_dist_info`` (sorted) and ``RECORD``
last.
"""

from __future__ import annotations

import base64
import configparser
import csv
import hashlib
import io
import re
import shutil
import struct
import warnings
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from packaging.tags import parse_tag

__all__ = [
    "ZIP_DATE_TIME",
    "build_wheel",
    "copy_wheel",
    "corrupt_crc",
    "dist_info_name",
    "escape_name",
    "record_hash",
    "rewrite_wheel",
    "truncate",
    "wheel_members",
]

#: Timestamp written for every member (ZIP stores local time without a zone).
ZIP_DATE_TIME = (2024, 1, 1, 0, 0, 0)
_MODE_EXEC = 0o100755
_MODE_FILE = 0o100644
_SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")


def escape_name(name: str) -> str:
    """Wheel file-name form of a project name: runs of ``-_.`` become ``_``, lower case."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _escape_version(version: str) -> str:
    return version.replace("-", "_")


def dist_info_name(name: str, version: str) -> str:
    """``{escaped name}-{version}``, the stem of ``.dist-info`` and ``.data`` directories."""
    return f"{escape_name(name)}-{_escape_version(version)}"


def record_hash(data: bytes) -> str:
    """RECORD hash field: ``sha256=<urlsafe base64 without padding>``."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _to_bytes(content: bytes | str) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _zinfo(name: str, *, executable: bool, compress_type: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = compress_type
    info.create_system = 3  # Unix, so external_attr carries st_mode
    info.external_attr = (_MODE_EXEC if executable else _MODE_FILE) << 16
    return info


def _record_bytes(members: Iterable[tuple[str, bytes]], record_name: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for name, data in members:
        writer.writerow((name, record_hash(data), len(data)))
    writer.writerow((record_name, "", ""))
    return buf.getvalue().encode("utf-8")


def _metadata(
    name: str,
    version: str,
    summary: str,
    requires_python: str | None,
    requires_dist: Sequence[str],
    license_files: Iterable[str],
    metadata_fields: Sequence[tuple[str, str]],
    description: str,
) -> bytes:
    license_files = list(license_files)
    extra_keys = {key.lower() for key, _ in metadata_fields}
    version_field = "2.4" if license_files or extra_keys & {"license-expression", "license-file"} else "2.1"
    headers: list[tuple[str, str]] = [
        *([] if "metadata-version" in extra_keys else [("Metadata-Version", version_field)]),
        ("Name", name),
        ("Version", version),
        ("Summary", summary),
    ]
    if requires_python is not None:
        headers.append(("Requires-Python", requires_python))
    headers += [("Requires-Dist", req) for req in requires_dist]
    headers += [("License-File", path) for path in license_files]
    headers += list(metadata_fields)
    text = "".join(f"{key}: {value}\n" for key, value in headers)
    return (text + "\n" + description).encode("utf-8")


def _wheel_file(tag: str, root_is_purelib: bool, build_tag: str | None) -> bytes:
    lines = [
        "Wheel-Version: 1.0",
        "Generator: wheel2conda-tests (0.0)",
        f"Root-Is-Purelib: {'true' if root_is_purelib else 'false'}",
    ]
    if build_tag is not None:
        lines.append(f"Build: {build_tag}")
    lines += [f"Tag: {t}" for t in sorted(str(t) for t in parse_tag(tag))]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _entry_points(entry_points: Mapping[str, Mapping[str, str]]) -> bytes:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep entry-point names' case
    parser.read_dict(entry_points)
    buf = io.StringIO()
    parser.write(buf)
    return buf.getvalue().encode("utf-8")


def build_wheel(
    out_dir: Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    files: Mapping[str, bytes | str] = {},
    data: Mapping[str, Mapping[str, bytes | str]] = {},
    entry_points: Mapping[str, Mapping[str, str]] = {},
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    license_files: Mapping[str, str] = {},
    metadata_fields: Sequence[tuple[str, str]] = (),
    summary: str = "A test wheel.",
    description: str = "Long description of a test wheel.\n",
    root_is_purelib: bool | None = None,
    build_tag: str | None = None,
    executable: Collection[str] = (),
    extra_dist_info: Mapping[str, bytes | str] = {},
    record: bool = True,
    filename: str | None = None,
) -> Path:
    """Write a wheel into ``out_dir`` and return its path.

    ``files`` are archive-root paths (modules and packages); ``data`` maps a scheme
    (``scripts``, ``headers``, ``data``, ``purelib``, ``platlib``) to relative paths
    stored under ``{dist}.data/{scheme}/``. ``tag`` may be a compressed tag set.
    ``executable`` lists archive member names stored with mode 755 (all scripts are).
    ``extra_dist_info`` adds (or overrides generated) ``.dist-info`` files.
    METADATA says 2.4 when License-File/License-Expression appear, else 2.1, unless
    ``metadata_fields`` carries its own ``Metadata-Version`` (placed where given).
    ``record=False`` omits RECORD; ``filename`` overrides the wheel's file name.
    """
    tags = parse_tag(tag)  # validates the tag set
    dist = dist_info_name(name, version)
    dist_info = f"{dist}.dist-info"
    if root_is_purelib is None:
        root_is_purelib = all(t.platform == "any" for t in tags)

    executable = set(executable)
    members: list[tuple[str, bytes, bool]] = []
    for path in sorted(files):
        members.append((path, _to_bytes(files[path]), path in executable))
    for scheme in sorted(data):
        for rel in sorted(data[scheme]):
            member = f"{dist}.data/{scheme}/{rel}"
            members.append((member, _to_bytes(data[scheme][rel]), scheme == "scripts" or member in executable))

    meta: dict[str, bytes] = {
        "METADATA": _metadata(
            name, version, summary, requires_python, requires_dist, license_files, metadata_fields, description
        ),
        "WHEEL": _wheel_file(tag, root_is_purelib, build_tag),
    }
    if entry_points:
        meta["entry_points.txt"] = _entry_points(entry_points)
    for path in sorted(license_files):
        meta[f"licenses/{path}"] = _to_bytes(license_files[path])
    for path in sorted(extra_dist_info):
        meta[path] = _to_bytes(extra_dist_info[path])
    if record:
        meta.pop("RECORD", None)  # generated below, always last
    for path, content in meta.items():
        members.append((f"{dist_info}/{path}", content, f"{dist_info}/{path}" in executable))

    if filename is None:
        build = f"-{build_tag}" if build_tag is not None else ""
        filename = f"{escape_name(name)}-{_escape_version(version)}{build}-{tag}.whl"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / filename

    with zipfile.ZipFile(target, "w") as zf:
        for member, content, is_exec in members:
            zf.writestr(_zinfo(member, executable=is_exec), content)
        if record:
            record_name = f"{dist_info}/RECORD"
            zf.writestr(
                _zinfo(record_name, executable=False),
                _record_bytes(((m, c) for m, c, _ in members), record_name),
            )
    return target


def wheel_members(path: Path) -> dict[str, bytes]:
    """Contents of every member of a wheel (last one wins for duplicate names)."""
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def rewrite_wheel(
    src: Path,
    dst: Path,
    *,
    drop: Collection[str] = (),
    replace: Mapping[str, bytes | str] = {},
    add: Sequence[tuple[str, bytes | str]] = (),
    keep_record: bool = True,
) -> Path:
    """Copy ``src`` to ``dst`` member by member, editing it on the way.

    ``drop`` removes members, ``replace`` swaps a member's content (both raise
    ``KeyError`` for names not in ``src``), ``add`` appends members verbatim,
    duplicates and names like ``../evil.py`` or ``/abs.py`` included. With
    ``keep_record`` the original RECORD is copied unchanged (so it may be stale);
    otherwise RECORD is regenerated, in place, from the final members.
    """
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
        names = {i.filename for i in infos}
        missing = (set(drop) | set(replace)) - names
        if missing:
            raise KeyError(f"not in {Path(src).name}: {sorted(missing)}")
        out: list[tuple[zipfile.ZipInfo, bytes]] = []
        for info in infos:
            if info.filename in drop:
                continue
            content = _to_bytes(replace[info.filename]) if info.filename in replace else zin.read(info)
            out.append((_copy_info(info), content))
    for name, content in add:
        out.append((_zinfo(name, executable=False), _to_bytes(content)))

    if not keep_record:
        records = [i for i, (info, _) in enumerate(out) if info.filename.endswith(".dist-info/RECORD")]
        for idx in records:
            info = out[idx][0]
            others = ((i.filename, c) for j, (i, c) in enumerate(out) if j not in records)
            out[idx] = (info, _record_bytes(others, info.filename))

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name: ..."
        with zipfile.ZipFile(dst, "w") as zout:
            for info, content in out:
                zout.writestr(info, content)
    return dst


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = info.compress_type
    new.create_system = info.create_system
    new.external_attr = info.external_attr
    new.comment = info.comment
    return new


def truncate(path: Path, n_bytes: int) -> Path:
    """Cut ``path`` in place to its first ``n_bytes`` bytes (negative: drop that many from the end)."""
    path = Path(path)
    size = path.stat().st_size
    keep = n_bytes if n_bytes >= 0 else max(size + n_bytes, 0)
    with path.open("r+b") as fh:
        fh.truncate(min(keep, size))
    return path


def _data_offset(raw: bytes, info: zipfile.ZipInfo) -> int:
    # local file header: 30 fixed bytes, name and extra lengths at offsets 26 and 28
    name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
    return info.header_offset + 30 + name_len + extra_len


def _read_fails_with_crc(data: bytes, member: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.read(member)
    except zipfile.BadZipFile as exc:
        return "CRC" in str(exc)
    except Exception:  # zlib.error, EOFError: corrupt, but not the CRC failure we want
        return False
    return False


def corrupt_crc(src: Path, dst: Path, member: str) -> Path:
    """Copy ``src`` to ``dst`` with one byte of ``member``'s data flipped.

    The archive still opens and lists normally, but reading ``member`` raises
    ``zipfile.BadZipFile: Bad CRC-32``. For deflated members the flipped position
    is searched so the deflate stream itself stays decodable.
    """
    raw = bytearray(Path(src).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo(member)
    if info.compress_size == 0:
        raise ValueError(f"{member} has no data to corrupt")
    start = _data_offset(bytes(raw), info)
    middle = info.compress_size // 2
    # middle first, then outwards; the last byte of a deflate stream is rarely safe
    order = sorted(range(info.compress_size), key=lambda i: (abs(i - middle), i))
    for pos in order:
        for flip in (0x01, 0x80, 0xFF):
            candidate = bytearray(raw)
            candidate[start + pos] ^= flip
            if _read_fails_with_crc(bytes(candidate), member):
                Path(dst).parent.mkdir(parents=True, exist_ok=True)
                Path(dst).write_bytes(bytes(candidate))
                return Path(dst)
    raise ValueError(f"could not produce a CRC-only corruption of {member}")


def copy_wheel(src: Path, dst_dir: Path, filename: str | None = None) -> Path:
    """Copy a wheel (optionally under another file name) and return the new path."""
    dst = Path(dst_dir) / (filename or Path(src).name)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst
