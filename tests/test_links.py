"""Symlinks in converted packages: devel tarball expansion, alias dedup, SONAME links, link safety."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest
from conda_package_streaming.package_streaming import stream_conda_component

from bridge.binary.elf import is_elf, soname
from bridge.channel.publish import publish
from bridge.cli import main
from bridge.pipelines.convert import convert_wheel, plan_wheel
from bridge.plan.types import ConversionOptions, LinkOptions
from tests.links_support import CORE_FILES, DEVEL_ENTRIES, PLATFORM_TAG, core_wheel, devel_wheel, expected_devel_tree, minimal_elf
from tests.support.conda_env import HOST_PY, HOST_SUBDIR, install, run_in_prefix

pytestmark = pytest.mark.skipif(HOST_SUBDIR != "linux-64", reason="installs linux-64 packages and runs them")

OPTIONS = ConversionOptions()
#: runtime.h's target goes through the directory link hip_legacy; it is stored as the path the OS reaches.
NORMALISED = {"_rocm_sdk_devel/include/runtime.h": "hip/hip_runtime.h"}


def pkg_members(path: Path) -> dict[str, tarfile.TarInfo]:
    return {m.name: m for _, m in stream_conda_component(str(path), component="pkg")}


def info_json(path: Path, name: str) -> dict:
    for tar, m in stream_conda_component(str(path), component="info"):
        if m.name == f"info/{name}":
            return json.load(tar.extractfile(m))  # type: ignore[arg-type]
    raise KeyError(name)


def convert(wheel: Path, out: Path, **link_options: bool) -> Path:
    options = ConversionOptions(links=LinkOptions(**link_options))
    done = convert_wheel(wheel, out, options)
    assert done.ok, done.error
    (path,) = done.outputs
    return path


# --------------------------------------------------------------------------- ELF


def test_elf_soname() -> None:
    assert soname(io.BytesIO(minimal_elf("libfoo.so.1"))) == "libfoo.so.1"
    assert soname(io.BytesIO(minimal_elf(None))) is None
    assert soname(io.BytesIO(b"\x7fELF" + b"\x02" * 100)) is None  # truncated/garbage
    assert soname(io.BytesIO(b"#!/bin/sh\n")) is None
    assert is_elf(minimal_elf(None)[:4]) and not is_elf(b"MZ\x90\x00")


# --------------------------------------------------------------------------- rocm-sdk-devel


def test_devel_tarball_planned_as_files_and_links(tmp_path: Path) -> None:
    (pkg,) = plan_wheel(devel_wheel(tmp_path), OPTIONS)
    by_path = {f.path.removeprefix("site-packages/"): f for f in pkg.files}
    assert "rocm_sdk_devel/_devel.tar" not in by_path
    files, links = expected_devel_tree()
    for name, content in files.items():
        assert by_path[name].target is None and by_path[name].size == len(content)
    for name, target in links.items():
        assert by_path[name].target == NORMALISED.get(name, target)
    assert by_path["_rocm_sdk_devel/bin/hipcc"].mode == 0o755
    record = next(f for f in pkg.files if f.path.endswith(".dist-info/RECORD")).content
    assert record is not None
    rows = {line.split(",")[0] for line in record.decode().splitlines()}
    assert {*files, *links} <= rows  # RECORD lists every expanded file and link
    assert not pkg.warnings


@pytest.mark.parametrize("compression", ["", "xz"])
def test_devel_tarball_package_content(tmp_path: Path, compression: str) -> None:
    out = convert(devel_wheel(tmp_path / "w", compression=compression), tmp_path / "out")
    members = pkg_members(out)
    files, links = expected_devel_tree()
    for name, target in links.items():
        m = members[f"site-packages/{name}"]
        assert m.issym() and m.linkname == NORMALISED.get(name, target)
    for name in files:
        assert members[f"site-packages/{name}"].isreg()
    paths = {p["_path"]: p for p in info_json(out, "paths.json")["paths"]}
    runtime = paths["site-packages/_rocm_sdk_devel/include/runtime.h"]
    assert runtime["path_type"] == "softlink" and runtime["size_in_bytes"] == len(files["_rocm_sdk_devel/include/hip/hip_runtime.h"])
    assert "sha256" not in paths["site-packages/_rocm_sdk_devel/lib/libamdhip64.so.7"]  # a sibling package's file


@pytest.mark.e2e
def test_devel_and_core_install_with_links(tmp_path: Path, base_channel: Path, prefix_factory) -> None:
    wheels = tmp_path / "wheels"
    outputs = [convert(core_wheel(wheels), tmp_path / "out"), convert(devel_wheel(wheels), tmp_path / "out")]
    channel = tmp_path / "channel"
    publish(channel, outputs)
    prefix = prefix_factory()
    install([channel, base_channel], ["rocm-sdk-devel", f"python {HOST_PY}.*"], prefix)
    site = prefix / "lib" / f"python{HOST_PY}" / "site-packages"

    files, links = expected_devel_tree()
    for name, content in files.items():  # what rocm_sdk's expansion would have written
        assert not (site / name).is_symlink() and (site / name).read_bytes() == content
    for name, target in links.items():
        assert os.readlink(site / name) == NORMALISED.get(name, target)
    # links into the sibling package resolve inside the environment's site-packages
    assert (site / "_rocm_sdk_devel/lib/libamdhip64.so").read_bytes() == CORE_FILES["_rocm_sdk_core/lib/libamdhip64.so.7"]
    assert (site / "_rocm_sdk_devel/lib/llvm/bin/clang").read_bytes() == CORE_FILES["_rocm_sdk_core/lib/llvm/bin/clang"]
    assert (site / "_rocm_sdk_devel/include/runtime.h").read_bytes() == files["_rocm_sdk_devel/include/hip/hip_runtime.h"]
    assert (site / "_rocm_sdk_devel/lib/libamdhip64.so").resolve().is_relative_to(site.resolve())

    # rocm_sdk skips expansion: marker present, no tarball; RECORD lists exactly what is installed
    assert (site / "_rocm_sdk_devel/__init__.py").is_file()
    assert not list((site / "rocm_sdk_devel").glob("_devel.tar*"))
    script = (
        "import importlib.metadata as md, os, sys\n"
        "site = sys.argv[1]\n"
        "recorded = {str(p) for p in md.files('rocm-sdk-devel') if str(p).startswith('_rocm_sdk_devel/')}\n"
        "present = set()\n"
        "for root, dirs, names in os.walk(os.path.join(site, '_rocm_sdk_devel')):\n"
        "    names += [d for d in dirs if os.path.islink(os.path.join(root, d))]\n"
        "    present |= {os.path.relpath(os.path.join(root, n), site) for n in names if '__pycache__' not in root}\n"
        "assert recorded == present, (sorted(recorded ^ present))\n"
        "import _rocm_sdk_devel, rocm_sdk_devel\n"
        "print('ok')\n"
    )
    proc = run_in_prefix(prefix, "python", "-c", script, str(site))
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize("tag", ["py3-none-win_amd64", "py3-none-any"])
def test_devel_tarball_kept_where_links_are_impossible(tmp_path: Path, tag: str) -> None:
    fixed = devel_wheel(tmp_path, tag=tag)
    (pkg,) = plan_wheel(fixed, OPTIONS)
    assert any(f.path.endswith("rocm_sdk_devel/_devel.tar") for f in pkg.files)
    assert not any(f.is_link for f in pkg.files)
    assert any("left unexpanded" in w for w in pkg.warnings)


def test_no_expand_devel_keeps_tarball(tmp_path: Path) -> None:
    (pkg,) = plan_wheel(devel_wheel(tmp_path), ConversionOptions(links=LinkOptions(expand_devel=False)))
    assert [f.path for f in pkg.files if "/_devel" in f.path or "_rocm_sdk_devel" in f.path] == ["site-packages/rocm_sdk_devel/_devel.tar"]


# --------------------------------------------------------------------------- link safety

ESCAPES = {
    "absolute": ([("_rocm_sdk_devel/evil", "/etc/passwd", 0o777)], "absolute link target"),
    "outside the package": ([("_rocm_sdk_devel/evil", "../../../../../etc/passwd", 0o777)], "outside the package"),
    "outside site-packages": ([("_rocm_sdk_devel/evil", "../../bin/python", 0o777)], "leaves site-packages/"),
    "below a link": ([("_rocm_sdk_devel/include/hip_legacy/extra.h", b"x", 0o644)], "which is a symlink"),
    "loop": ([("_rocm_sdk_devel/a", "b/x", 0o777), ("_rocm_sdk_devel/b", "a/y", 0o777)], "too many levels"),
    "through a link outside": ([("_rocm_sdk_devel/up", "..", 0o777), ("_rocm_sdk_devel/evil", "up/../bin/python", 0o777)], "leaves site-packages/"),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_link_escape_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    extra, reason = ESCAPES[case]
    wheel = devel_wheel(tmp_path / "w", entries=DEVEL_ENTRIES + extra)
    out = tmp_path / "out"
    assert main(["convert", str(wheel), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"wheel2conda: error: {wheel}: ") and reason in err[0], err
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


# --------------------------------------------------------------------------- dedup and SONAME links

LIB = minimal_elf("libalias.so.1", 2048)
ALIAS_FILES = {
    "aliaslib/__init__.py": "import os\nHERE = os.path.dirname(__file__)\n",
    "aliaslib/lib/libalias.so": LIB,
    "aliaslib/lib/libalias.so.1": LIB,
    "aliaslib/lib/libalias.so.1.2.3": LIB,
    "aliaslib/lib/libother.so.1": minimal_elf("libother.so.1"),  # same stem family? no: another library
    "aliaslib/data/copy-a.bin": b"same" * 100,  # identical, but not an alias chain: stays a file
    "aliaslib/data/copy-b.bin": b"same" * 100,
}


def alias_wheel(make_wheel, tag: str = PLATFORM_TAG) -> Path:
    return make_wheel("aliaslib", "1.0", tag=tag, files=ALIAS_FILES)


def test_alias_chain_dedup(make_wheel, tmp_path: Path) -> None:
    out = convert(alias_wheel(make_wheel), tmp_path / "out")
    members = pkg_members(out)
    lib = "site-packages/aliaslib/lib/"
    assert members[lib + "libalias.so.1.2.3"].isreg()
    assert members[lib + "libalias.so"].linkname == "libalias.so.1.2.3"
    assert members[lib + "libalias.so.1"].linkname == "libalias.so.1.2.3"
    assert members[lib + "libother.so.1"].isreg()
    assert members["site-packages/aliaslib/data/copy-b.bin"].isreg()
    paths = {p["_path"]: p for p in info_json(out, "paths.json")["paths"]}
    assert paths[lib + "libalias.so"]["path_type"] == "softlink"
    assert paths[lib + "libalias.so"]["size_in_bytes"] == len(LIB)
    assert paths[lib + "libalias.so"]["sha256"] == paths[lib + "libalias.so.1.2.3"]["sha256"]

    kept = convert(alias_wheel(make_wheel), tmp_path / "copies", dedup=False)
    assert not any(m.issym() for m in pkg_members(kept).values())


@pytest.mark.e2e
def test_alias_chain_installs_like_pip(make_wheel, tmp_path: Path, base_channel: Path, prefix_factory) -> None:
    channel = tmp_path / "channel"
    publish(channel, [convert(alias_wheel(make_wheel), tmp_path / "out", soname_links=True)])
    prefix = prefix_factory()
    install([channel, base_channel], ["aliaslib", f"python {HOST_PY}.*"], prefix)
    site = prefix / "lib" / f"python{HOST_PY}" / "site-packages"
    for name, content in ALIAS_FILES.items():  # every file reads as pip would have written it
        data = content.encode() if isinstance(content, str) else content
        assert (site / name).read_bytes() == data, name
    assert os.readlink(site / "aliaslib/lib/libalias.so.1") == "libalias.so.1.2.3"
    assert os.readlink(site / "aliaslib/lib/libother.so") == "libother.so.1"  # the SONAME link
    proc = run_in_prefix(prefix, "python", "-c", "import aliaslib, os; print(sorted(os.listdir(os.path.join(aliaslib.HERE, 'lib'))))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(["libalias.so", "libalias.so.1", "libalias.so.1.2.3", "libother.so", "libother.so.1"])


def test_soname_links(make_wheel) -> None:
    files = {
        "nv/lib/libfoo.so.12": minimal_elf("libfoo.so.12", 3 << 20),  # larger than the kept head
        "nv/lib/libbar.so.3": minimal_elf("libelse.so.3"),  # SONAME is not the file name
        "nv/lib/libbaz.so.1": b"not an ELF file",
        "nv/lib/libtwo.so.1": minimal_elf("libtwo.so.1"),  # two versions claim libtwo.so
        "nv/lib/libtwo.so.2": minimal_elf("libtwo.so.2"),
        "nv/lib/libhas.so.1": minimal_elf("libhas.so.1"),
        "nv/lib/libhas.so": b"linker script",
    }
    wheel = make_wheel("nvlike", "1.0", tag="py3-none-manylinux_2_28_x86_64", files=files)
    (pkg,) = plan_wheel(wheel, ConversionOptions(links=LinkOptions(soname_links=True)))
    links = {f.path: f.target for f in pkg.files if f.is_link}
    assert links == {"site-packages/nv/lib/libfoo.so": "libfoo.so.12"}
    (plain,) = plan_wheel(wheel, OPTIONS)
    assert not any(f.is_link for f in plain.files)
    win = make_wheel("nvlike", "1.0", tag="py3-none-win_amd64", files=files)
    (pkg,) = plan_wheel(win, ConversionOptions(links=LinkOptions(soname_links=True)))
    assert not any(f.is_link for f in pkg.files)


# --------------------------------------------------------------------------- rules, table-driven (no I/O)


def _layout(tag: str):
    from packaging.tags import parse_tag

    from bridge.translate.layout import CondaLayout
    from bridge.translate.tags import targets_for_tags

    (target,) = targets_for_tags(frozenset(parse_tag(tag)))
    return CondaLayout(target, "demo")


def _plan(links: dict[str, str], files: tuple[str, ...] = ("site-packages/demo/lib/libx.so.1", "site-packages/demo/include/x.h")):
    from bridge.plan.types import PlannedFile

    planned = [PlannedFile(p, 3, "ab" * 32, content=b"abc") for p in files]
    return planned + [PlannedFile(p, 0, None, 0o777, target=t) for p, t in links.items()]


RULES = [
    # (links, expected normalised targets or the error text)
    ({"site-packages/demo/lib/libx.so": "libx.so.1"}, {"site-packages/demo/lib/libx.so": "libx.so.1"}),
    ({"site-packages/demo/h": "include/./x.h"}, {"site-packages/demo/h": "include/./x.h"}),  # kept verbatim: no link parent on the way
    ({"site-packages/demo/inc": "include", "site-packages/demo/h.h": "inc/x.h"}, {"site-packages/demo/inc": "include", "site-packages/demo/h.h": "include/x.h"}),
    ({"site-packages/demo/core": "../_core/lib/liby.so"}, {"site-packages/demo/core": "../_core/lib/liby.so"}),
    ({"site-packages/demo/abs": "/usr/lib/libc.so.6"}, "absolute link target"),
    ({"site-packages/demo/up": "../../../etc"}, "points outside the package"),
    ({"site-packages/demo/out": "../../python-scripts/x"}, "leaves site-packages/"),
    ({"site-packages/demo/lib": "include"}, "which is a symlink"),
    ({"site-packages/demo/a": "b/x", "site-packages/demo/b": "a/y"}, "too many levels"),
]


@pytest.mark.parametrize("links, expected", RULES)
def test_link_rules(links: dict[str, str], expected) -> None:
    from bridge.core.errors import BadInput
    from bridge.plan.links import check_links

    planned = _plan(links)
    if isinstance(expected, str):
        with pytest.raises(BadInput, match=expected):
            check_links(planned, _layout(PLATFORM_TAG), "w.whl", [])
        return
    warnings: list[str] = []
    checked = {f.path: f for f in check_links(planned, _layout(PLATFORM_TAG), "w.whl", warnings)}
    assert {p: checked[p].target for p in expected} == expected and not warnings
    assert checked.get("site-packages/demo/lib/libx.so", checked["site-packages/demo/lib/libx.so.1"]).size == 3


def test_no_links_made_where_links_are_impossible() -> None:
    from types import SimpleNamespace

    from bridge.plan.links import apply_links

    win = _layout("py3-none-win_amd64")
    plain = SimpleNamespace(conda_record=None)
    planned = _plan({}, files=("site-packages/demo/lib/libx.so", "site-packages/demo/lib/libx.so.1"))
    files, _ = apply_links(plain, win, planned, LinkOptions(), "w.whl")  # type: ignore[arg-type]
    assert not any(f.is_link for f in files)  # identical alias files stay copies on win-64
    source_link = {"site-packages/demo/lib/libx.so": "libx.so.1"}
    copied = {f.path: f for f in apply_links(plain, win, _plan(source_link), LinkOptions(), "w.whl")[0]}  # type: ignore[arg-type]
    assert not copied["site-packages/demo/lib/libx.so"].is_link  # a source's link becomes a copy of its target
    assert copied["site-packages/demo/lib/libx.so"].sha256 == copied["site-packages/demo/lib/libx.so.1"].sha256
    restored = SimpleNamespace(conda_record=object())  # a wheel restoring a recorded conda package exactly
    kept, _ = apply_links(restored, win, _plan(source_link), LinkOptions(), "w.whl")  # type: ignore[arg-type]
    assert {f.path: f.target for f in kept if f.is_link} == source_link


def test_dangling_link_is_kept_with_one_warning() -> None:
    from bridge.plan.links import check_links

    warnings: list[str] = []
    planned = _plan({"site-packages/demo/a": "include/gone.h", "site-packages/demo/b": "include/gone2.h"})
    checked = {f.path: f for f in check_links(planned, _layout(PLATFORM_TAG), "w.whl", warnings)}
    assert checked["site-packages/demo/a"].target == "include/gone.h" and checked["site-packages/demo/a"].sha256 is None
    assert warnings == ["symlink site-packages/demo/a and 1 more: target not in the package (kept dangling, as in the source)"]


@pytest.mark.e2e
def test_rocm_sdk_devel_round_trips_through_to_wheel(tmp_path: Path, base_channel: Path, prefix_factory, capsys) -> None:
    """The converted rocm-sdk-devel (directory links, links into rocm-sdk-core) → to-wheel → convert:
    the same package contents, installed with its links resolving into the sibling package."""
    wheels = tmp_path / "wheels"
    out = tmp_path / "out"
    first = [convert(core_wheel(wheels), out), convert(devel_wheel(wheels), out)]
    assert main(["to-wheel", str(out), "-o", str(tmp_path / "back")]) == 0
    assert "link to a path this package does not hold" in capsys.readouterr().err
    devel_back = next((tmp_path / "back").glob("rocm_sdk_devel-*.whl"))
    import zipfile

    with zipfile.ZipFile(devel_back) as zf:
        rows = zf.read("rocm_sdk_devel-7.11.0a20260104.dist-info/LINKS").decode().splitlines()
    assert "_rocm_sdk_devel/lib/llvm,../../_rocm_sdk_core/lib/llvm" in rows and "_rocm_sdk_devel/include/hip_legacy/,hip" in rows
    assert main(["convert", "-q", str(tmp_path / "back"), "-o", str(tmp_path / "again")]) == 0
    for package in first:
        again = tmp_path / "again" / package.parent.name / package.name
        assert {n: (m.type, m.linkname, m.size, m.mode) for n, m in pkg_members(again).items()} == {
            n: (m.type, m.linkname, m.size, m.mode) for n, m in pkg_members(package).items()
        }
    channel = tmp_path / "channel"
    publish(channel, [tmp_path / "again" / p.parent.name / p.name for p in first])
    prefix = prefix_factory()
    install([channel, base_channel], ["rocm-sdk-devel", f"python {HOST_PY}.*"], prefix)
    site = prefix / "lib" / f"python{HOST_PY}" / "site-packages"
    assert (site / "_rocm_sdk_devel/lib/llvm").is_symlink()
    assert (site / "_rocm_sdk_devel/lib/llvm/bin/clang").read_bytes() == CORE_FILES["_rocm_sdk_core/lib/llvm/bin/clang"]
    assert (site / "_rocm_sdk_devel/include/hip_legacy").is_symlink()
    assert (site / "_rocm_sdk_devel/lib/libamdhip64.so").read_bytes() == CORE_FILES["_rocm_sdk_core/lib/libamdhip64.so.7"]
