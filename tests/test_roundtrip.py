"""Lossless round trips, as properties over generated wheels and conda packages, and end to end.

* wheel → conda → wheel gives the same files (paths and sha256), METADATA and file name, and
  converting that wheel again gives the same conda package, byte for byte;
* conda → wheel → conda gives the same ``index.json`` and ``paths.json`` (softlinks, prefix
  placeholders, build strings included); for packages with their own ``.dist-info`` only the
  regenerated ``RECORD`` entry's sha256/size differs (documented);
* the results install with py-rattler and run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.channel.index import index_channel
from bridge.model.roundtrip import CONDA_RECORD
from bridge.pipelines.convert import convert_wheel
from bridge.pipelines.to_wheel import to_wheel
from bridge.plan.types import ConversionOptions
from tests.support.conda_env import HOST_PY, build_conda_package, install, run_in_prefix
from tests.support.wheels import build_wheel, wheel_members
from tests.test_towheel import CP, LINUX_HOST, gpulib

PLACEHOLDER = "/opt/conda-bld/pkg_1700000000/_h_env_placehold_placehold_placehold_placehold"
EXAMPLES = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

names = st.sampled_from(["Demo.Pkg", "gpu_kernels", "x-y"])
segments = st.text("abcdefghij", min_size=1, max_size=6)
contents = st.binary(max_size=3000)


def info_json(pkg: Path, name: str) -> Any:
    from conda_package_streaming.package_streaming import stream_conda_info

    for tar, member in stream_conda_info(str(pkg)):
        if member.name == f"info/{name}":
            return json.loads(tar.extractfile(member).read())  # type: ignore[union-attr]
    raise KeyError(name)


def file_digests(wheel: Path) -> dict[str, str]:
    """Every member but RECORD (regenerated) and the conda record to-wheel adds (consumed by convert)."""
    return {n: hashlib.sha256(d).hexdigest() for n, d in wheel_members(wheel).items() if not n.endswith((".dist-info/RECORD", f".dist-info/{CONDA_RECORD}"))}


# --------------------------------------------------------------------------- wheel → conda → wheel


@st.composite
def wheels(draw: st.DrawFn) -> dict[str, Any]:
    files = draw(st.dictionaries(st.tuples(segments, st.sampled_from([".py", ".so", ".dat"])).map("pkg/{0[0]}{0[1]}".format), contents, min_size=1, max_size=4))
    files["pkg/__init__.py"] = b"def main():\n    return 0\n"
    scripts = draw(st.dictionaries(segments.map("script-{}".format), st.sampled_from([b"#!python\nprint(1)\n", b"#!/bin/sh\necho hi\n", b"#!python -u\nimport sys\n"]), max_size=2))
    data = {
        "scripts": scripts,
        "data": draw(st.dictionaries(st.sampled_from(["share/x/a.txt", "bin/tool-data", "include/pkg/x.h"]), contents, max_size=2)),
        "headers": draw(st.dictionaries(st.sampled_from(["api.h", "sub/impl.h"]), contents, max_size=1)),
    }
    return {
        "name": draw(names),
        "version": draw(st.sampled_from(["1.0", "2.9.1", "0.1.dev3", "3.0.post2"])) + draw(st.sampled_from(["", "+cu124", "+rocm7.11.0a20260104"])),
        "tag": draw(
            st.sampled_from(
                ["py3-none-any", f"{CP}-{CP}-manylinux_2_17_x86_64.manylinux2014_x86_64", "cp312-cp312-win_amd64", "cp310-abi3-macosx_11_0_arm64", "py3-none-manylinux_2_28_x86_64", "cp313-cp313t-linux_aarch64"]
            )
        ),
        "files": files,
        "data": {k: v for k, v in data.items() if v},
        "entry_points": draw(st.sampled_from([{}, {"console_scripts": {"ep-run": "pkg:main"}}, {"console_scripts": {"ep-run": "pkg:main"}, "gui_scripts": {"ep-gui": "pkg:main"}}])),
        "requires_dist": draw(st.sampled_from([[], ["numpy>=1.21"], ['tomli; python_version < "3.11"', "requests[socks]>=2"]])),
        "build_tag": draw(st.sampled_from([None, "1", "7x"])),
        "license_files": draw(st.sampled_from([{}, {"LICENSE": "MIT\n"}])),
    }


@EXAMPLES
@given(spec=wheels())
def test_wheel_conda_wheel(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wheel = build_wheel(root / "w", **spec)
        first = convert_wheel(wheel, root / "c1", ConversionOptions())
        assert first.ok, first.error
        for pkg in first.outputs:
            back = to_wheel(pkg, root / "w2" / pkg.stem).outputs[0]
            assert back.name == wheel.name
            assert file_digests(back) == file_digests(wheel)
            again = convert_wheel(back, root / "c2" / pkg.stem, ConversionOptions())
            assert again.ok, again.error
            (same,) = [p for p in again.outputs if p.name == pkg.name]
            assert same.read_bytes() == pkg.read_bytes()  # about.json keeps the first wheel's provenance


# --------------------------------------------------------------------------- conda → wheel → conda

TARGETS = {
    "noarch": ("site-packages", "python-scripts", {"noarch": "python", "depends": ["python >=3.9"]}, "pyh0123456_0"),
    "linux-64": ("lib/python3.12/site-packages", "bin", {"depends": ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312", "__glibc >=2.17"]}, "py312_rocm7.11_gfx103X_0"),
    "osx-arm64": ("lib/python3.11/site-packages", "bin", {"depends": ["python_abi 3.11.* *_cp311"]}, "cuda126_py311h1a2b3c4_3"),
    "win-64": ("Lib/site-packages", "Scripts", {"depends": ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"]}, "py312h0123456_0"),
}


@st.composite
def conda_packages(draw: st.DrawFn) -> dict[str, Any]:
    subdir = draw(st.sampled_from(sorted(TARGETS)))
    site, scripts, index, build = TARGETS[subdir]
    files: dict[str, bytes] = {f"{site}/mod/__init__.py": b"X = 1\n"}
    files |= draw(st.dictionaries(segments.map(lambda s: f"{site}/mod/{s}.so"), contents, max_size=3))
    files |= draw(st.dictionaries(segments.map(lambda s: f"share/mod/{s}"), contents, max_size=2))
    placeholders: dict[str, str] = {}
    exe = "python.exe" if subdir.startswith("win-") else "bin/python3.12"
    for name in draw(st.lists(segments, max_size=2, unique=True)):
        files[f"{scripts}/run-{name}"] = f"#!{PLACEHOLDER}/{exe}\nimport mod\n".encode()
        placeholders[f"{scripts}/run-{name}"] = PLACEHOLDER
    if draw(st.booleans()):
        files[f"{scripts}/plain.sh"] = b"#!/bin/sh\necho plain\n"
    symlinks: dict[str, str] = {}
    if not subdir.startswith("win-"):  # conda packages for Windows carry no links
        libs = [p for p in files if p.endswith(".so")]
        for i, target in enumerate(draw(st.lists(st.sampled_from(libs), max_size=3)) if libs else []):
            symlinks[f"{target}.{i}"] = target.rsplit("/", 1)[1]
        if symlinks and draw(st.booleans()):
            first = sorted(symlinks)[0]
            symlinks[f"lib/libmod-{subdir}.so"] = f"../{first}"  # data → site-packages, through a link chain
    number = int(build.rsplit("_", 1)[1])
    depends = index["depends"] + draw(st.sampled_from([[], ["numpy >=1.21,<2.0a0", "libgcc-ng >=12"], ["pytorch * cuda*"]]))
    return {
        "subdir": subdir,
        "index": {"name": draw(st.sampled_from(["mod", "gpu-mod"])), "version": draw(st.sampled_from(["1.0", "2.9.1", "7.11.0a20260104"])), "build": build, "build_number": number, **index, "depends": depends},
        "files": files,
        "symlinks": symlinks,
        "placeholders": placeholders,
        "about": draw(st.sampled_from([None, {"summary": "A module", "home": "https://example.org", "extra": {"recipe-maintainers": ["x"]}}])),
        "own_dist_info": draw(st.booleans()),
    }


def _with_dist_info(spec: dict[str, Any]) -> None:
    site = TARGETS[spec["subdir"]][0]
    name, version = spec["index"]["name"], spec["index"]["version"]
    di = f"{site}/{name.replace('-', '_')}-{version}.dist-info"
    spec["files"] |= {
        f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{di}/INSTALLER": b"conda\n",
        f"{di}/direct_url.json": b'{"url": "file:///src"}',
        f"{di}/RECORD": b"mod/__init__.py,,\n",
    }


@EXAMPLES
@given(spec=conda_packages())
def test_conda_wheel_conda(spec: dict[str, Any]) -> None:
    if spec["own_dist_info"]:
        _with_dist_info(spec)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scripts = [p for p in spec["files"] if p.startswith(TARGETS[spec["subdir"]][1] + "/")]  # installers make scripts executable
        pkg = build_conda_package(
            root / spec["subdir"], spec["index"], spec["files"], symlinks=spec["symlinks"], placeholders=spec["placeholders"], about=spec["about"], executable=scripts
        )
        wheel = to_wheel(pkg, root / "wheels").outputs[0]
        back = convert_wheel(wheel, root / "back", ConversionOptions())
        assert back.ok, back.error
        (again,) = back.outputs
        assert again.name == pkg.name and again.parent.name == pkg.parent.name or back.detail.packages[0].subdir == spec["subdir"]
        assert info_json(again, "index.json") == info_json(pkg, "index.json")
        if spec["about"] is not None:
            assert info_json(again, "about.json") == info_json(pkg, "about.json")  # verbatim: no provenance added
        regenerated = ("/RECORD",) if spec["own_dist_info"] else ()
        assert _masked(info_json(again, "paths.json"), regenerated) == _masked(info_json(pkg, "paths.json"), regenerated)
        # and a second trip changes nothing at all
        assert to_wheel(again, root / "wheels2").outputs[0].read_bytes() == wheel.read_bytes()


def _masked(paths: dict[str, Any], regenerated: tuple[str, ...]) -> list[dict[str, Any]]:
    entries = sorted(paths["paths"], key=lambda e: e["_path"])
    for e in entries:
        if e["_path"].endswith(regenerated) and ".dist-info/" in e["_path"]:
            e.pop("sha256", None)
            e.pop("size_in_bytes", None)
    return entries


def test_bytecode_is_the_documented_difference(tmp_path: Path) -> None:
    pkg = build_conda_package(
        tmp_path / "noarch",
        {"name": "mod", "version": "1", "build": "py_0", "noarch": "python", "depends": ["python"]},
        {"site-packages/mod/__init__.py": "", "site-packages/mod/__pycache__/__init__.cpython-312.pyc": b"pyc"},
    )
    result = to_wheel(pkg, tmp_path / "w")
    assert any("bytecode" in w for w in result.warnings)
    back = convert_wheel(result.outputs[0], tmp_path / "c", ConversionOptions()).outputs[0]
    assert [e["_path"] for e in info_json(back, "paths.json")["paths"]] == ["site-packages/mod/__init__.py"]


# --------------------------------------------------------------------------- end to end


def _channel(root: Path, packages: list[Path]) -> Path:
    for pkg in packages:
        subdir = info_json(pkg, "index.json")["subdir"]
        (root / subdir).mkdir(parents=True, exist_ok=True)
        shutil.copy2(pkg, root / subdir / pkg.name)
    index_channel(root)
    return root


@pytest.mark.e2e
@pytest.mark.skipif(not LINUX_HOST, reason="runs linux-64 packages")
def test_wheel_conda_wheel_conda_installs_and_runs(tmp_path: Path, base_channel: Path, prefix_factory) -> None:
    wheel = build_wheel(
        tmp_path / "w",
        "Hello.GPU",
        "1.0+rocm7.11.0a20260104",
        tag=f"{CP}-{CP}-manylinux_2_17_x86_64",
        files={"hello_gpu/__init__.py": "def main():\n    print('hello gpu')\n"},
        data={"scripts": {"hello-raw": "#!python\nimport hello_gpu\nhello_gpu.main()\n"}},
        entry_points={"console_scripts": {"hello-gpu": "hello_gpu:main"}},
    )
    (first,) = convert_wheel(wheel, tmp_path / "c1", ConversionOptions()).outputs
    back = to_wheel(first, tmp_path / "w2").outputs[0]
    (second,) = convert_wheel(back, tmp_path / "c2", ConversionOptions()).outputs
    for name in ("index.json", "paths.json"):
        assert info_json(second, name) == info_json(first, name)
    prefix = prefix_factory()
    install([_channel(tmp_path / "channel", [second]), base_channel], ["hello-gpu"], prefix)
    for command in (["hello-gpu"], ["hello-raw"], ["python", "-c", "import hello_gpu; hello_gpu.main()"]):
        proc = run_in_prefix(prefix, *command)
        assert proc.returncode == 0 and proc.stdout == "hello gpu\n", (command, proc.stderr)


@pytest.mark.e2e
@pytest.mark.skipif(not LINUX_HOST, reason="runs linux-64 packages")
def test_conda_wheel_conda_keeps_links_and_runs(tmp_path: Path, base_channel: Path, prefix_factory) -> None:
    pkg = gpulib(tmp_path / "ch", extra_depends=())
    wheel = to_wheel(pkg, tmp_path / "w").outputs[0]
    (back,) = convert_wheel(wheel, tmp_path / "c", ConversionOptions()).outputs
    assert back.name == pkg.name
    prefix = prefix_factory()
    install([_channel(tmp_path / "channel", [back]), base_channel], ["gpulib"], prefix)
    lib = prefix / f"lib/python{HOST_PY}/site-packages/gpulib/lib"
    assert (lib / "libgpu.so").is_symlink() and str((lib / "libgpu.so").readlink()) == "libgpu.so.1"
    assert (prefix / "lib/libgpu.so.1").resolve() == (lib / "libgpu.so.1.2").resolve()
    proc = run_in_prefix(prefix, "gpulib-tool")
    assert proc.returncode == 0 and proc.stdout == "gpulib libgpu12\n", proc.stderr
    assert (prefix / "bin/gpulib-tool").read_text().startswith(f"#!{prefix}/bin/python{HOST_PY} -s\n")


@pytest.mark.parametrize("tag", ["py3-none-any", f"{CP}-{CP}-manylinux_2_17_x86_64.manylinux2014_x86_64"])
def test_conda_wheel_conda_is_byte_identical_and_republishes_unchanged(tmp_path: Path, tag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """convert wheel → A; to-wheel A → W; convert W → B: A == B, and publishing B next to A is a no-op."""
    from bridge.cli import main

    wheel = build_wheel(
        tmp_path / "w",
        "Rich.Demo",
        "13.9.4",
        tag=tag,
        files={"rich_demo/__init__.py": "def main():\n    print('rich')\n"},
        data={"scripts": {"rich-raw": "#!python\nimport rich_demo\n"}},
        entry_points={"console_scripts": {"rich-demo": "rich_demo:main"}},
        requires_dist=["pygments>=2", 'ipywidgets>=7; extra == "jupyter"'],
        metadata_fields=[("Provides-Extra", "jupyter")],
    )
    first = convert_wheel(wheel, tmp_path / "a", ConversionOptions())
    (a,) = [p for p in first.outputs if "-with-" not in p.name]
    w = to_wheel(a, tmp_path / "wheels").outputs[0]
    assert w.name == wheel.name
    second = convert_wheel(w, tmp_path / "b", ConversionOptions())
    (b,) = [p for p in second.outputs if "-with-" not in p.name]
    assert b.name == a.name and b.read_bytes() == a.read_bytes()
    assert {p.name: p.read_bytes() for p in second.outputs} == {p.name: p.read_bytes() for p in first.outputs}  # the extras package too
    assert info_json(b, "about.json")["extra"]["wheel2conda"]["source_sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    channel = tmp_path / "channel"
    assert main(["publish", "-q", str(a), "--channel", str(channel)]) == 0
    capsys.readouterr()
    assert main(["publish", "--json", str(b), "--channel", str(channel)]) == 0
    (item,) = json.loads(capsys.readouterr().out)["items"]
    assert item["status"] == "unchanged", item


# --------------------------------------------------------------------------- directory links


def _with_directory_link(root: Path) -> Path:
    """rocm-sdk-devel's shape: ``llvm -> lib/llvm`` at the prefix, ``include/hip_legacy -> hip``, and a
    file link that goes through the directory link."""
    site = f"lib/python{HOST_PY}/site-packages"
    xy = HOST_PY.replace(".", "")
    return build_conda_package(
        root / "linux-64",
        {"name": "sdk-devel", "version": "7.11.0", "build": f"py{xy}_0", "depends": [f"python_abi {HOST_PY}.* *_cp{xy}", "__glibc >=2.17"]},
        {
            f"{site}/sdk_devel/__init__.py": "import os, sys\nROOT = sys.prefix\n",
            "lib/llvm/bin/clang": b"#!/bin/sh\necho clang 20\n",
            "lib/llvm/lib/libLLVM.so.20": b"\x7fELF llvm",
            "include/hip/hip_runtime.h": "/* hip */\n",
        },
        symlinks={"llvm": "lib/llvm", "include/hip_legacy": "hip", "bin/clang": "../llvm/bin/clang"},
        executable=["lib/llvm/bin/clang"],
    )


def test_directory_links_survive_to_wheel_in_the_links_manifest(tmp_path: Path) -> None:
    pkg = _with_directory_link(tmp_path / "ch")
    wheel = to_wheel(pkg, tmp_path / "w").outputs[0]
    members = wheel_members(wheel)
    links = members["sdk_devel-7.11.0.dist-info/LINKS"].decode().splitlines()
    assert "sdk_devel-7.11.0.data/data/llvm/,lib/llvm" in links and "sdk_devel-7.11.0.data/data/include/hip_legacy/,hip" in links
    assert members["sdk_devel-7.11.0.data/data/bin/clang"] == b"#!/bin/sh\necho clang 20\n"  # a file link through the directory link: a copy
    assert not any(name.startswith("sdk_devel-7.11.0.data/data/llvm/") for name in members)  # the tree is not copied
    (back,) = convert_wheel(wheel, tmp_path / "c", ConversionOptions()).outputs
    paths = {e["_path"]: e for e in info_json(back, "paths.json")["paths"]}
    assert paths["llvm"]["path_type"] == "softlink" and paths["include/hip_legacy"]["path_type"] == "softlink"
    assert info_json(back, "paths.json") == info_json(pkg, "paths.json")
    # not restored (another build number): the links come back from LINKS alone
    (other,) = convert_wheel(wheel, tmp_path / "c2", ConversionOptions(build_number=3)).outputs
    paths = {e["_path"]: e for e in info_json(other, "paths.json")["paths"]}
    assert paths["llvm"]["path_type"] == "softlink"


@pytest.mark.e2e
@pytest.mark.skipif(not LINUX_HOST, reason="runs linux-64 packages")
def test_directory_link_comes_back_as_a_link_that_resolves(tmp_path: Path, base_channel: Path, prefix_factory) -> None:
    pkg = _with_directory_link(tmp_path / "ch")
    wheel = to_wheel(pkg, tmp_path / "w").outputs[0]
    (back,) = convert_wheel(wheel, tmp_path / "c", ConversionOptions()).outputs
    prefix = prefix_factory()
    install([_channel(tmp_path / "channel", [back]), base_channel], ["sdk-devel"], prefix)
    assert (prefix / "llvm").is_symlink() and str((prefix / "llvm").readlink()) == "lib/llvm"
    assert (prefix / "llvm" / "bin" / "clang").read_bytes() == b"#!/bin/sh\necho clang 20\n"
    assert (prefix / "include/hip_legacy/hip_runtime.h").read_text() == "/* hip */\n"
    proc = run_in_prefix(prefix, "clang")
    assert proc.returncode == 0 and proc.stdout == "clang 20\n", proc.stderr


@pytest.mark.parametrize(("row", "problem"), [("../../etc/x/,lib", "unsafe link path"), ("pkg/evil,../../../../../etc/passwd", "unsafe link target"), ("pkg/__init__.py/,x", "files at or below it")])
def test_hostile_links_rows_without_a_copy_are_refused(tmp_path: Path, row: str, problem: str) -> None:
    from bridge.core.errors import BadInput

    wheel = build_wheel(tmp_path / "w", "pkg", "1.0", files={"pkg/__init__.py": ""}, extra_dist_info={"LINKS": row + "\n"})
    result = convert_wheel(wheel, tmp_path / "c", ConversionOptions())
    assert isinstance(result.error, BadInput) and problem in result.error.reason, result.error
