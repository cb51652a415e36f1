"""``wheel2conda inspect`` and ``convert --dry-run``: the plan, where every part came from, nothing written."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import tests.support.gpu_wheels as gw
from bridge.cli import main
from bridge.pipelines.convert import convert_wheel
from bridge.pipelines.inspection import inspect_conda, inspect_path
from bridge.pipelines.to_wheel import to_wheel
from bridge.plan.types import ConversionOptions
from tests.support.conda_env import HOST_PY, build_conda_package
from tests.support.jsondoc import run_json
from tests.support.wheels import build_wheel

PY = HOST_PY.replace(".", "")
PLACEHOLDER = "/opt/build/_h_env_placehold_placehold_placehold"


def origins(entries: list[dict]) -> dict[str, str]:
    return {e["value"]: e["origin"] for e in entries}


def listing(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    out = tmp_path / "wheels"
    gw.torch_rocm(out, "gfx103X-dgpu", tag="cp312-cp312-win_amd64")
    gw.rocm_libraries(out, "gfx103X-dgpu")
    gw.torch_cuda(out)
    build_wheel(
        out,
        "tool",
        "1.0",
        tag=f"cp{PY}-cp{PY}-manylinux_2_28_x86_64",
        files={"tool/__init__.py": "def main():\n    return 0\n"},
        entry_points={"console_scripts": {"tool": "tool:main"}},
        license_files={"LICENSE": "MIT\n"},
        requires_python=">=3.9",
    )
    build_wheel(
        out,
        "purepkg",
        "2.0",
        files={"purepkg/__init__.py": ""},
        entry_points={"console_scripts": {"pure": "purepkg:main"}},
        requires_dist=["numpy; platform_machine == 'x86_64'", "colorama; sys_platform == 'win32'"],
        requires_python=">=3.10",
    )
    return out


def test_rocm_windows_plan_names_every_source(wheels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    wheel = wheels / f"torch-2.9.1+rocm{gw.ROCM}-cp312-cp312-win_amd64.whl"
    before = listing(tmp_path)
    code, doc = run_json(capsys, "inspect", "--gpu-family", "gfx103X", str(wheel))
    assert code == 0 and listing(tmp_path) == before  # nothing written
    torch, extra = doc["items"]
    assert torch["kind"] == "plan" and torch["filename"] == "win-64/torch-2.9.1-py312_rocm7.11_gfx103X_20260104000.conda"
    assert [(p["value"], p["origin"]) for p in torch["build_parts"]] == [
        ("py312", "wheel tag cp312-cp312"),
        ("rocm7.11", f"local version label +rocm{gw.ROCM}"),
        ("gfx103X", "GPU family gfx103X (--gpu-family gfx103X)"),
        ("20260104000", "build number (default 0), plus 20260104000 for the nightly dated 20260104 in its local label"),
    ]
    assert origins(torch["depends"]) == {
        "python >=3.12,<3.13.0a0": "wheel tag cp312-cp312",
        "python_abi 3.12.* *_cp312": "wheel tag cp312-cp312",
        f"rocm =={gw.ROCM} *gfx103X*": f"Requires-Dist: rocm[libraries]=={gw.ROCM}",
        "filelock": "Requires-Dist: filelock",
    }
    actions = {r["requirement"].split(";")[0]: (r["action"], r["reason"]) for r in torch["requirements"]}
    assert f"triton==3.5.1+rocm{gw.ROCM}" not in actions  # TheRock's Windows torch does not require triton
    assert actions["opt-einsum>=3.3"][0] == "extra"
    assert torch["track_features"] == "rocm" and torch["variant"]["backend"] == "rocm" and torch["variant"]["family"] == "gfx103X"
    assert extra["name"] == "torch-with-opt-einsum" and extra["extra_of"] == "torch" and extra["files"]["count"] == 0
    assert origins(extra["depends"])["torch ==2.9.1 py312_rocm7.11_gfx103X_20260104000"] == "the package whose extra 'opt-einsum' this is"

    assert main(["inspect", "--gpu-family", "gfx103X", str(wheel)]) == 0
    text = capsys.readouterr().out
    assert "-> win-64/torch-2.9.1-py312_rocm7.11_gfx103X_20260104000.conda" in text
    assert re.search(r"gfx103X +<- GPU family gfx103X \(--gpu-family gfx103X\)", text)
    assert "triton" not in text  # TheRock's Windows torch does not require it


def test_family_from_name_and_index_url(wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    libs = next(wheels.glob("rocm_sdk_libraries*.whl"))
    _, doc = run_json(capsys, "inspect", str(libs))
    (item,) = doc["items"]
    assert origins(item["build_parts"])["gfx103X"] == "GPU family gfx103X-dgpu (distribution name rocm-sdk-libraries-gfx103X-dgpu)"
    assert origins(item["constrains"]) == {"rocm * *gfx103X*": "GPU family gfx103X-dgpu: one family per environment"}
    torch = next(wheels.glob("torch-*win_amd64.whl"))
    url = "https://rocm.nightlies.amd.com/v2/gfx103X-dgpu/"
    _, doc = run_json(capsys, "inspect", "--index-url", url, str(torch))
    assert origins(doc["items"][0]["build_parts"])["gfx103X"] == f"GPU family gfx103X-dgpu (index URL {url})"


def test_cuda_offsets_and_constrains(wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = run_json(capsys, "inspect", str(next(wheels.glob("torch-*cu124*.whl"))))
    (torch,) = doc["items"]
    assert torch["build"] == f"py{PY}_cu124_100"
    assert origins(torch["build_parts"])["100"] == "build number (default 0), plus 100 for cuda builds (preferred where they can install)"
    deps = origins(torch["depends"])
    assert deps["__cuda >=12"] == "cuda build (local version label +cu124)"
    assert deps["__glibc >=2.28"] == "platform tag manylinux_2_28_x86_64"
    assert deps["nvidia-cublas-cu12 ==12.4.5.8"].startswith("Requires-Dist: nvidia-cublas-cu12==12.4.5.8; ")
    assert origins(torch["constrains"]) == {"cuda-version 12.*": "cuda build (local version label +cu124)"}


def test_entry_points_files_and_undecidable_markers(wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = run_json(capsys, "inspect", str(wheels / f"tool-1.0-cp{PY}-cp{PY}-manylinux_2_28_x86_64.whl"), str(wheels / "purepkg-2.0-py3-none-any.whl"))
    tool = next(i for i in doc["items"] if i["name"] == "tool")
    assert tool["entry_points"] == [{"name": "tool", "value": "tool:main", "gui": False, "launchers": ["bin/tool"]}]
    assert tool["files"]["licenses"] == 1 and tool["files"]["placeholders"] == 1  # the launcher's shebang
    assert tool["files"]["count"] == 8  # module, METADATA, WHEEL, entry_points.txt, LICENSE, INSTALLER, RECORD, bin/tool
    pure = [i for i in doc["items"] if i["name"] == "purepkg"]
    assert {p["subdir"] for p in pure} == {"noarch"} and len(pure) == 2  # split by OS: colorama only on Windows
    unix = next(p for p in pure if p["build"] == "py_unix_0")
    assert unix["entry_points"][0]["launchers"] == []  # the client writes it (noarch: python)
    assert origins(unix["depends"])["python >=3.10"] == "pure-Python wheel tags py3, Requires-Python >=3.10"
    numpy = next(r for r in unix["requirements"] if r["requirement"].startswith("numpy"))
    assert numpy["action"] == "kept" and numpy["warning"] and "kept for every platform" in numpy["reason"]
    assert any(w.startswith("numpy; platform_machine") for w in unix["warnings"]) and any(w.startswith("numpy") for w in doc["warnings"]) is False
    main(["inspect", str(wheels / "purepkg-2.0-py3-none-any.whl")])
    assert "wheel2conda: warning: purepkg-2.0-py3-none-any.whl: purepkg: numpy" in capsys.readouterr().err


def test_plan_matches_what_convert_writes(wheels: Path, tmp_path: Path) -> None:
    """inspect and convert share the plan: every planned fact is in the written package."""
    options = ConversionOptions(gpu_family="gfx103X")
    for wheel in sorted(wheels.glob("*.whl")):
        reports = inspect_path(wheel, options)
        done = convert_wheel(wheel, tmp_path / "out", options)
        assert done.ok, done.error
        assert [r.filename for r in reports] == [f"{p.parent.name}/{p.name}" for p in done.outputs]
        for report, written in zip(reports, done.outputs):
            read = inspect_conda(written)
            assert (read.name, read.version, read.build, read.build_number, read.subdir) == (report.name, report.version, report.build, report.build_number, report.subdir)
            assert [d.value for d in read.depends] == [d.value for d in report.depends]
            assert [c.value for c in read.constrains] == [c.value for c in report.constrains]
            assert (read.files.count, read.files.bytes, read.files.links, read.files.placeholders) == (
                report.files.count, report.files.bytes, report.files.links, report.files.placeholders
            )
            assert read.track_features == report.track_features


def test_conda_package_links_placeholders_and_to_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sp = f"lib/python{HOST_PY}/site-packages"
    pkg = build_conda_package(
        tmp_path / "linux-64",
        {"name": "gpulib", "version": "1.0", "build": "py_0", "depends": ["python"], "license": "MIT"},
        {f"{sp}/gpulib/__init__.py": "", f"{sp}/gpulib/libgpu.so.1.2": b"\x7fELF" + bytes(100), "bin/gpulib-tool": f"#!{PLACEHOLDER}/bin/python\n", "etc/gpulib.conf": f"prefix={PLACEHOLDER}\n"},
        symlinks={f"{sp}/gpulib/libgpu.so.1": "libgpu.so.1.2"},
        executable=["bin/gpulib-tool"],
        placeholders={"bin/gpulib-tool": PLACEHOLDER, "etc/gpulib.conf": PLACEHOLDER},
    )
    _, doc = run_json(capsys, "inspect", str(pkg))
    (item,) = doc["items"]
    assert item["kind"] == "package" and item["filename"] == "linux-64/gpulib-1.0-py_0.conda" and item["license"] == "MIT"
    assert item["links"] == [{"path": f"{sp}/gpulib/libgpu.so.1", "target": "libgpu.so.1.2"}]
    assert item["files"] == {"count": 4, "bytes": item["files"]["bytes"], "links": 1, "placeholders": 2, "licenses": None}
    preview = item["to_wheel"]
    assert not preview["ok"] and "prefix placeholder" in preview["reason"] and "--keep-placeholders" in preview["hint"]
    # convert does not re-convert a conda package (issue 15): it says to publish it, or to-wheel first
    code, doc = run_json(capsys, "convert", "--dry-run", str(pkg))
    assert code == 2 and "a conda package, not a wheel" in doc["errors"][0]["reason"] and "publish" in doc["errors"][0]["hint"]


def test_to_wheel_preview_names_the_wheel_to_wheel_writes(wheels: Path, tmp_path: Path) -> None:
    done = convert_wheel(wheels / "purepkg-2.0-py3-none-any.whl", tmp_path / "out", ConversionOptions())
    for written in done.outputs:
        preview = inspect_conda(written).to_wheel
        assert preview is not None and preview.ok
        result = to_wheel(written, tmp_path / "wheels")
        assert result.outputs and result.outputs[0].name == preview.filename
        assert preview.requires_dist == [str(Requirement(r)) for r in _requires(result.outputs[0])]


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return [line.split(": ", 1)[1] for line in zf.read(meta).decode().splitlines() if line.startswith("Requires-Dist: ")]


def test_dry_run_writes_nothing_and_reports_channel_status(wheels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    channel = tmp_path / "channel"
    wheel = str(wheels / "purepkg-2.0-py3-none-any.whl")
    code, doc = run_json(capsys, "convert", "--dry-run", "--channel", str(channel), wheel)
    assert code == 0 and not channel.exists()
    assert {i["channel_status"] for i in doc["items"]} == {"new"}
    assert all(i["output"] == str(channel / i["filename"]) for i in doc["items"])
    assert main(["convert", "-q", "--channel", str(channel), wheel]) == 0
    _, doc = run_json(capsys, "convert", "--dry-run", "--channel", str(channel), wheel)
    assert {i["channel_status"] for i in doc["items"]} == {"present"}
    # the plan items are inspect's, plus where they would go
    _, inspected = run_json(capsys, "inspect", wheel)
    assert [{k: v for k, v in i.items() if k not in ("output", "channel_status")} for i in doc["items"]] == inspected["items"]
    main(["convert", "--dry-run", "-o", str(tmp_path / "out"), wheel])
    assert f"-> {tmp_path / 'out' / 'noarch'}/purepkg-2.0-py_unix_0.conda" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_rocm_sdist_and_meta_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sdist = gw.rocm_sdist(tmp_path)
    _, doc = run_json(capsys, "inspect", str(sdist))
    assert [i["build"] for i in doc["items"]] == ["py_gfx103X_0", "py_gfx110X_0"]
    assert doc["items"][0]["entry_points"][0]["name"] == "rocm-sdk"
    _, doc = run_json(capsys, "inspect", "--rocm-meta", gw.ROCM, "--gpu-family", "gfx103X-dgpu")
    (meta,) = doc["items"]
    assert meta["name"] == "rocm" and any(d["value"].startswith("rocm-sdk-libraries-gfx103x-dgpu ") for d in meta["depends"])


def test_directories_and_errors(wheels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (wheels / "notes.txt").write_text("ignored\n")
    code, doc = run_json(capsys, "inspect", "--gpu-family", "gfx103X", str(wheels))
    assert code == 0 and {Path(i["source"]).name for i in doc["items"]} == {p.name for p in wheels.glob("*.whl")}
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_text("not a zip")
    code, doc = run_json(capsys, "inspect", str(bad), str(wheels / "purepkg-2.0-py3-none-any.whl"))
    assert code == 1 and doc["errors"][0]["path"] == str(bad) and doc["errors"][0]["hint"]
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wheel2conda: error: {bad}: not a valid zip archive") and "Traceback" not in err
    musl = build_wheel(tmp_path / "musl", "m", "1.0", tag="cp312-cp312-musllinux_1_2_x86_64", files={"m.py": ""})
    code, doc = run_json(capsys, "inspect", str(musl))
    assert code == 2 and "manylinux" in doc["errors"][0]["reason"] + (doc["errors"][0]["hint"] or "")
    with pytest.raises(SystemExit):
        main(["inspect"])
