"""Wheel → conda end to end: convert with the CLI, publish, install with py-rattler, run."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conda_package_streaming.package_streaming import stream_conda_component

from bridge.cli import main
from tests.support.conda_env import HOST_PY, install, run_in_prefix

XY = HOST_PY.replace(".", "")
SITE = f"lib/python{HOST_PY}/site-packages"


def convert(*argv: str | Path) -> int:
    return main(["convert", "-q", *map(str, argv)])


def info_json(package: Path, name: str) -> dict:
    for tar, member in stream_conda_component(str(package), component="info"):
        if member.name == f"info/{name}":
            return json.load(tar.extractfile(member))
    raise KeyError(name)


def pkg_members(package: Path) -> dict[str, object]:
    return {m.name: m for _, m in stream_conda_component(str(package), component="pkg")}


@pytest.fixture
def channel(tmp_path: Path) -> Path:
    return tmp_path / "channel"


def full_pure_wheel(make_wheel) -> Path:
    return make_wheel(
        "Demo.Pkg",
        "2.0.post1",
        files={
            "demo_pkg/__init__.py": "from .core import hello\n",
            "demo_pkg/core.py": "import sys\ndef hello():\n    print('hello from', sys.prefix)\n    return 0\n",
        },
        data={
            "scripts": {"demo-script": "#!python\nimport demo_pkg\ndemo_pkg.hello()\n", "plain.sh": "#!/bin/sh\necho plain\n"},
            "headers": {"demo.h": "#define DEMO 1\n"},
            "data": {"share/demo/readme.txt": "shared data\n"},
            "purelib": {"demo_extra/__init__.py": "VALUE = 'purelib'\n"},
            "platlib": {"demo_plat/__init__.py": "VALUE = 'platlib'\n"},
        },
        entry_points={"console_scripts": {"demo-cli": "demo_pkg.core:hello"}, "gui_scripts": {"demo-gui": "demo_pkg:hello"}},
        license_files={"LICENSE": "MIT License\n"},
        requires_python=">=3.8",
        metadata_fields=[("License-Expression", "MIT"), ("Home-page", "https://example.org/demo")],
    )


@pytest.mark.e2e
def test_pure_wheel_with_every_data_scheme_installs_and_runs(make_wheel, tmp_path, channel, base_channel, prefix_factory):
    wheel = full_pure_wheel(make_wheel)
    assert convert(wheel, "--channel", channel) == 0
    (package,) = (channel / "noarch").glob("*.conda")
    assert package.name == "demo-pkg-2.0.post1-py_0.conda"

    index = info_json(package, "index.json")
    assert index["noarch"] == "python" and index["subdir"] == "noarch"
    assert index["depends"] == ["python >=3.8"]
    assert index["license"] == "MIT"
    link = info_json(package, "link.json")
    assert link["noarch"]["entry_points"] == ["demo-cli = demo_pkg.core:hello", "demo-gui = demo_pkg:hello"]
    paths = {p["_path"]: p for p in info_json(package, "paths.json")["paths"]}
    assert all({"path_type", "sha256", "size_in_bytes"} <= set(p) for p in paths.values())
    assert paths["python-scripts/demo-script"]["file_mode"] == "text"
    assert "prefix_placeholder" not in paths["python-scripts/plain.sh"]
    assert "include/demo-pkg/demo.h" in paths and "share/demo/readme.txt" in paths
    assert not any("__pycache__" in p or p.endswith(".pyc") for p in paths)
    members = pkg_members(package)
    assert set(members) == set(paths)
    assert "info/licenses/LICENSE" in {m.name for _, m in stream_conda_component(str(package), component="info")}
    about = info_json(package, "about.json")
    assert about["home"] == "https://example.org/demo" and about["license_file"] == ["licenses/LICENSE"]
    assert about["extra"]["wheel2conda"]["source"] == wheel.name

    prefix = prefix_factory()
    install([channel, base_channel], ["demo-pkg"], prefix)
    for argv, expected in [
        (("demo-cli",), "hello from"),
        (("demo-gui",), "hello from"),
        (("demo-script",), "hello from"),
        (("plain.sh",), "plain"),
        (("python", "-c", "import demo_extra, demo_plat; print(demo_extra.VALUE, demo_plat.VALUE)"), "purelib platlib"),
    ]:
        result = run_in_prefix(prefix, *argv)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout
    assert (prefix / "include/demo-pkg/demo.h").read_text() == "#define DEMO 1\n"
    assert (prefix / "share/demo/readme.txt").read_text() == "shared data\n"
    site = prefix / SITE
    dist_info = site / "demo_pkg-2.0.post1.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "conda\n"
    assert not (dist_info / "direct_url.json").exists()
    record = (dist_info / "RECORD").read_text().splitlines()
    assert "../../../bin/demo-script,," in record
    for line in record:  # every RECORD entry exists where it says
        assert (site / line.split(",")[0]).exists(), line
    meta = run_in_prefix(prefix, "python", "-c", "import importlib.metadata as m; d=m.distribution('demo.pkg'); print(d.version, d.read_text('INSTALLER').strip(), len(d.files))")
    assert meta.stdout.split()[:2] == ["2.0.post1", "conda"]
    # pip sees it as installed (pip runs against the prefix's interpreter)
    pip = [sys.executable, "-m", "pip", "--python", str(prefix / "bin" / "python")]
    listed = subprocess.run([*pip, "list", "--format", "json"], capture_output=True, text=True, check=True)
    assert {"name": "Demo.Pkg", "version": "2.0.post1"} in json.loads(listed.stdout)
    assert subprocess.run([*pip, "check"], capture_output=True, text=True).returncode == 0


@pytest.mark.e2e
def test_version_specific_wheel_gets_its_own_launchers(make_wheel, channel, base_channel, prefix_factory):
    wheel = make_wheel(
        "native",
        "1.0",
        tag=f"cp{XY}-cp{XY}-manylinux_2_17_x86_64.manylinux2014_x86_64",
        files={"native/__init__.py": "def main():\n    print('native main')\n", "native/_core.so": b"\x7fELF fake"},
        entry_points={"console_scripts": {"native-cli": "native:main"}, "gui_scripts": {"native-gui": "native:main"}},
        data={"scripts": {"native-script": "#!python\nprint('script ok')\n"}},
        executable=["native/_core.so"],
    )
    assert convert(wheel, "--channel", channel) == 0
    (package,) = (channel / "linux-64").glob("*.conda")
    assert package.name == f"native-1.0-py{XY}_0.conda"
    index = info_json(package, "index.json")
    assert "noarch" not in index
    assert index["depends"] == [f"python >={HOST_PY},<3.{int(XY[1:]) + 1}.0a0", f"python_abi {HOST_PY}.* *_cp{XY}", "__glibc >=2.17"]
    paths = {p["_path"]: p for p in info_json(package, "paths.json")["paths"]}
    assert f"{SITE}/native/__init__.py" in paths
    for launcher in ("bin/native-cli", "bin/native-gui", "bin/native-script"):
        assert paths[launcher]["prefix_placeholder"] == "/opt/anaconda1anaconda2anaconda3"
    assert pkg_members(package)[f"{SITE}/native/_core.so"].mode == 0o755

    prefix = prefix_factory()
    install([channel, base_channel], ["native"], prefix)
    for argv, expected in [(("native-cli",), "native main"), (("native-gui",), "native main"), (("native-script",), "script ok")]:
        result = run_in_prefix(prefix, *argv)
        assert result.returncode == 0 and expected in result.stdout, result.stderr


@pytest.mark.e2e
def test_cp312_linux_wheel_installs_into_python_312(make_wheel, channel, base_channel, prefix_factory):
    wheel = make_wheel(
        "native312",
        "1.0",
        tag="cp312-cp312-manylinux_2_28_aarch64",
        files={"native312/__init__.py": "", "native312/_core.so": b"\x7fELF aarch64"},
        entry_points={"console_scripts": {"n312": "native312:main"}},
    )
    assert convert(wheel, "--channel", channel) == 0
    (package,) = (channel / "linux-aarch64").glob("*.conda")
    assert package.name == "native312-1.0-py312_0.conda"
    prefix = prefix_factory()
    install([channel, base_channel], ["native312"], prefix, platform="linux-aarch64")
    assert (prefix / "lib/python3.12/site-packages/native312/_core.so").read_bytes() == b"\x7fELF aarch64"
    assert (prefix / "bin/n312").read_text().startswith(f"#!{prefix}/bin/python\n")


@pytest.mark.e2e
def test_windows_wheel_ships_exe_launchers(make_wheel, channel, base_channel, prefix_factory):
    wheel = make_wheel(
        "winpkg",
        "1.0",
        tag="cp312-cp312-win_amd64",
        files={"winpkg/__init__.py": "def main():\n    return 0\n", "winpkg/_x.pyd": b"MZ fake"},
        entry_points={"console_scripts": {"wincli": "winpkg:main"}, "gui_scripts": {"wingui": "winpkg:main"}},
        data={"scripts": {"tool.py": "#!python\nprint(1)\n"}},
    )
    assert convert(wheel, "--channel", channel) == 0
    (package,) = (channel / "win-64").glob("*.conda")
    assert package.name == "winpkg-1.0-py312_0.conda"
    prefix = prefix_factory()
    install([channel, base_channel], ["winpkg"], prefix, platform="win-64")
    assert (prefix / "Lib/site-packages/winpkg/__init__.py").exists()
    scripts = prefix / "Scripts"
    assert (scripts / "wincli.exe").read_bytes()[:2] == b"MZ"
    assert (scripts / "wingui.exe").read_bytes() != (scripts / "wincli.exe").read_bytes()  # gui flavour
    assert (scripts / "wincli-script.py").read_text().startswith("# -*- coding")  # no shebang: ..\python.exe
    assert (scripts / "wingui-script.pyw").read_text().startswith("#!pythonw.exe\n")
    tool = (scripts / "tool.py").read_text()
    assert tool.startswith("#!") and tool.splitlines()[0].endswith("/python.exe") and str(prefix.name) in tool.splitlines()[0]


@pytest.mark.e2e
def test_macos_wheels_including_universal2(make_wheel, channel, base_channel, prefix_factory):
    arm = make_wheel("macpkg", "1.0", tag="cp312-cp312-macosx_11_0_arm64", files={"macpkg/__init__.py": ""}, entry_points={"console_scripts": {"mac": "macpkg:main"}})
    fat = make_wheel("fatpkg", "1.0", tag="cp312-cp312-macosx_10_9_universal2", files={"fatpkg/__init__.py": ""})
    assert convert(arm, fat, "--channel", channel) == 0
    assert sorted(p.name for p in (channel / "osx-arm64").glob("*.conda")) == ["fatpkg-1.0-py312_0.conda", "macpkg-1.0-py312_0.conda"]
    assert [p.name for p in (channel / "osx-64").glob("*.conda")] == ["fatpkg-1.0-py312_0.conda"]
    assert "__osx >=10.9" in info_json(channel / "osx-64/fatpkg-1.0-py312_0.conda", "index.json")["depends"]
    assert "__osx >=11.0" in info_json(channel / "osx-arm64/fatpkg-1.0-py312_0.conda", "index.json")["depends"]
    prefix = prefix_factory()
    install([channel, base_channel], ["macpkg", "fatpkg"], prefix, platform="osx-arm64")
    launcher = (prefix / "bin/mac").read_text()
    assert launcher.startswith(f"#!{prefix}/bin/python\n")
    assert (prefix / "lib/python3.12/site-packages/fatpkg/__init__.py").exists()


@pytest.mark.e2e
def test_binary_wheel_without_python_abi_serves_every_python(make_wheel, channel, base_channel, prefix_factory):
    """``py3-none-manylinux`` (NVIDIA/ROCm style): one package, relocated into any Python."""
    wheel = make_wheel(
        "nvidia-fake-runtime-cu12",
        "12.9.79",
        tag="py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64",
        root_is_purelib=True,
        files={"nvidia/fake_runtime/lib/libfake.so.12": b"\x7fELF payload", "nvidia/fake_runtime/__init__.py": ""},
        executable=["nvidia/fake_runtime/lib/libfake.so.12"],
        entry_points={"console_scripts": {"fake-smi": "nvidia.fake_runtime:__name__.upper"}},
    )
    assert convert(wheel, "--channel", channel) == 0
    (package,) = (channel / "linux-64").glob("*.conda")
    assert package.name == "nvidia-fake-runtime-cu12-12.9.79-0.conda"
    index = info_json(package, "index.json")
    assert index["noarch"] == "python" and index["subdir"] == "linux-64"
    assert index["depends"] == ["python", "__glibc >=2.17"]
    for python in ("3.12", HOST_PY):  # the same package installs next to either interpreter
        prefix = prefix_factory()
        install([channel, base_channel], ["nvidia-fake-runtime-cu12", f"python {python}.*"], prefix)
        assert (prefix / f"lib/python{python}/site-packages/nvidia/fake_runtime/lib/libfake.so.12").read_bytes() == b"\x7fELF payload"
    result = run_in_prefix(prefix, "fake-smi")  # the host-python prefix can run it
    assert result.returncode == 0, result.stderr


@pytest.mark.e2e
def test_abi3_wheel_follows_conda_forge_rule(make_wheel, channel, base_channel, prefix_factory):
    wheel = make_wheel(
        "stable",
        "0.5",
        tag="cp38-abi3-manylinux_2_17_x86_64",
        files={"stable/__init__.py": "def main():\n    print('abi3 ok')\n"},
        entry_points={"console_scripts": {"stable-cli": "stable:main"}},
    )
    assert convert(wheel, "--channel", channel) == 0
    (package,) = (channel / "linux-64").glob("*.conda")
    assert package.name == "stable-0.5-py38_abi3_0.conda"
    index = info_json(package, "index.json")
    assert index["noarch"] == "python"
    assert index["depends"] == ["python >=3.8", "cpython >=3.8", "_python_abi3_support 1.*", "__glibc >=2.17"]
    prefix = prefix_factory()
    install([channel, base_channel], ["stable"], prefix)
    assert run_in_prefix(prefix, "stable-cli").stdout.strip() == "abi3 ok"


@pytest.mark.e2e
def test_tar_bz2_and_tree_formats(make_wheel, tmp_path, channel, base_channel, prefix_factory):
    wheel = make_wheel("oldfmt", "1.0", files={"oldfmt/__init__.py": "X = 1\n"})
    assert convert(wheel, "--format", "tar.bz2", "--build-number", "4", "--channel", channel) == 0
    (package,) = (channel / "noarch").glob("*.tar.bz2")
    assert package.name == "oldfmt-1.0-py_4.tar.bz2"
    prefix = prefix_factory()
    install([channel, base_channel], ["oldfmt"], prefix)
    assert run_in_prefix(prefix, "python", "-c", "import oldfmt; print(oldfmt.X)").stdout.strip() == "1"

    assert convert(wheel, "--format", "tree", "-o", tmp_path / "tree") == 0
    tree = tmp_path / "tree" / "noarch" / "oldfmt-1.0-py_0"
    assert json.loads((tree / "info/index.json").read_text())["name"] == "oldfmt"
    assert (tree / "site-packages/oldfmt/__init__.py").read_text() == "X = 1\n"


def test_directory_input_and_build_tag(make_wheel, tmp_path):
    make_wheel("a", "1.0", files={"a.py": ""})
    make_wheel("b", "1.0", files={"b.py": ""}, build_tag="7")
    out = tmp_path / "out"
    assert convert(tmp_path / "wheels", "-o", out) == 0
    assert sorted(p.name for p in (out / "noarch").iterdir()) == ["a-1.0-py_0.conda", "b-1.0-py_7.conda"]


def test_dependencies_translated_with_markers(make_wheel, tmp_path):
    wheel = make_wheel(
        "deps",
        "1.0",
        tag=f"cp{XY}-cp{XY}-manylinux_2_17_x86_64",
        files={"deps.py": ""},
        requires_dist=[
            "Requests[socks]>=2.0,<3",
            "numpy>=1.20.dev0",
            "colorama; sys_platform == 'win32'",
            "pywin32>=300; platform_system == 'Windows'",
            "uvloop; sys_platform == 'linux'",
            "tomli; python_version < '3.11'",
            "rich; extra == 'fancy'",
        ],
    )
    out = tmp_path / "out"
    assert convert(wheel, "-o", out) == 0
    depends = info_json(next(out.glob("*/*.conda")), "index.json")["depends"]
    clauses = {d.split(" ")[0]: set(d.split(" ")[1].split(",")) if " " in d else set() for d in depends}
    assert clauses["requests"] == {">=2.0", "<3a0"} and clauses["numpy"] == {">=1.20dev0"} and clauses["uvloop"] == set()
    assert not any(d.startswith(("colorama", "pywin32", "rich")) for d in depends)
    assert any(d.startswith("tomli") for d in depends) == (HOST_PY < "3.11")


def test_reproducible_across_runs_and_thread_counts(make_wheel, tmp_path):
    wheel = full_pure_wheel(make_wheel)
    outputs = []
    for i, threads in enumerate(("1", "2", "0")):
        out = tmp_path / f"out{i}"
        assert convert(wheel, "-o", out, "--zstd-threads", threads) == 0
        outputs.append(next(out.glob("*/*.conda")).read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    with zipfile.ZipFile(tmp_path / "out0" / "noarch" / "demo-pkg-2.0.post1-py_0.conda") as zf:
        assert [i.filename for i in zf.infolist()] == [
            "metadata.json",
            "pkg-demo-pkg-2.0.post1-py_0.tar.zst",
            "info-demo-pkg-2.0.post1-py_0.tar.zst",
        ]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
