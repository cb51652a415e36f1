"""Malformed metadata: a one-line BadInput (exit 2), never "internal error", nothing written.

Crafted as an attacker (or a broken builder) would: ``index.json``/``paths.json`` integers that are
strings, floats, booleans or 1e30; ``paths.json`` that is not a list or has entries without
``_path``; ``about.json``/``link.json`` that are JSON lists; unknown install ``schemes``; non-UTF-8
tar member names; ``repodata.json`` with ``"packages": "abc"``; zips with the UTF-8 flag on names
that are not UTF-8 (one such file must not stop a directory batch) and overlapping central-directory
entries; round-trip records of the wrong shape.  Each case asserts the refusal contract of
:meth:`tests.support.hostile_inputs.Guard.refused`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.hostile_inputs import Guard, TarMember, craft_conda, default_info, overlap_zip, patch_zip_name, raw_name_tar_bz2, record_doc, roundtrip_wheel
from tests.support.wheels import build_wheel

SP = "site-packages"
GOOD = [TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n")]
#: JSON values that are not sane non-negative integers.
BAD_INTS: dict[str, Any] = {"string": "1", "float": 1.5, "bool": True, "huge-float": 1e30, "negative": -1, "huge-int": 10**30, "list": [1], "object": {}}


@pytest.fixture
def guard(tmp_path: Path) -> Guard:
    return Guard(tmp_path)


def _package(guard: Guard, changes: dict[str, Any] | None = None, *, members: list[TarMember] = GOOD, fmt: str = "conda", edit=None) -> Path:
    info = default_info(files=members)
    info["info/index.json"]["noarch"] = "python"
    info["info/link.json"] = {"noarch": {"type": "python"}, "package_metadata_version": 1}
    info["info/about.json"] = {"summary": "s"}
    for key, value in (changes or {}).items():
        info[key] = value
    if edit is not None:
        edit(info)
    return craft_conda(guard.inputs / "noarch", "pkg-1.0-0", info, members, fmt=fmt)


def _commands(guard: Guard, pkg: Path) -> dict[str, list[str]]:
    return {
        "to-wheel": ["to-wheel", str(pkg), "-o", str(guard.out)],
        "publish": ["publish", str(pkg), "--channel", str(guard.channel)],
    }


COMMANDS = ["to-wheel", "publish"]


# --------------------------------------------------------------------------- integers


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", sorted(BAD_INTS))
@pytest.mark.parametrize("field", ["build_number", "timestamp"])
def test_index_integers(guard: Guard, capsys, field: str, kind: str, command: str) -> None:
    pkg = _package(guard, edit=lambda info: info["info/index.json"].__setitem__(field, BAD_INTS[kind]))
    guard.refused(capsys, *_commands(guard, pkg)[command], expect=f"info/index.json: {field}")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", sorted(BAD_INTS))
def test_paths_size_in_bytes(guard: Guard, capsys, kind: str, command: str) -> None:
    pkg = _package(guard, edit=lambda info: info["info/paths.json"]["paths"][0].__setitem__("size_in_bytes", BAD_INTS[kind]))
    guard.refused(capsys, *_commands(guard, pkg)[command], expect="info/paths.json: paths[0].size_in_bytes")


# --------------------------------------------------------------------------- shapes

SHAPES: dict[str, tuple[str, Any, str]] = {  # case → (info file, document, expected text)
    "paths-not-a-list": ("info/paths.json", {"paths": "abc", "paths_version": 1}, "info/paths.json: paths"),
    "paths-an-object": ("info/paths.json", {"paths": {"_path": "x"}, "paths_version": 1}, "info/paths.json: paths"),
    "entry-without-path": ("info/paths.json", {"paths": [{"path_type": "hardlink"}], "paths_version": 1}, "_path: missing"),
    "entry-a-list": ("info/paths.json", {"paths": [["site-packages/pkg/__init__.py"]], "paths_version": 1}, "must be a JSON object"),
    "path-an-int": ("info/paths.json", {"paths": [{"_path": 7}], "paths_version": 1}, "_path: must be a string"),
    "unknown-path-type": ("info/paths.json", {"paths": [{"_path": f"{SP}/pkg/__init__.py", "path_type": "device"}], "paths_version": 1}, "path_type"),
    "bad-sha256": ("info/paths.json", {"paths": [{"_path": f"{SP}/pkg/__init__.py", "sha256": "xyz"}], "paths_version": 1}, "sha256"),
    "paths-version-string": ("info/paths.json", {"paths": [], "paths_version": "1"}, "paths_version"),
    "paths-a-list": ("info/paths.json", [], "info/paths.json"),
    "about-a-list": ("info/about.json", ["summary"], "info/about.json"),
    "about-a-string": ("info/about.json", "summary", "info/about.json"),
    "about-extra-a-list": ("info/about.json", {"extra": []}, "info/about.json: extra"),
    "provenance-a-list": ("info/about.json", {"extra": {"wheel2conda": []}}, "extra.wheel2conda"),
    "unknown-scheme": ("info/about.json", {"extra": {"wheel2conda": {"schemes": {f"{SP}/pkg/__init__.py": "lib64"}}}}, "unknown install scheme"),
    "scheme-path-escapes": ("info/about.json", {"extra": {"wheel2conda": {"schemes": {"../../x": "scripts"}}}}, "schemes"),
    "wheel-tags-a-string": ("info/about.json", {"extra": {"wheel2conda": {"wheel_tags": "py3-none-any"}}}, "wheel_tags"),
    "link-a-list": ("info/link.json", [], "info/link.json"),
    "link-noarch-a-list": ("info/link.json", {"noarch": ["python"]}, "info/link.json: noarch"),
    "entry-points-a-string": ("info/link.json", {"noarch": {"type": "python", "entry_points": "x = m:f"}}, "entry_points"),
    "unknown-noarch-type": ("info/link.json", {"noarch": {"type": "wasm"}}, "noarch.type"),
    "index-a-list": ("info/index.json", [], "info/index.json"),
    "index-null": ("info/index.json", None, "info/index.json"),
    "name-an-int": ("info/index.json", {"name": 7, "version": "1.0", "build": "0", "subdir": "noarch"}, "info/index.json: name"),
    "depends-a-string": ("info/index.json", {"name": "pkg", "version": "1.0", "build": "0", "subdir": "noarch", "depends": "python"}, "depends"),
    "unknown-subdir": ("info/index.json", {"name": "pkg", "version": "1.0", "build": "0", "subdir": "amiga-68k"}, "subdir"),
    "unknown-noarch": ("info/index.json", {"name": "pkg", "version": "1.0", "build": "0", "subdir": "noarch", "noarch": "rust"}, "noarch"),
    "index-not-json": ("info/index.json", b"{name: pkg", "not valid JSON"),
    "index-not-utf8": ("info/index.json", b'{"name": "\xff"}', "not valid JSON"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", sorted(SHAPES))
def test_document_shapes(guard: Guard, capsys, case: str, command: str) -> None:
    name, doc, expect = SHAPES[case]
    pkg = _package(guard, {name: doc})
    guard.refused(capsys, *_commands(guard, pkg)[command], expect=expect)


# --------------------------------------------------------------------------- names that are not UTF-8


@pytest.mark.parametrize("command", COMMANDS)
def test_non_utf8_tar_member_name(guard: Guard, capsys, command: str) -> None:
    info = default_info()
    info["info/index.json"]["noarch"] = "python"
    info["info/paths.json"]["paths"] = [{"_path": f"{SP}/pkg/x.py", "path_type": "hardlink"}]
    pkg = raw_name_tar_bz2(guard.inputs / "noarch", "pkg-1.0-0", info, f"{SP}/pkg/".encode() + b"\xff\xfe.py")
    guard.refused(capsys, *_commands(guard, pkg)[command], expect="not valid UTF-8")


def _wheel(guard: Guard, name: str = "good") -> Path:
    return build_wheel(guard.inputs, name, "1.0", files={f"{name}/__init__.py": "X = 1\n", f"{name}/ab.py": "Y = 2\n"})


def test_zip_utf8_flag_with_invalid_names(guard: Guard, capsys) -> None:
    src = _wheel(guard, "bad")
    bad = patch_zip_name(src, guard.inputs / "bad-1.0-py3-none-any.whl", "bad/ab.py", b"bad/\xff\xfe.py")
    guard.refused(capsys, "convert", str(bad), "-o", str(guard.out), expect="not a valid zip archive")


def test_zip_utf8_flag_does_not_stop_a_batch(guard: Guard, capsys) -> None:
    """One such file in a directory: reported on its own line; the others are converted."""
    src = _wheel(guard, "bad")
    patch_zip_name(src, src, "bad/ab.py", b"bad/\xff\xfe.py")
    _wheel(guard, "good")
    code, lines = guard.run(capsys, "convert", "-q", str(guard.inputs), "-o", str(guard.out))
    assert code == 1, lines
    assert len(lines) == 1 and "bad-1.0-py3-none-any.whl" in lines[0] and "internal error" not in lines[0], lines
    assert [p.name for p in guard.out.rglob("*.conda")] == ["good-1.0-py_0.conda"]
    guard.outside_unchanged()


@pytest.mark.parametrize("command", ["convert", "inspect"])
def test_zip_overlapping_entries(guard: Guard, capsys, command: str) -> None:
    src = _wheel(guard, "bad")
    (guard.inputs / "over").mkdir()
    bad = overlap_zip(src, guard.inputs / "over" / src.name, "bad/ab.py", "bad/__init__.py")
    argv = ["convert", str(bad), "-o", str(guard.out)] if command == "convert" else ["inspect", str(bad)]
    guard.refused(capsys, *argv, expect="overlap")


def test_conda_zip_utf8_flag_with_invalid_names(guard: Guard, capsys) -> None:
    pkg = _package(guard)
    stem = "pkg-1.0-0"
    bad = patch_zip_name(pkg, pkg, f"info-{stem}.tar.zst", f"info-{stem}.tar.zs".encode() + b"\xff")
    guard.refused(capsys, "to-wheel", str(bad), "-o", str(guard.out))


# --------------------------------------------------------------------------- repodata.json

REPODATA: dict[str, Any] = {
    "packages-a-string": {"info": {"subdir": "noarch"}, "packages": "abc"},
    "record-a-string": {"info": {"subdir": "noarch"}, "packages.conda": {"pkg-1.0-0.conda": "abc"}},
    "escaping-file-name": {"info": {"subdir": "noarch"}, "packages.conda": {"../../canary/a.txt": {"name": "a"}}},
    "info-a-list": {"info": [], "packages": {}},
    "removed-a-string": {"info": {"subdir": "noarch"}, "packages": {}, "removed": "abc"},
    "a-list": [],
}


def _channel_with(guard: Guard, doc: Any) -> None:
    (guard.channel / "noarch").mkdir(parents=True)
    (guard.channel / "noarch" / "repodata.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("case", sorted(REPODATA))
@pytest.mark.parametrize("command", ["channel-list", "libs", "verify-channel"])
def test_repodata_shapes(guard: Guard, capsys, case: str, command: str) -> None:
    _channel_with(guard, REPODATA[case])
    argv = {"channel-list": ["channel", "list", str(guard.channel)], "libs": ["libs", str(guard.channel)], "verify-channel": ["verify", str(guard.channel)]}[command]
    guard.refused(capsys, *argv, expect="repodata")


@pytest.mark.parametrize("case", ["packages-a-string", "record-a-string", "escaping-file-name"])
def test_repodata_channel_verify_reports(guard: Guard, capsys, case: str) -> None:
    _channel_with(guard, REPODATA[case])
    code, lines = guard.run(capsys, "channel", "verify", str(guard.channel))
    assert code != 0
    assert not any("internal error" in line or "Traceback" in line for line in lines), lines
    guard.outside_unchanged()


# --------------------------------------------------------------------------- the round-trip record

RECORDS: dict[str, Any] = {
    "not-json": b"{format: 1",
    "not-utf8": b'{"format": 1, "package": "\xff"}',
    "a-list": b"[]",
    "format-a-string": dict(record_doc(), format="1"),
    "index-a-list": dict(record_doc(), index=[]),
    "build-number-a-string": record_doc(build_number="1"),
    "timestamp-huge": record_doc(timestamp=1e30),
    "paths-a-list": dict(record_doc(), paths=[]),
    "dist-info-text-an-int": dict(record_doc(), dist_info_text={"WHEEL": 7}),
    "dist-info-files-a-string": dict(record_doc(), dist_info_files="METADATA"),
    "about-a-list": dict(record_doc(), about=[]),
    "link-a-list": dict(record_doc(), link=[]),
    "package-a-path": dict(record_doc(), package="../../x.conda"),
    "unknown-dist-info-kind": dict(record_doc(), dist_info="borrowed"),
}


@pytest.mark.parametrize("case", sorted(RECORDS))
def test_record_shapes(guard: Guard, capsys, case: str) -> None:
    record = RECORDS[case]
    wheel = roundtrip_wheel(guard.inputs, record if isinstance(record, bytes) else json.dumps(record).encode())
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), expect="conda-package.json")
    assert not guard.out.exists()
