"""Hostile paths and names: nothing written, renamed or removed outside the output, ever.

Every case crafts one input as an attacker would and asserts the refusal contract (exit 2, one
line on stderr, no traceback, nothing changed outside the work directory — a canary folder next to
it is checked file by file, hard-link counts included — and no unsafe member in anything written):

* the round-trip record of a wheel (``.dist-info/conda-package.json``): ``index`` name, version
  and build that would put the output file elsewhere, ``dist_info_text`` keys that would write
  anywhere, through ``convert`` in every format, with and without ``--channel``;
* ``convert --name``;
* conda packages through ``to-wheel``: METADATA/``index.json`` names, tar member names,
  ``paths.json`` paths, symlinks, case clashes, Windows device names;
* entry points (noarch and arch, wheel → conda and conda → wheel);
* the channel's gate: ``publish``, ``channel verify`` and ``verify`` on such packages.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.hostile_inputs import Guard, TarMember, craft_conda, default_info, record_doc, roundtrip_wheel
from tests.support.wheels import build_wheel

CANARY = "{CANARY}"  # replaced by the canary folder's absolute path
#: Values that must never become (part of) a file name: absolute, escaping, separators, control characters.
UNSAFE_IDENTITY = {
    "absolute": f"{CANARY}/PWN",
    "dotdot": "../../../canary/PWN",
    "slash": "a/b",
    "parent": "..",
    "hidden": ".hidden",
    "backslash": "x\\y",
    "space": "x y",
    "nul": "x\x00y",
    "newline": "x\ny",
    "drive": "C:evil",
}
UNSAFE_PATHS = {
    "dotdot": "../../../../canary/PWN",
    "absolute": f"{CANARY}/PWN",
    "backslash": "a\\..\\..\\PWN",
    "parent": "..",
    "nul": "x\x00y",
    "escape": "\x1b[31mx",
    "dot": "./x",
}


@pytest.fixture
def guard(tmp_path: Path) -> Guard:
    return Guard(tmp_path)


def _fill(guard: Guard, value: str) -> str:
    return value.replace(CANARY, str(guard.canary))


# --------------------------------------------------------------------------- the round-trip record


@pytest.mark.parametrize("fmt", ["conda", "tree"])  # tar.bz2 names its file through the same output_path
@pytest.mark.parametrize("key", sorted(UNSAFE_IDENTITY))
@pytest.mark.parametrize("field", ["name", "version", "build"])
def test_record_identity_never_names_a_file(guard: Guard, capsys, field: str, key: str, fmt: str) -> None:
    wheel = roundtrip_wheel(guard.inputs, record_doc(**{field: _fill(guard, UNSAFE_IDENTITY[key])}))
    line = guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), "--format", fmt)
    assert f"conda-package.json: index: {field}" in line
    assert not guard.out.exists() or not any(p.is_file() for p in guard.out.rglob("*"))


def test_tree_writer_never_renames_outside(guard: Guard, capsys) -> None:
    """The issue's reproduction: a record naming an existing folder outside -o (renamed aside, deleted)."""
    wheel = roundtrip_wheel(guard.inputs, record_doc(name=str(guard.canary / "victim")))
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), "--format", "tree", expect="conda-package.json: index: name")
    assert (guard.canary / "victim-1.0-0" / "keep.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("field", ["name", "build"])
@pytest.mark.parametrize("key", ["absolute", "dotdot", "slash"])
def test_record_identity_with_channel_leaves_nothing(guard: Guard, capsys, field: str, key: str) -> None:
    wheel = roundtrip_wheel(guard.inputs, record_doc(**{field: _fill(guard, UNSAFE_IDENTITY[key])}))
    guard.refused(capsys, "convert", str(wheel), "--channel", str(guard.channel))
    assert not any(p.name.endswith(".conda") for p in guard.work.rglob("*") if "in" not in p.relative_to(guard.work).parts[:1])


@pytest.mark.parametrize("fmt", ["conda", "tree"])
@pytest.mark.parametrize("key", sorted(UNSAFE_PATHS))
def test_record_dist_info_text_keys_are_paths(guard: Guard, capsys, key: str, fmt: str) -> None:
    record = record_doc()
    record["dist_info_text"] = {_fill(guard, UNSAFE_PATHS[key]): "pwned\n"}
    wheel = roundtrip_wheel(guard.inputs, record)
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), "--format", fmt, expect="conda-package.json: dist_info_text")


@pytest.mark.parametrize("key", ["dotdot", "absolute", "backslash"])
@pytest.mark.parametrize("where", ["paths", "dist_info_files"])
def test_record_other_paths(guard: Guard, capsys, key: str, where: str) -> None:
    record = record_doc()
    bad = _fill(guard, UNSAFE_PATHS[key])
    record[where] = {bad: {"sha256": "0" * 64}} if where == "paths" else [bad]
    wheel = roundtrip_wheel(guard.inputs, record)
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), expect=f"conda-package.json: {where}")


@pytest.mark.parametrize("subdir", ["../noarch", "linux-64/../..", "my-os", ""])
def test_record_subdir_from_known_list(guard: Guard, capsys, subdir: str) -> None:
    wheel = roundtrip_wheel(guard.inputs, record_doc(subdir=subdir))
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), expect="conda-package.json: index: subdir")


@pytest.mark.parametrize("entry", ["../../x = m:f", "x = os:system('id')#", "x;rm = m:f", "x = m"])
def test_record_link_entry_points(guard: Guard, capsys, entry: str) -> None:
    record = record_doc()
    record["link"] = {"noarch": {"type": "python", "entry_points": [entry]}, "package_metadata_version": 1}
    wheel = roundtrip_wheel(guard.inputs, record)
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), expect="conda-package.json: link")


def test_valid_record_still_restores(guard: Guard, capsys) -> None:
    """The control case: the same wheel with a valid record converts, inside -o only."""
    wheel = roundtrip_wheel(guard.inputs, record_doc(build="pyh1234567_0"))
    code, lines = guard.run(capsys, "convert", "-q", str(wheel), "-o", str(guard.out))
    assert code == 0, lines
    assert [p.name for p in guard.out.rglob("*.conda")] == ["victim-1.0-pyh1234567_0.conda"]
    guard.outside_unchanged()


# --------------------------------------------------------------------------- convert --name


@pytest.mark.parametrize("fmt", ["conda", "tree"])
@pytest.mark.parametrize("key", sorted(UNSAFE_IDENTITY))
def test_convert_name_option(guard: Guard, capsys, key: str, fmt: str) -> None:
    wheel = build_wheel(guard.inputs, "plain", "1.0", files={"plain/__init__.py": ""})
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), "--format", fmt, "--name", _fill(guard, UNSAFE_IDENTITY[key]), expect="--name")
    assert not guard.out.exists()


# --------------------------------------------------------------------------- conda packages → wheels

SP = "site-packages"


def _noarch_package(guard: Guard, *, name: str = "pkg", members: list[TarMember] | None = None, info_changes: dict | None = None, fmt: str = "conda", stem: str | None = None, subdir: str = "noarch") -> Path:
    members = members if members is not None else [TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n")]
    info = default_info(name=name, subdir=subdir, files=members)
    info["info/index.json"]["noarch"] = "python"
    info["info/link.json"] = {"noarch": {"type": "python"}, "package_metadata_version": 1}
    for key, value in (info_changes or {}).items():
        info[key] = value
    return craft_conda(guard.inputs / subdir, stem or "pkg-1.0-0", info, members, fmt=fmt)


@pytest.mark.parametrize("key", ["absolute", "dotdot", "slash", "parent", "backslash", "space"])
def test_to_wheel_metadata_name(guard: Guard, capsys, key: str) -> None:
    bad = _fill(guard, UNSAFE_IDENTITY[key])
    di = f"{SP}/pkg-1.0.dist-info"
    members = [
        TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n"),
        TarMember(f"{di}/METADATA", f"Metadata-Version: 2.1\nName: {bad}\nVersion: 1.0\n".encode()),
    ]
    pkg = _noarch_package(guard, members=members)
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out), expect="METADATA")
    assert not guard.out.exists()


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
@pytest.mark.parametrize("key", sorted(UNSAFE_IDENTITY))
def test_to_wheel_index_name(guard: Guard, capsys, key: str, fmt: str) -> None:
    pkg = _noarch_package(guard, name=_fill(guard, UNSAFE_IDENTITY[key]), fmt=fmt)
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out), expect="info/index.json: name")
    assert not guard.out.exists()


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
@pytest.mark.parametrize("key", ["dotdot", "absolute", "backslash", "escape"])
def test_to_wheel_tar_member_names(guard: Guard, capsys, key: str, fmt: str) -> None:
    members = [TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n"), TarMember(_fill(guard, UNSAFE_PATHS[key]), b"pwned")]
    pkg = _noarch_package(guard, members=members, fmt=fmt)
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out))
    assert not guard.out.exists()


@pytest.mark.parametrize("key", ["dotdot", "absolute", "backslash", "nul", "escape"])
def test_to_wheel_paths_json_paths(guard: Guard, capsys, key: str) -> None:
    members = [TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n")]
    info = default_info(files=members)
    info["info/paths.json"]["paths"].append({"_path": _fill(guard, UNSAFE_PATHS[key]), "path_type": "hardlink", "size_in_bytes": 1})
    pkg = _noarch_package(guard, members=members, info_changes={"info/paths.json": info["info/paths.json"]})
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out), expect="info/paths.json")


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/etc/passwd", "..\\..\\x"])
def test_to_wheel_symlink_escapes(guard: Guard, capsys, target: str) -> None:
    members = [TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n"), TarMember(f"{SP}/pkg/evil", link=target)]
    pkg = _noarch_package(guard, members=members)
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out))


def test_to_wheel_case_clash(guard: Guard, capsys) -> None:
    members = [TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n"), TarMember(f"{SP}/pkg/Data.txt", b"a"), TarMember(f"{SP}/pkg/data.TXT", b"b")]
    pkg = _noarch_package(guard, members=members)
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out), expect="only in case")


@pytest.mark.parametrize("name", ["CON", "nul.txt", "com1.py"])
def test_windows_device_names_refused_for_win(guard: Guard, capsys, name: str) -> None:
    members = [TarMember(f"Lib/{SP}/pkg/__init__.py", b"X = 1\n"), TarMember(f"Lib/{SP}/pkg/{name}", b"a")]
    info = default_info(subdir="win-64", files=members)
    info["info/index.json"]["depends"] = ["python >=3.12,<3.13.0a0"]
    pkg = craft_conda(guard.inputs / "win-64", "pkg-1.0-0", info, members)
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out), expect="reserved device name")


# --------------------------------------------------------------------------- entry points

BAD_ENTRY_POINTS = {
    "dotdot-name": ("../../x", "m:f"),
    "semicolon-name": ("a;rm -rf", "m:f"),
    "subshell-name": ("$(id)", "m:f"),
    "backtick-name": ("`id`", "m:f"),
    "hidden-name": (".x", "m:f"),
    "call-value": ("x", "os:system('id')#"),
    "path-value": ("x", "../../m:f"),
    "semicolon-value": ("x", "m:f;rm"),
    "space-attr": ("x", "m:f g"),
}


@pytest.mark.parametrize("tag", ["py3-none-any", "cp312-cp312-manylinux_2_17_x86_64"])
@pytest.mark.parametrize("key", sorted(BAD_ENTRY_POINTS))
def test_wheel_entry_points(guard: Guard, capsys, key: str, tag: str) -> None:
    name, value = BAD_ENTRY_POINTS[key]
    wheel = build_wheel(guard.inputs, "eps", "1.0", tag=tag, files={"eps/__init__.py": ""}, entry_points={"console_scripts": {name: value}})
    guard.refused(capsys, "convert", str(wheel), "-o", str(guard.out), expect="entry")


@pytest.mark.parametrize("key", sorted(BAD_ENTRY_POINTS))
def test_link_json_entry_points_to_wheel(guard: Guard, capsys, key: str) -> None:
    name, value = BAD_ENTRY_POINTS[key]
    link = {"noarch": {"type": "python", "entry_points": [f"{name} = {value}"]}, "package_metadata_version": 1}
    pkg = _noarch_package(guard, info_changes={"info/link.json": link})
    guard.refused(capsys, "to-wheel", str(pkg), "-o", str(guard.out), expect="info/link.json")


# --------------------------------------------------------------------------- the channel's gate


def _gate_case(guard: Guard, case: str) -> Path:
    """The crafted package for one gate case (each breaks exactly one rule)."""
    ok = [TarMember(f"{SP}/pkg/__init__.py", b"X = 1\n")]
    build = {
        "dotdot-member": lambda: _noarch_package(guard, members=[*ok, TarMember("../../../canary/PWN", b"x")], stem="a-1.0-0", name="a"),
        "absolute-member": lambda: _noarch_package(guard, members=[*ok, TarMember(str(guard.canary / "PWN"), b"x")], stem="b-1.0-0", name="b"),
        "escaping-link": lambda: _noarch_package(guard, members=[*ok, TarMember(f"{SP}/pkg/x", link="../../../../../canary/a.txt")], stem="c-1.0-0", name="c"),
        "absolute-link": lambda: _noarch_package(guard, members=[*ok, TarMember(f"{SP}/pkg/x", link=str(guard.canary / "a.txt"))], stem="d-1.0-0", name="d"),
        "renamed": lambda: _noarch_package(guard, stem="e-1.0-0", name="other"),
        "fifo-member": lambda: _noarch_package(guard, members=[*ok, TarMember(f"{SP}/pkg/fifo", type=b"6")], stem="f-1.0-0", name="f"),
        "bad-entry-point": lambda: _noarch_package(guard, stem="g-1.0-0", name="g", info_changes={"info/link.json": {"noarch": {"type": "python", "entry_points": ["../x = os:system('id')#"]}}}),
        "unlisted-member": lambda: _noarch_package(guard, stem="h-1.0-0", name="h", info_changes={"info/paths.json": {"paths": [], "paths_version": 1}}),
        "dotdot-paths-json": lambda: _noarch_package(guard, stem="i-1.0-0", name="i", info_changes={"info/paths.json": {"paths": [{"_path": "../../x"}], "paths_version": 1}}),
        "case-clash": lambda: _noarch_package(guard, members=[*ok, TarMember(f"{SP}/pkg/A.py", b""), TarMember(f"{SP}/pkg/a.py", b"")], stem="j-1.0-0", name="j"),
    }
    return build[case]()


GATE_EXPECT = {
    "dotdot-member": "unsafe tar member",
    "absolute-member": "unsafe tar member",
    "escaping-link": "points outside the package",
    "absolute-link": "absolute link target",
    "renamed": "file name does not match info/index.json",
    "fifo-member": "special file",
    "bad-entry-point": "info/link.json",
    "unlisted-member": "in the archive but not in info/paths.json",
    "dotdot-paths-json": "info/paths.json: paths[0]._path",
    "case-clash": "only in case",
}
GATE_CASES = sorted(GATE_EXPECT)


@pytest.mark.parametrize("case", GATE_CASES)
def test_publish_refuses(guard: Guard, capsys, case: str) -> None:
    pkg = _gate_case(guard, case)
    guard.refused(capsys, "publish", str(pkg), "--channel", str(guard.channel), expect=GATE_EXPECT[case])
    assert not (guard.channel / "noarch").exists() or not any(p.suffix == ".conda" for p in (guard.channel / "noarch").iterdir())


@pytest.mark.parametrize("case", ["dotdot-member", "escaping-link", "bad-entry-point", "unlisted-member", "fifo-member"])
def test_verify_refuses_before_installing(guard: Guard, capsys, case: str) -> None:
    pkg = _gate_case(guard, case)
    guard.refused(capsys, "verify", str(pkg), expect=GATE_EXPECT[case])


@pytest.mark.parametrize("case", ["dotdot-member", "escaping-link", "bad-entry-point", "case-clash"])
def test_channel_verify_reports(guard: Guard, capsys, case: str) -> None:
    """A package that got into a channel some other way: index lists it, channel verify reports it."""
    pkg = _gate_case(guard, case)
    (guard.channel / "noarch").mkdir(parents=True)
    shutil.copy(pkg, guard.channel / "noarch" / pkg.name)
    code, _ = guard.run(capsys, "index", str(guard.channel))
    assert code in (0, 1)
    listed = json.loads((guard.channel / "noarch" / "repodata.json").read_text())
    if pkg.name not in listed.get("packages.conda", {}):
        pytest.skip("index already refuses it")  # pragma: no cover
    code, lines = guard.run(capsys, "channel", "verify", str(guard.channel))
    assert code != 0
    guard.outside_unchanged()
    assert pkg.name in guard.stdout + "\n".join(lines)


# --------------------------------------------------------------------------- installed distributions (repack)


def _installed(guard: Guard, *, name: str = "victim", record_extra: str = "") -> Path:
    """A hand-made site-packages holding ``victim-1.0.dist-info`` whose METADATA says ``Name: <name>``."""
    site = guard.work / "env" / "lib" / "python3.12" / "site-packages"
    di = site / "victim-1.0.dist-info"
    di.mkdir(parents=True)
    (site / "victim").mkdir()
    (site / "victim" / "__init__.py").write_text("X = 1\n")
    (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (di / "WHEEL").write_text("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    (di / "RECORD").write_text(f"victim/__init__.py,,\nvictim-1.0.dist-info/METADATA,,\nvictim-1.0.dist-info/WHEEL,,\nvictim-1.0.dist-info/RECORD,,\n{record_extra}")
    return site


@pytest.mark.parametrize("to", ["wheel", "conda"])
@pytest.mark.parametrize("key", ["absolute", "dotdot", "slash", "parent"])
def test_repack_metadata_name(guard: Guard, capsys, key: str, to: str) -> None:
    """The issue's reproduction: ``repack`` named its output after an installed METADATA ``Name``."""
    site = _installed(guard, name=_fill(guard, UNSAFE_IDENTITY[key]))
    guard.refused(capsys, "repack", "victim", "--path", str(site), "--to", to, "-o", str(guard.out), expect="Name")
    assert not guard.out.exists()


@pytest.mark.parametrize("row", ["victim/\x1bevil.py,,", "victim/a\\b.py,,"])
def test_repack_record_paths(guard: Guard, capsys, row: str) -> None:
    site = _installed(guard, record_extra=row + "\n")
    guard.refused(capsys, "repack", "victim", "--path", str(site), "--to", "wheel", "-o", str(guard.out), expect="RECORD")
