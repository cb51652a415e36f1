"""Repack distributions that pip installed into a real venv."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conda_package_streaming.package_streaming import stream_conda_component

from bridge.cli import main
from tests.support.conda_env import HOST_PY, install, run_in_prefix

XY = HOST_PY.replace(".", "")


def make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=False).create(path)
    return path / "bin" / "python"


def pip_install(python: Path, *wheels: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--no-deps", *map(str, wheels)],
        check=True,
    )


def paths_json(package: Path) -> dict[str, dict]:
    for tar, member in stream_conda_component(str(package), component="info"):
        if member.name == "info/paths.json":
            return {p["_path"]: p for p in json.load(tar.extractfile(member))["paths"]}
    raise KeyError("paths.json")


@pytest.fixture
def wheels(make_wheel) -> list[Path]:
    pure = make_wheel(
        "tool-kit",
        "3.1",
        files={"tool_kit/__init__.py": "def main():\n    print('tool-kit ok')\n"},
        data={
            "scripts": {"tk-script": "#!python\nimport tool_kit\ntool_kit.main()\n"},
            "data": {"share/tool-kit/notes.txt": "notes\n"},
            "headers": {"tk.h": "/* tk */\n"},
        },
        entry_points={"console_scripts": {"tk": "tool_kit:main"}, "gui_scripts": {"tk-gui": "tool_kit:main"}},
        license_files={"LICENSE": "BSD\n"},
    )
    native = make_wheel(
        "native-ext",
        "0.9",
        tag=f"cp{XY}-cp{XY}-manylinux_2_17_x86_64",
        files={"native_ext/__init__.py": "", "native_ext/_impl.so": b"\x7fELF impl"},
        executable=["native_ext/_impl.so"],
    )
    return [pure, native]


@pytest.fixture
def env(tmp_path: Path, wheels: list[Path]) -> Path:
    python = make_venv(tmp_path / "venv")
    pip_install(python, *wheels)
    return python


@pytest.mark.e2e
def test_repack_to_conda_equals_converting_the_original_wheel(tmp_path, env, wheels, base_channel, prefix_factory):
    direct, repacked = tmp_path / "direct", tmp_path / "repacked"
    assert main(["convert", "-q", *map(str, wheels), "-o", str(direct)]) == 0
    assert main(["repack", "-q", "tool-kit", "native-ext", "--python", str(env), "--to", "conda", "-o", str(repacked)]) == 0
    for rel in ("noarch/tool-kit-3.1-py_0.conda", f"linux-64/native-ext-0.9-py{XY}_0.conda"):
        assert paths_json(repacked / rel) == paths_json(direct / rel), rel  # same files, hashes, placeholders
    channel = tmp_path / "channel"
    assert main(["publish", "-q", str(repacked / "noarch"), str(repacked / "linux-64"), "--channel", str(channel)]) == 0
    prefix = prefix_factory()
    install([channel, base_channel], ["tool-kit", "native-ext"], prefix)
    for argv in (("tk",), ("tk-gui",), ("tk-script",)):
        result = run_in_prefix(prefix, *argv)
        assert result.returncode == 0 and "tool-kit ok" in result.stdout, result.stderr


def test_drift_is_reported_and_strict_refuses(tmp_path, env, capsys):
    site = env.parent.parent / "lib" / f"python{HOST_PY}" / "site-packages"
    (site / "tool_kit" / "__init__.py").write_text("def main():\n    print('patched')\n")
    (env.parent.parent / "share" / "tool-kit" / "notes.txt").unlink()
    record = site / "tool_kit-3.1.dist-info" / "RECORD"
    (site / "tool_kit" / "expanded.dat").write_text("lazily expanded\n")
    record.write_text(record.read_text() + "tool_kit/expanded.dat,,\n")

    out = tmp_path / "out"
    assert main(["repack", "tool-kit", "--python", str(env), "--to", "conda", "-o", str(out), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "changed since install: tool_kit/__init__.py" in err
    assert "missing: ../../../share/tool-kit/notes.txt" in err
    assert "added after install: tool_kit/expanded.dat" in err
    assert "1 changed, 1 missing, 1 added" in err
    assert not out.exists() or not any(out.rglob("*.conda"))

    assert main(["repack", "tool-kit", "--python", str(env), "--to", "conda", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "packed as they are now" in captured.out
    paths = paths_json(out / "noarch" / "tool-kit-3.1-py_0.conda")
    assert "site-packages/tool_kit/expanded.dat" in paths and "share/tool-kit/notes.txt" not in paths


def test_editable_and_unknown_distributions_are_refused(tmp_path, env, capsys):
    site = env.parent.parent / "lib" / f"python{HOST_PY}" / "site-packages"
    (site / "tool_kit-3.1.dist-info" / "direct_url.json").write_text(json.dumps({"url": "file:///src/tool-kit", "dir_info": {"editable": True}}))
    assert main(["repack", "tool-kit", "--path", str(site), "--to", "conda", "-o", str(tmp_path / "o")]) == 2
    assert "is an editable install" in capsys.readouterr().err
    assert main(["repack", "no-such-dist", "--path", str(site), "-o", str(tmp_path / "o")]) == 2
    assert "no installed distribution named 'no-such-dist'" in capsys.readouterr().err


def wheel_files(path: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/RECORD")}


@pytest.mark.e2e
def test_repack_to_wheel_gives_back_the_original_files(tmp_path, env, wheels, base_channel, prefix_factory):
    out = tmp_path / "wheels-out"
    assert main(["repack", "-q", "tool-kit", "native-ext", "--python", str(env), "-o", str(out)]) == 0
    for original in wheels:
        repacked = out / original.name  # same tags, same file name
        assert wheel_files(repacked) == wheel_files(original), original.name  # every file and METADATA, byte for byte
    channel = tmp_path / "channel"
    assert main(["convert", "-q", str(out), "--channel", str(channel)]) == 0
    prefix = prefix_factory()
    install([channel, base_channel], ["tool-kit", "native-ext"], prefix)
    assert run_in_prefix(prefix, "tk").stdout.strip() == "tool-kit ok"


@pytest.mark.e2e
def test_links_added_after_install_survive_a_repack(tmp_path, env, base_channel, prefix_factory):
    """ROCm's devel expansion: a tree with symlinks appended to RECORD without hashes."""
    site = env.parent.parent / "lib" / f"python{HOST_PY}" / "site-packages"
    tree = site / "tool_kit" / "devel" / "lib"
    tree.mkdir(parents=True)
    (tree / "libtk.so.1").write_bytes(b"\x7fELF tk")
    (tree / "libtk.so").symlink_to("libtk.so.1")
    record = site / "tool_kit-3.1.dist-info" / "RECORD"
    record.write_text(record.read_text() + "tool_kit/devel/lib/libtk.so.1,,\ntool_kit/devel/lib/libtk.so,,\n")

    out = tmp_path / "out"
    assert main(["repack", "-q", "tool-kit", "--python", str(env), "-o", str(out)]) == 0
    (wheel,) = out.glob("*.whl")
    files = wheel_files(wheel)
    assert files["tool_kit/devel/lib/libtk.so"] == b"\x7fELF tk"  # dereferenced: wheels cannot hold links
    assert b"tool_kit/devel/lib/libtk.so,libtk.so.1" in files["tool_kit-3.1.dist-info/LINKS"]

    # back to conda: the link returns from the repack directly and through the wheel's LINKS manifest
    assert main(["repack", "-q", "tool-kit", "--python", str(env), "--to", "conda", "-o", str(tmp_path / "c")]) == 0
    assert main(["convert", "-q", str(wheel), "-o", str(tmp_path / "c2")]) == 0
    for package in (tmp_path / "c" / "noarch" / "tool-kit-3.1-py_0.conda", tmp_path / "c2" / "noarch" / "tool-kit-3.1-py_0.conda"):
        entry = paths_json(package)["site-packages/tool_kit/devel/lib/libtk.so"]
        assert entry["path_type"] == "hardlink" and entry["size_in_bytes"] == len(b"\x7fELF tk")  # pure noarch: never links (Windows clients)


def test_repack_to_conda_has_the_gpu_features_of_convert(tmp_path):
    from tests.support.gpu_wheels import torch_rocm

    python = make_venv(tmp_path / "gpu-venv")
    pip_install(python, torch_rocm(tmp_path / "w", "gfx103X-dgpu"))
    out = tmp_path / "out"
    assert main(["repack", "-q", "torch", "--python", str(python), "--to", "conda", "--gpu-family", "gfx103X", "-o", str(out)]) == 0
    names = sorted(p.name for p in (out / "linux-64").iterdir())
    assert names == [f"torch-2.9.1-py{XY}_rocm7.11_gfx103X_0.conda", f"torch-with-opt-einsum-2.9.1-py{XY}_rocm7.11_gfx103X_0.conda"]
    assert main(["repack", "-q", "torch", "--python", str(python), "--to", "conda", "--gpu-family", "gfx110X", "--index-url", "https://x/v2/gfx103X-dgpu/", "-o", str(out)]) == 2


def _installed_tree(site: Path, dist_info: str, wheel: str, files: dict[str, bytes], direct_url: dict | None = None) -> None:
    """An installed distribution as pip leaves it (no pip run: the tag lines and names are chosen)."""
    import base64
    import hashlib

    rows = []
    for rel, data in {**files, f"{dist_info}/WHEEL": wheel.encode(), f"{dist_info}/INSTALLER": b"pip\n"}.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{rel},sha256={digest},{len(data)}")
    if direct_url is not None:
        (site / dist_info / "direct_url.json").write_text(json.dumps(direct_url))
        rows.append(f"{dist_info}/direct_url.json,,")
    (site / dist_info / "RECORD").write_text("\n".join([*rows, f"{dist_info}/RECORD,,"]) + "\n")


PYYAML_WHEEL = (
    "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.44.0)\nRoot-Is-Purelib: false\n"
    "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n\n"
)


def test_repack_keeps_the_installed_wheels_file_name(tmp_path):
    """Tag order from WHEEL's Tag lines, the project name as the dist-info (the wheel's) spells it."""
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    _installed_tree(
        site,
        "PyYAML-6.0.2.dist-info",
        PYYAML_WHEEL,
        {"yaml/__init__.py": b"X = 1\n", "yaml/_yaml.so": b"\x7fELF", "PyYAML-6.0.2.dist-info/METADATA": b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.2\n"},
    )
    out = tmp_path / "out"
    assert main(["repack", "-q", "pyyaml", "--path", str(site), "-o", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]


def test_repack_prefers_the_file_name_pip_recorded_for_a_direct_url(tmp_path):
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    recorded = "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    _installed_tree(
        site,
        "pyyaml-6.0.2.dist-info",  # a dist-info spelled otherwise: the recorded URL wins
        PYYAML_WHEEL.replace("Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64", "Tag: cp311-cp311-manylinux2014_x86_64\nTag: cp311-cp311-manylinux_2_17_x86_64"),
        {"yaml/__init__.py": b"X = 1\n", "pyyaml-6.0.2.dist-info/METADATA": b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.2\n"},
        direct_url={"url": f"file:///downloads/{recorded}", "archive_info": {}},
    )
    out = tmp_path / "out"
    assert main(["repack", "-q", "PyYAML", "--path", str(site), "-o", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == [recorded]
