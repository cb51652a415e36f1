"""conda → wheel: layouts, links, scripts, refusals, compression, the CLI, and pip installs.

Conda packages are built with ``build_conda_package`` (conda-package-streaming, independent
of our writer) or, for packages no honest builder makes (escaping or looping links), with
conda-package-streaming's ``conda_builder`` directly.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conda_package_streaming.create import anonymize, conda_builder

import bridge.sinks.zipwriter as zipwriter
from bridge.cli import main
from bridge.core.errors import BadInput, Unsupported
from bridge.pipelines.convert import convert_wheel
from bridge.pipelines.inputs import open_distribution
from bridge.pipelines.to_wheel import ToWheelOptions, convert_to_wheel, to_wheel
from bridge.plan.types import ConversionOptions
from bridge.sinks.settings import WheelCompression, WriteSettings
from bridge.sources.wheel import open_wheel
from tests.support.conda_env import HOST_PY, HOST_SUBDIR, build_conda_package
from tests.support.jsondoc import validate
from tests.support.wheels import build_wheel, wheel_members

PLACEHOLDER = "/home/conda/feedstock_root/build_artifacts/gpulib_1700000000000/_h_env_placehold_placehold_placehold"
CP = "cp" + HOST_PY.replace(".", "")
SP = f"lib/python{HOST_PY}/site-packages"
LINUX_HOST = sys.platform.startswith("linux") and HOST_SUBDIR == "linux-64"


def gpulib(
    out_dir: Path,
    *,
    build: str = f"py{CP[2:]}_rocm7.11_gfx103X_0",
    extra_files: dict | None = None,
    placeholders: dict | None = None,
    extra_depends: tuple[str, ...] = ("numpy >=1.21,<3.0a0", "libgcc-ng >=12"),
    **kw,
) -> Path:
    """An arch package like a conda-forge GPU build: module, shared library with SONAME links,
    a placeholder script, data, a GPU build string; no .dist-info of its own."""
    files = {
        f"{SP}/gpulib/__init__.py": (
            "from pathlib import Path\n"
            "LIB = Path(__file__).with_name('lib') / 'libgpu.so'\n"
            "def main():\n    print('gpulib', LIB.read_bytes()[:8].decode())\n"
        ),
        f"{SP}/gpulib/lib/libgpu.so.1.2": b"libgpu12" + bytes(range(256)) * 40,
        "bin/gpulib-tool": f"#!{PLACEHOLDER}/bin/python{HOST_PY} -s\nimport gpulib\ngpulib.main()\n",
        "share/gpulib/kernels.txt": "gfx1030\n",
        **(extra_files or {}),
    }
    symlinks = {
        f"{SP}/gpulib/lib/libgpu.so.1": "libgpu.so.1.2",
        f"{SP}/gpulib/lib/libgpu.so": "libgpu.so.1",
        "lib/libgpu.so.1": f"python{HOST_PY}/site-packages/gpulib/lib/libgpu.so.1.2",
    }
    index = {
        "name": "gpulib",
        "version": "2.9.1",
        "build": build,
        "depends": [f"python >={HOST_PY},<3.{int(HOST_PY.split('.')[1]) + 1}.0a0", f"python_abi {HOST_PY}.* *_{CP}", "__glibc >=2.17", *extra_depends],
        "license": "MIT",
    }
    return build_conda_package(
        out_dir / "linux-64",
        index,
        files,
        symlinks=symlinks,
        executable=["bin/gpulib-tool"],
        placeholders={"bin/gpulib-tool": PLACEHOLDER, **(placeholders or {})},
        about={"summary": "GPU kernels", "home": "https://example.org/gpulib", "description": "Long description.\n"},
        **kw,
    )


def raw_package(out_dir: Path, index: dict, members: list[tuple[str, bytes | None, str | None]]) -> Path:
    """A .conda with arbitrary ``(path, content, link target)`` members and a matching paths.json."""
    stem = f"{index['name']}-{index['version']}-{index['build']}"
    entries = [{"_path": p, "path_type": "softlink" if t else "hardlink", "sha256": "0" * 64, "size_in_bytes": len(c or b"")} for p, c, t in members]
    info = {"info/index.json": json.dumps({"build_number": 0, "depends": [], "subdir": "linux-64", **index}).encode(), "info/paths.json": json.dumps({"paths": entries, "paths_version": 1}).encode()}
    out_dir.mkdir(parents=True, exist_ok=True)
    with conda_builder(stem, out_dir) as tar:
        for name, data in info.items():
            tar.addfile(anonymize(_info(name, len(data))), io.BytesIO(data))
        for path, content, target in members:
            ti = _info(path, len(content or b""))
            if target:
                ti.type, ti.linkname, ti.size = tarfile.SYMTYPE, target, 0
            tar.addfile(anonymize(ti), io.BytesIO(content) if content is not None else None)
    return out_dir / f"{stem}.conda"


def _info(name: str, size: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = size, 0o644, 1704067200
    return ti


def test_arch_gpu_package(tmp_path: Path) -> None:
    pkg = gpulib(tmp_path / "ch")
    result = to_wheel(pkg, tmp_path / "out")
    assert result.outputs[0].name == f"gpulib-2.9.1+rocm7.11.gfx103x-{CP}-{CP}-manylinux_2_17_x86_64.whl"
    members = wheel_members(result.outputs[0])
    di, data = "gpulib-2.9.1+rocm7.11.gfx103x.dist-info", "gpulib-2.9.1+rocm7.11.gfx103x.data"
    lib = members["gpulib/lib/libgpu.so.1.2"]
    assert members["gpulib/lib/libgpu.so"] == members["gpulib/lib/libgpu.so.1"] == members[f"{data}/data/lib/libgpu.so.1"] == lib
    assert members[f"{data}/scripts/gpulib-tool"] == b"#!python -s\nimport gpulib\ngpulib.main()\n"
    assert members[f"{data}/data/share/gpulib/kernels.txt"] == b"gfx1030\n"
    assert members[f"{di}/LINKS"].decode().splitlines() == [
        f"{data}/data/lib/libgpu.so.1,python{HOST_PY}/site-packages/gpulib/lib/libgpu.so.1.2",
        "gpulib/lib/libgpu.so,libgpu.so.1",
        "gpulib/lib/libgpu.so.1,libgpu.so.1.2",
    ]
    metadata = members[f"{di}/METADATA"].decode()
    assert "Requires-Dist: numpy<3.0,>=1.21\n" in metadata and "libgcc" not in metadata
    assert "Root-Is-Purelib: false" in members[f"{di}/WHEEL"].decode()
    record = json.loads(members[f"{di}/conda-package.json"])
    assert record["index"]["build"] == f"py{CP[2:]}_rocm7.11_gfx103X_0"
    assert record["paths"]["bin/gpulib-tool"]["interpreter"] == f"#!{PLACEHOLDER}/bin/python{HOST_PY}"
    assert any("libgcc-ng" in w for w in result.warnings)
    assert list(members)[-1] == f"{di}/RECORD"
    with open_wheel(result.outputs[0]) as dist:  # our reader verifies every RECORD hash
        assert {m.path: m.target for m in dist.members if m.is_link} == {
            "gpulib/lib/libgpu.so": "libgpu.so.1",
            "gpulib/lib/libgpu.so.1": "libgpu.so.1.2",
            "lib/libgpu.so.1": f"python{HOST_PY}/site-packages/gpulib/lib/libgpu.so.1.2",
        }
        for m in dist.members:
            dist.read(m)


@pytest.mark.skipif(not LINUX_HOST, reason="installs a linux-64 wheel for this interpreter")
def test_pip_installs_and_runs(tmp_path: Path) -> None:
    wheel = to_wheel(gpulib(tmp_path / "ch"), tmp_path / "out").outputs[0]
    target = tmp_path / "target"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile", "--disable-pip-version-check", "--target", str(target), str(wheel)],
        capture_output=True, text=True,
    )
    assert pip.returncode == 0, pip.stderr
    lib = target / "gpulib/lib"
    assert (lib / "libgpu.so").read_bytes() == (lib / "libgpu.so.1.2").read_bytes() and not (lib / "libgpu.so").is_symlink()
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = target / "bin/gpulib-tool"
    assert script.read_text().startswith("#!") and "placehold" not in script.read_text()
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and run.stdout == "gpulib libgpu12\n", run.stderr
    assert (target / "share/gpulib/kernels.txt").read_text() == "gfx1030\n"


def test_placeholder_files_refused_then_kept(tmp_path: Path) -> None:
    pc = "lib/pkgconfig/gpu.pc"
    pkg = gpulib(tmp_path / "ch", extra_files={pc: f"prefix={PLACEHOLDER}\n"}, placeholders={pc: PLACEHOLDER})
    with pytest.raises(Unsupported, match=r"1 files carry a prefix placeholder .*lib/pkgconfig/gpu.pc.*--keep-placeholders"):
        to_wheel(pkg, tmp_path / "out")
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True
    kept = to_wheel(pkg, tmp_path / "out", ToWheelOptions(keep_placeholders=True))
    assert wheel_members(kept.outputs[0])[f"gpulib-2.9.1+rocm7.11.gfx103x.data/data/{pc}"] == f"prefix={PLACEHOLDER}\n".encode()
    back = convert_wheel(kept.outputs[0], tmp_path / "back", ConversionOptions())
    assert back.ok, back.error
    paths = {e["_path"]: e for e in _info_json(back.outputs[0], "paths.json")["paths"]}
    assert paths[pc]["prefix_placeholder"] == PLACEHOLDER and paths[pc]["file_mode"] == "text"


def test_links_without_a_copy_are_listed_in_links(tmp_path: Path) -> None:
    """Links to a directory, to another package's file or dangling: a LINKS row with no member (pip installs nothing there)."""
    members = [(f"{SP}/m/__init__.py", b"", None), ("include/x.h", b"int x;", None)]
    members += [("lib/libx.so", None, "libmissing.so"), ("lib/inc", None, "../include"), (f"{SP}/m/sib", None, "../other_pkg/lib")]
    pkg = raw_package(tmp_path, {"name": "m", "version": "1", "build": "py_0", "depends": [f"python_abi {HOST_PY}.* *_{CP}"]}, members)
    result = convert_to_wheel(pkg, tmp_path / "out")
    assert result.error is None or "sha256" in result.error.reason  # raw_package's digests are placeholders
    from bridge.plan.conda_to_wheel import plan_wheel_from_conda
    from bridge.sources.conda import open_conda

    with open_conda(pkg) as package:
        notes = plan_wheel_from_conda(package).notes
    assert any("lib/libx.so and 1 more: link to a path this package does not hold" in n for n in notes), notes


@pytest.mark.parametrize(
    ("links", "problem"),
    [
        ({"lib/libx.so": "/usr/lib/libx.so"}, "absolute link target"),
        ({"lib/libx.so": "../../outside.so"}, "outside the package"),
        ({"lib/a.so": "b.so", "lib/b.so": "a.so"}, "link loop"),
    ],
)
def test_bad_links_refused(tmp_path: Path, links: dict[str, str], problem: str) -> None:
    members = [(f"{SP}/m/__init__.py", b"", None), ("include/x.h", b"int x;", None)]
    members += [(path, None, target) for path, target in links.items()]
    pkg = raw_package(tmp_path, {"name": "m", "version": "1", "build": "py_0", "depends": [f"python_abi {HOST_PY}.* *_{CP}"]}, members)
    result = convert_to_wheel(pkg, tmp_path / "out")
    assert isinstance(result.error, BadInput) and problem in result.error.reason
    assert "\n" not in str(result.error)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_nothing_importable_refused_unless_data_only(tmp_path: Path) -> None:
    pkg = build_conda_package(
        tmp_path / "linux-64",
        {"name": "librocm-core", "version": "7.11.0", "build": "gfx103X_2", "build_number": 2, "depends": ["__glibc >=2.28", "libgcc-ng"]},
        {"lib/librocm-core.so.7.11": b"\x7fELF...", "include/rocm-core/version.h": "#define V 711\n"},
        symlinks={"lib/librocm-core.so": "librocm-core.so.7.11"},
    )
    refused = convert_to_wheel(pkg, tmp_path / "out")
    assert isinstance(refused.error, Unsupported) and "nothing Python-importable" in refused.error.reason and "--data-only" in str(refused.error)
    done = to_wheel(pkg, tmp_path / "out", ToWheelOptions(data_only=True))
    assert done.outputs[0].name == "librocm_core-7.11.0+gfx103x-2-py3-none-manylinux_2_28_x86_64.whl"
    members = wheel_members(done.outputs[0])
    assert members["librocm_core-7.11.0+gfx103x.data/data/lib/librocm-core.so"] == b"\x7fELF..."
    back = convert_wheel(done.outputs[0], tmp_path / "back", ConversionOptions())
    assert back.ok and back.outputs[0].name == pkg.name
    assert _info_json(back.outputs[0], "paths.json") == _info_json(pkg, "paths.json")
    assert _info_json(back.outputs[0], "index.json") == _info_json(pkg, "index.json")


def test_noarch_python_package(tmp_path: Path) -> None:
    pkg = build_conda_package(
        tmp_path / "noarch",
        {"name": "hello-gpu", "version": "1.0", "build": "pyh0123abc_0", "noarch": "python", "depends": ["python >=3.9", "requests >=2"]},
        {"site-packages/hello_gpu/__init__.py": "def main():\n    print('hi')\n", "python-scripts/hello-sh": "#!/bin/sh\necho hi\n"},
        link_json={"noarch": {"type": "python", "entry_points": ["hello-gpu = hello_gpu:main"]}, "package_metadata_version": 1},
    )
    done = to_wheel(pkg, tmp_path / "out")
    assert done.outputs[0].name == "hello_gpu-1.0-py3-none-any.whl"
    members = wheel_members(done.outputs[0])
    assert members["hello_gpu-1.0.data/scripts/hello-sh"] == b"#!/bin/sh\necho hi\n"
    assert members["hello_gpu-1.0.dist-info/entry_points.txt"] == b"[console_scripts]\nhello-gpu = hello_gpu:main\n\n"
    assert "Requires-Python: >=3.9\nRequires-Dist: requests>=2\n" in members["hello_gpu-1.0.dist-info/METADATA"].decode()
    assert "Root-Is-Purelib: true" in members["hello_gpu-1.0.dist-info/WHEEL"].decode()


def test_own_dist_info_and_windows_launchers(tmp_path: Path) -> None:
    di = "Lib/site-packages/winpkg-3.1.dist-info"
    files = {
        "Lib/site-packages/winpkg/__init__.py": "def main(): pass\n",
        f"{di}/METADATA": "Metadata-Version: 2.1\nName: WinPkg\nVersion: 3.1\nRequires-Dist: colorama\n",
        f"{di}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-win_amd64\n",
        f"{di}/entry_points.txt": "[console_scripts]\nwinpkg = winpkg:main\n",
        f"{di}/RECORD": "winpkg/__init__.py,,\n",
        f"{di}/INSTALLER": "conda\n",
        "Scripts/winpkg.exe": b"MZ launcher",
        "Scripts/winpkg-script.py": "import winpkg\n",
        "Scripts/helper.py": f"#!{PLACEHOLDER}/python.exe\nprint(1)\n",
    }
    pkg = build_conda_package(
        tmp_path / "win-64",
        {"name": "winpkg", "version": "3.1", "build": "py312h0123456_0", "depends": ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"]},
        files,
        placeholders={"Scripts/helper.py": PLACEHOLDER},
    )
    members = wheel_members(to_wheel(pkg, tmp_path / "out").outputs[0])
    assert sorted(members) == [
        "winpkg-3.1.data/scripts/helper.py",
        "winpkg-3.1.dist-info/METADATA",
        "winpkg-3.1.dist-info/RECORD",
        "winpkg-3.1.dist-info/WHEEL",
        "winpkg-3.1.dist-info/conda-package.json",
        "winpkg-3.1.dist-info/entry_points.txt",
        "winpkg/__init__.py",
    ]
    assert members["winpkg-3.1.dist-info/METADATA"] == files[f"{di}/METADATA"].encode()
    assert members["winpkg-3.1.data/scripts/helper.py"] == b"#!python\nprint(1)\n"
    assert members["winpkg-3.1.dist-info/WHEEL"] == files[f"{di}/WHEEL"].encode()  # tags agree: kept


def test_deterministic_and_thread_independent(tmp_path: Path) -> None:
    pkg = gpulib(tmp_path / "ch", extra_files={f"{SP}/gpulib/big.bin": os.urandom(1 << 20) * 2 + b"x" * 700_000})
    outputs = [to_wheel(pkg, tmp_path / f"t{t}", ToWheelOptions(), WriteSettings(wheel_compression=WheelCompression(threads=t))).outputs[0] for t in (1, 2, 4)]
    assert len({p.read_bytes() for p in outputs}) == 1
    with zipfile.ZipFile(outputs[0]) as zf:
        assert zf.testzip() is None
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}


def test_zip64_structures_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 64)
    monkeypatch.setattr(zipwriter, "COUNT_LIMIT", 3)
    wheel = to_wheel(gpulib(tmp_path / "ch"), tmp_path / "out").outputs[0]
    with zipfile.ZipFile(wheel) as zf:
        assert zf.testzip() is None and len(zf.infolist()) > 3
    with open_wheel(wheel) as dist:
        for m in dist.members:
            dist.read(m)


def test_zstd_only_for_python_314(tmp_path: Path) -> None:
    refused = convert_to_wheel(gpulib(tmp_path / "ch"), tmp_path / "out", ToWheelOptions(), WriteSettings(wheel_compression=WheelCompression("zstd")))
    assert isinstance(refused.error, Unsupported) and "Python 3.14" in refused.error.reason
    pkg = build_conda_package(
        tmp_path / "ch314" / "linux-64",
        {"name": "z", "version": "1", "build": "py314_0", "depends": ["python_abi 3.14.* *_cp314", "__glibc >=2.17"]},
        {"lib/python3.14/site-packages/z/__init__.py": "X = 1\n" * 1000},
    )
    wheel = to_wheel(pkg, tmp_path / "out", ToWheelOptions(), WriteSettings(wheel_compression=WheelCompression("zstd"))).outputs[0]
    with zipfile.ZipFile(wheel) as zf:
        methods = {i.filename: i.compress_type for i in zf.infolist()}
    assert methods["z/__init__.py"] == 93 and methods["z-1.dist-info/METADATA"] == zipfile.ZIP_DEFLATED
    zstd_zipfile = pytest.importorskip("backports.zstd.zipfile")  # Python 3.14's zipfile, backported
    with zstd_zipfile.ZipFile(wheel) as zf:
        assert zf.testzip() is None and zf.read("z/__init__.py") == b"X = 1\n" * 1000


def test_tar_bz2_input_gives_the_same_wheel(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "w", "plain", "1.0", files={"plain/__init__.py": "x = 1\n"}, data={"scripts": {"plain": "#!python\nimport plain\n"}})
    v2 = convert_wheel(wheel, tmp_path / "c", ConversionOptions()).outputs[0]
    v1 = convert_wheel(wheel, tmp_path / "c", ConversionOptions(), WriteSettings("tar.bz2")).outputs[0]
    a, b = to_wheel(v2, tmp_path / "a").outputs[0], to_wheel(v1, tmp_path / "b").outputs[0]
    assert a.name == wheel.name and a.read_bytes() == b.read_bytes()
    with open_distribution(v1) as dist:
        assert dist.name == "plain"


@pytest.mark.parametrize("damage", ["truncate", "not-zip", "missing"])
def test_broken_inputs(tmp_path: Path, damage: str) -> None:
    pkg = gpulib(tmp_path / "ch")
    if damage == "truncate":
        data = pkg.read_bytes()
        pkg.write_bytes(data[: len(data) // 2])
    elif damage == "not-zip":
        pkg.write_bytes(b"hello")
    else:
        pkg.unlink()
    result = convert_to_wheel(pkg, tmp_path / "out")
    assert isinstance(result.error, BadInput) and result.error.path == str(pkg)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_variant_opt_in(tmp_path: Path) -> None:
    pkg = gpulib(tmp_path / "ch")
    done = to_wheel(pkg, tmp_path / "out", ToWheelOptions(variant=True, variant_properties=("amd :: gfx_arch :: gfx1030",)))
    assert done.outputs[0].name.endswith("-manylinux_2_17_x86_64-rocm7.11_gfx103x.whl")
    doc = json.loads(wheel_members(done.outputs[0])["gpulib-2.9.1+rocm7.11.gfx103x.dist-info/variant.json"])
    chips = ["gfx1030", "gfx1031", "gfx1032", "gfx1034"]  # the family gfx103X, as chips (TheRock's gfx103X-dgpu)
    assert doc["variants"] == {"rocm7.11_gfx103x": {"amd": {"gfx_arch": chips, "rocm_version": ["7.11"]}}}
    assert list(doc["providers"]) == doc["default-priorities"]["namespace"] == ["amd"]
    assert not any("give no property" in w for w in done.warnings)
    # The reference implementation accepts it (skipped in the floors venv: variantlib needs packaging>=25).
    VariantDistInfo = pytest.importorskip("variantlib.variant_dist_info").VariantDistInfo
    raw = wheel_members(done.outputs[0])["gpulib-2.9.1+rocm7.11.gfx103x.dist-info/variant.json"]
    assert VariantDistInfo(raw, "rocm7.11_gfx103x").to_str().encode() == raw


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = gpulib(tmp_path / "ch")
    bad = raw_package(tmp_path / "raw", {"name": "bad", "version": "1", "build": "0"}, [("lib/x.so", None, "/abs")])
    assert main(["to-wheel", str(good), "-o", str(tmp_path / "out"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["items"][0]["tags"] == [f"{CP}-{CP}-manylinux_2_17_x86_64"]
    assert doc["items"][0]["requires_dist"] == ["numpy<3.0,>=1.21"]
    assert main(["to-wheel", str(bad), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wheel2conda: error: {bad}: cannot dereference links: lib/x.so: absolute link target")
    assert main(["to-wheel", str(good), str(bad), "-o", str(tmp_path / "out"), "-q"]) == 1
    assert main(["to-wheel", str(good), "--variant-label", "x"]) == 2


def _info_json(pkg: Path, name: str) -> dict:
    from conda_package_streaming.package_streaming import stream_conda_info

    for tar, member in stream_conda_info(str(pkg)):
        if member.name == f"info/{name}":
            return json.loads(tar.extractfile(member).read())  # type: ignore[union-attr]
    raise KeyError(name)


# --------------------------------------------------------------------------- extras metapackages


def _rich_with_extras(tmp_path: Path) -> tuple[Path, Path]:
    """A wheel with two extras, converted as users do (extras packages by default): the wheel and ``convert -o``."""
    from bridge.cli import main

    wheel = build_wheel(
        tmp_path / "w",
        "rich",
        "13.9.4",
        files={"rich/__init__.py": "X = 1\n"},
        requires_dist=["pygments>=2.13", 'ipywidgets<9,>=7.5.1; extra == "jupyter"', 'attrs; extra == "Docs-Build"'],
        metadata_fields=[("Provides-Extra", "jupyter"), ("Provides-Extra", "Docs-Build")],
    )
    assert main(["convert", "-q", str(wheel), "-o", str(tmp_path / "out")]) == 0
    return wheel, tmp_path / "out"


def test_to_wheel_on_convert_output_folds_extras_into_the_base_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bridge.cli import main

    wheel, out = _rich_with_extras(tmp_path)
    assert sorted(p.name for p in (out / "noarch").iterdir()) == [
        "rich-13.9.4-py_0.conda", "rich-with-docs-build-13.9.4-py_0.conda", "rich-with-jupyter-13.9.4-py_0.conda"
    ]
    capsys.readouterr()
    assert main(["to-wheel", str(out), "-o", str(tmp_path / "back")]) == 0  # the folder convert -o wrote
    printed = capsys.readouterr().out
    assert "rich-with-jupyter-13.9.4-py_0.conda: skipped: extra 'jupyter' of rich: folded into rich-13.9.4-py3-none-any.whl (Provides-Extra: jupyter)" in printed
    (back,) = (tmp_path / "back").iterdir()
    assert back.name == wheel.name
    name = "rich-13.9.4.dist-info/METADATA"
    assert wheel_members(back)[name] == wheel_members(wheel)[name]  # Provides-Extra and the extra's Requires-Dist, byte for byte


def test_to_wheel_skips_an_extras_package_given_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bridge.cli import main

    _, out = _rich_with_extras(tmp_path)
    capsys.readouterr()
    code = main(["to-wheel", "--json", str(out / "noarch" / "rich-with-jupyter-13.9.4-py_0.conda"), "-o", str(tmp_path / "back")])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    validate(doc)  # the to-wheel schema's skipped-item shape
    (item,) = doc["items"]
    assert item["folded_into"] is None and "extra 'jupyter' of rich: no wheel of its own" in item["skipped"]
    assert not (tmp_path / "back").exists() or not any((tmp_path / "back").iterdir())


def test_inspect_names_the_base_package_and_the_extra(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bridge.cli import main

    _, out = _rich_with_extras(tmp_path)
    capsys.readouterr()
    assert main(["inspect", str(out / "noarch" / "rich-with-jupyter-13.9.4-py_0.conda")]) == 0
    printed = capsys.readouterr().out
    assert "extra of    rich[jupyter]: base package rich-13.9.4-py_0" in printed
    assert "to-wheel    no wheel of its own: extra 'jupyter' of rich; to-wheel with rich-13.9.4-py_0.conda folds it into that wheel" in printed
