"""GPU conversions at the package level: build strings, pins, extras, meta packages, CLI."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
import zstandard

from bridge.cli import main
from bridge.core.errors import BadInput
from bridge.gpu.rocm import parse_dist_info, pin_family, rocm_meta_distributions
from bridge.pipelines.convert import convert_rocm_meta, convert_wheel, plan_wheel
from bridge.plan.types import NO_EXTRAS, ConversionOptions
from bridge.plan.wheel_to_conda import plan_packages
from bridge.translate.names import NameMap
from tests.support import gpu_wheels as gw
from tests.support.wheels import build_wheel


def by_name(pkgs):  # type: ignore[no-untyped-def]
    return {(p.name, p.build): p for p in pkgs}


def test_mission_example(tmp_path: Path) -> None:
    """torch-2.9.1+rocm7.11.0a20260104-cp312-cp312-win_amd64.whl for gfx103X."""
    wheel = gw.torch_rocm(tmp_path, "gfx103X-dgpu", tag="cp312-cp312-win_amd64")
    assert wheel.name == "torch-2.9.1+rocm7.11.0a20260104-cp312-cp312-win_amd64.whl"
    torch, extra = plan_wheel(wheel, ConversionOptions(gpu_family="gfx103X"))
    assert (torch.name, torch.version, torch.build, torch.subdir) == ("torch", "2.9.1", "py312_rocm7.11_gfx103X_20260104000", "win-64")
    assert torch.filename("conda") == "torch-2.9.1-py312_rocm7.11_gfx103X_20260104000.conda"
    assert torch.track_features == "rocm"
    assert "rocm ==7.11.0a20260104 *gfx103X*" in torch.depends
    assert not any(d.startswith("triton") for d in torch.depends)  # Linux-only on win-64
    assert torch.about["extra"]["wheel2conda"]["local_version_label"] == "rocm7.11.0a20260104"
    assert torch.about["extra"]["wheel2conda"]["gpu_family"] == "gfx103X"
    assert torch.warnings == ()
    assert (extra.name, extra.build) == ("torch-with-opt-einsum", torch.build)
    assert "torch ==2.9.1 py312_rocm7.11_gfx103X_20260104000" in extra.depends and "opt-einsum >=3.3" in extra.depends


def test_rocm_torch_on_linux_pins_triton_variant_and_family(tmp_path: Path) -> None:
    (torch, _) = plan_wheel(gw.torch_rocm(tmp_path, "gfx110X-all"), ConversionOptions(gpu_family="gfx110X-all"))
    assert torch.build == f"py{gw.PY}_rocm7.11_gfx110X_20260104000"
    assert "triton ==3.5.1 *rocm7.11*" in torch.depends
    assert "rocm ==7.11.0a20260104 *gfx110X*" in torch.depends


def test_rocm_torch_without_family_is_reported(tmp_path: Path) -> None:
    (torch, _) = plan_wheel(gw.torch_rocm(tmp_path, "gfx110X-all"), ConversionOptions())
    assert torch.build == f"py{gw.PY}_rocm7.11_20260104000"
    assert any("--gpu-family" in w for w in torch.warnings)


def test_family_specific_rocm_packages(tmp_path: Path) -> None:
    (libs,) = plan_wheel(gw.rocm_libraries(tmp_path, "gfx103X-dgpu"), ConversionOptions())
    assert gw.rocm_libraries(tmp_path, "gfx103X-dgpu").name.startswith("rocm_sdk_libraries_gfx103x_dgpu-")
    assert (libs.name, libs.build, libs.noarch) == ("rocm-sdk-libraries-gfx103x-dgpu", "gfx103X_0", "python")
    assert libs.constrains == ["rocm * *gfx103X*"]  # only this family's meta package beside it
    assert libs.depends[-1] == f"rocm-sdk-core =={gw.ROCM} *gfx103X*"  # loads from core's lib/ (RPATH), of its family
    # core and devel from a family's index are that family's builds (issue 18): family in the
    # build string, and only their family's meta package, core and libraries beside them
    (core,) = plan_wheel(gw.rocm_core(tmp_path, family="gfx103X-dgpu"), ConversionOptions(gpu_family="gfx103X"))
    assert (core.name, core.build, core.constrains) == ("rocm-sdk-core", "gfx103X_0", ["rocm * *gfx103X*"])
    (devel,) = plan_wheel(gw.rocm_devel(tmp_path, family="gfx110X-all"), ConversionOptions(gpu_family="gfx110X-all"))
    assert (devel.build, devel.constrains) == ("gfx110X_0", ["rocm-sdk-core * *gfx110X*"])
    assert devel.depends[-1] == f"rocm =={gw.ROCM} *gfx110X*"  # its links need the family's core and libraries
    (plain,) = plan_wheel(gw.rocm_core(tmp_path), ConversionOptions())  # no family given: family-neutral
    assert (plain.build, plain.constrains) == ("0", [])
    (cpu,) = plan_wheel(gw.filelock(tmp_path), ConversionOptions(gpu_family="gfx103X"))  # not a ROCm package
    assert (cpu.build, cpu.constrains) == ("py_0", []) and "not applied" in cpu.notes[0]
    with pytest.raises(BadInput, match="gfx110X-all"):
        plan_wheel(gw.rocm_libraries(tmp_path, "gfx110X-all"), ConversionOptions(gpu_family="gfx103X"))


def test_cuda_variants(tmp_path: Path) -> None:
    (torch,) = plan_wheel(gw.torch_cuda(tmp_path), ConversionOptions())
    assert (torch.build, torch.build_number, torch.track_features) == (f"py{gw.PY}_cu124_100", 100, None)
    assert "__cuda >=12" in torch.depends and torch.constrains == ["cuda-version 12.*"]
    assert "nvidia-cublas-cu12 ==12.4.5.8" in torch.depends
    (cf,) = plan_wheel(gw.torch_cuda(tmp_path), ConversionOptions(names=NameMap.create("conda-forge")))
    assert cf.name == "pytorch" and "libcublas ==12.4.5.8" in cf.depends and "cuda-version 12.*" in cf.depends
    (cpu,) = plan_wheel(gw.torch_cpu(tmp_path), ConversionOptions())
    assert (cpu.build, cpu.track_features) == (f"py{gw.PY}_cpu_0", None)


def test_conda_forge_mode_renames_the_package_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = gw.nvidia_component(tmp_path, "nvidia-cublas-cu12", "12.4.5.8", "libcublas.so.12")
    (pkg,) = plan_wheel(wheel, ConversionOptions(names=NameMap.create("conda-forge")))
    assert (pkg.name, pkg.constrains) == ("libcublas", ["cuda-version 12.*"])
    bad = tmp_path / "names.yaml"
    bad.write_text("torch: PyTorch\n")
    assert main(["convert", "--name-overrides", str(bad), "-o", str(tmp_path), str(wheel)]) == 2
    assert "names.yaml: overrides: torch: 'PyTorch' is not a valid conda package name" in capsys.readouterr().err


def test_cuda_markers_excluded_off_linux(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path, "torch", "2.9.1+cu124", tag="cp312-cp312-win_amd64", requires_dist=[f"nvidia-cublas-cu12==12.4.5.8; {gw.LINUX_X86}"]
    )
    (torch,) = plan_wheel(wheel, ConversionOptions())
    assert not any(d.startswith("nvidia") for d in torch.depends)
    assert [d.action for d in torch.decisions] == ["excluded"]


def test_torch_abi_pin_and_pep427_build_tag(tmp_path: Path) -> None:
    flash = build_wheel(tmp_path, "flashinfer", "0.1.6+cu124torch2.4", tag="cp38-abi3-linux_x86_64", requires_dist=["torch==2.4.*"])
    (pkg,) = plan_wheel(flash, ConversionOptions())
    assert pkg.build == "py38_abi3_cu124_torch2.4_100"
    assert "torch <2.5a0,>=2.4 *cu124*" in pkg.depends and "torch 2.4.*" in pkg.depends  # a CUDA torch (docs/gpu.md)
    (cf,) = plan_wheel(flash, ConversionOptions(names=NameMap.create("conda-forge")))
    assert "pytorch <2.5a0,>=2.4 *cuda*" in cf.depends
    tagged = build_wheel(tmp_path, "torch", "2.10.0", tag="cp312-cp312-manylinux_2_28_x86_64", build_tag="3")
    assert tagged.name == "torch-2.10.0-3-cp312-cp312-manylinux_2_28_x86_64.whl"
    (t,) = plan_wheel(tagged, ConversionOptions())
    assert (t.build, t.build_number) == ("py312_3", 3)
    (t5,) = plan_wheel(tagged, ConversionOptions(build_number=5))
    assert t5.build == "py312_5"


def test_noarch_split_per_os_and_python(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path, "click", "8.1.7", requires_dist=["colorama; platform_system == 'Windows'", "tomli; python_version < '3.11'"], requires_python=">=3.8"
    )
    pkgs = plan_wheel(wheel, ConversionOptions())
    assert [(p.build, p.subdir) for p in pkgs] == [
        ("py_lt3.11_unix_0", "noarch"),
        ("py_lt3.11_win_0", "noarch"),
        ("py_ge3.11_unix_1", "noarch"),
        ("py_ge3.11_win_1", "noarch"),
    ]
    old_unix, old_win, new_unix, new_win = pkgs
    assert "__unix" in old_unix.depends and "colorama" not in old_unix.depends
    assert "__win" in old_win.depends and "colorama" in old_win.depends
    assert [p.depends[0] for p in pkgs] == ["python >=3.8,<3.11a0"] * 2 + ["python >=3.11"] * 2
    assert ["tomli" in p.depends for p in pkgs] == [True, True, False, False]
    assert not any(p.warnings for p in pkgs)  # every marker decided exactly: no assumption to report


def test_cuda_toolkit_extras_packages(tmp_path: Path) -> None:
    pkgs = by_name(plan_wheel(gw.cuda_toolkit(tmp_path), ConversionOptions()))
    builds = sorted({b for _, b in pkgs})
    assert builds == ["py_linux_0", "py_osx_0", "py_win_0"]
    assert sorted({n for n, _ in pkgs}) == ["cuda-toolkit", "cuda-toolkit-with-all", "cuda-toolkit-with-cublas", "cuda-toolkit-with-cudart", "cuda-toolkit-with-cufile"]
    linux = pkgs["cuda-toolkit-with-cublas", "py_linux_0"]
    assert linux.depends == ["python", "__linux", "cuda-toolkit ==13.0.2 py_linux_0", "nvidia-cublas 13.1.0.3.*"]
    assert linux.files == () and linux.link == {"noarch": {"type": "python"}, "package_metadata_version": 1}
    assert "nvidia-cufile 1.15.1.6.*" not in pkgs["cuda-toolkit-with-cufile", "py_win_0"].depends
    assert "nvidia-cufile 1.15.1.6.*" in pkgs["cuda-toolkit-with-all", "py_linux_0"].depends
    assert pkgs["cuda-toolkit-with-cublas", "py_osx_0"].depends == ["python", "__osx", "cuda-toolkit ==13.0.2 py_osx_0"]
    none = plan_wheel(gw.cuda_toolkit(tmp_path), ConversionOptions(extras=NO_EXTRAS))
    assert [(p.name, p.build) for p in none] == [("cuda-toolkit", "py_0")]


def test_torch_depending_on_cuda_toolkit_extras(tmp_path: Path) -> None:
    (torch,) = plan_wheel(gw.torch_cuda13(tmp_path), ConversionOptions())
    assert torch.depends[-4:] == ["cuda-toolkit ==13.0.2", "cuda-toolkit-with-cublas ==13.0.2", "cuda-toolkit-with-cudart ==13.0.2", "filelock"]
    (cf,) = plan_wheel(gw.torch_cuda13(tmp_path), ConversionOptions(names=NameMap.create("conda-forge")))
    assert {"pytorch", "cuda-version 13.0.*", "libcublas", "cuda-cudart"} <= {cf.name, *cf.depends}


# -- the rocm meta package -----------------------------------------------------------------------


def test_dist_info_read_and_pinned_without_running_it() -> None:
    """TheRock's template plus py_packaging.py's appended lines (DEFAULT_TARGET_FAMILY, .append per family)."""
    source = gw.therock_dist_info(gw.ROCM, ["gfx110X-all", "gfx103X-dgpu"])
    assert "AVAILABLE_TARGET_FAMILIES: list[str] = []" in source and "AVAILABLE_TARGET_FAMILIES.append('gfx103X-dgpu')" in source
    info = parse_dist_info(source)
    # the template's "DEFAULT" placeholders are overridden by the last assignment
    assert (info.version, info.default_family, info.available_families) == (gw.ROCM, "gfx103X-dgpu", ("gfx110X-all", "gfx103X-dgpu"))
    assert [(e.logical_name, e.required) for e in info.packages] == [("meta", True), ("core", True), ("libraries", False), ("devel", False)]
    pinned = pin_family(source, "gfx110X-all")
    assert parse_dist_info(pinned).available_families == ("gfx110X-all",)
    assert parse_dist_info(pinned).default_family == "gfx110X-all"
    assert len(pinned.splitlines()) == len(source.splitlines())
    namespace: dict = {}
    exec(compile(pinned, "_dist_info.py", "exec"), namespace)  # still valid Python, and TheRock's code agrees
    assert namespace["AVAILABLE_TARGET_FAMILIES"] == ["gfx110X-all"]
    assert namespace["DEFAULT_TARGET_FAMILY"] == "gfx110X-all"


def test_dist_info_other_spellings_and_wheel_lines() -> None:
    template = (gw.THEROCK / "_dist_info.py").read_text()
    source = template + (
        "__version__ = '7.11.0a20260104'\nAVAILABLE_TARGET_FAMILIES += ['gfx94X-dcgpu']\n"
        "AVAILABLE_TARGET_FAMILIES.extend(['gfx120X-all', 'gfx94X-dcgpu'])\nDEFAULT_TARGET_FAMILY = 'gfx120X-all'\n"
        "THIS_TARGET_FAMILY = 'gfx120X-all'\nTHIS_PACKAGE_ENTRY = ALL_PACKAGES['libraries']\n"
        "AVAILABLE_TARGET_FAMILIES.append(some_call())\n"  # not a literal: ignored, never evaluated
    )
    info = parse_dist_info(source)
    assert info.available_families == ("gfx94X-dcgpu", "gfx120X-all")
    assert (info.default_family, info.this_family, info.this_package) == ("gfx120X-all", "gfx120X-all", "libraries")
    reset = parse_dist_info(source + "AVAILABLE_TARGET_FAMILIES = ['gfx1151']\n")  # the last assignment wins
    assert reset.available_families == ("gfx1151",)
    assert parse_dist_info(template).available_families == () and parse_dist_info(template).default_family is None


def test_dist_info_multi_arch_lines() -> None:
    """TheRock 89553ce, py_packaging.py with kpack_split: libraries arch-neutral, families via .append."""
    template = (gw.THEROCK / "_dist_info.py").read_text()
    source = template + (
        "__version__ = '7.13.0a20260501'\nPY_PACKAGE_SUFFIX_NONCE = ''\n"
        'ALL_PACKAGES["libraries"].dist_package_template = "rocm-sdk-libraries"\n'
        "DEFAULT_TARGET_FAMILY = 'gfx1100'\nAVAILABLE_TARGET_FAMILIES.append('gfx1100')\nAVAILABLE_TARGET_FAMILIES.append('gfx942')\n"
    )
    info = parse_dist_info(source)
    assert info.available_families == ("gfx1100", "gfx942")
    assert {e.logical_name: e.template for e in info.packages}["libraries"] == "rocm-sdk-libraries"


def test_short_family_tag_resolves_against_the_sdist(tmp_path: Path) -> None:
    """``--gpu-family gfx103X`` picks what the sdist lists, in TheRock's suffix order (-all, -dgpu, …)."""
    one = gw.rocm_sdist(tmp_path / "one", families=["gfx103X-dgpu"])
    assert [d.gpu_family for d in rocm_meta_distributions(one, family="gfx103X")] == ["gfx103X-dgpu"]
    both = gw.rocm_sdist(tmp_path / "both", families=["gfx103X-dgpu", "gfx103X-all", "gfx110X-all"])
    assert [d.gpu_family for d in rocm_meta_distributions(both, family="gfx103X")] == ["gfx103X-all"]
    assert [d.gpu_family for d in rocm_meta_distributions(both, family="gfx103X-dgpu")] == ["gfx103X-dgpu"]
    assert [d.gpu_family for d in rocm_meta_distributions(both)] == ["gfx103X-dgpu", "gfx103X-all", "gfx110X-all"]


def test_meta_packages_from_the_sdist(tmp_path: Path) -> None:
    sdist = gw.rocm_sdist(tmp_path)
    dists = rocm_meta_distributions(sdist)
    pkgs = [p for d in dists for p in plan_packages(d, ConversionOptions(gpu_family=d.gpu_family, extras=NO_EXTRAS))]
    assert [(p.name, p.version, p.build, p.subdir) for p in pkgs] == [
        ("rocm", gw.ROCM, "py_gfx103X_0", "noarch"),
        ("rocm", gw.ROCM, "py_gfx110X_0", "noarch"),
    ]
    assert pkgs[0].depends == ["python", f"rocm-sdk-core =={gw.ROCM} *gfx103X*", f"rocm-sdk-libraries-gfx103x-dgpu =={gw.ROCM}"]
    assert pkgs[1].depends[-1] == f"rocm-sdk-libraries-gfx110x-all =={gw.ROCM}"
    assert pkgs[0].link["noarch"]["entry_points"] == ["rocm-sdk = rocm_sdk.__main__:main"]
    paths = [f.path for f in pkgs[0].files]
    assert "site-packages/rocm_sdk/_dist_info.py" in paths
    assert not any("__pycache__" in p or "egg-info" in p for p in paths)
    pinned = dists[1].read(next(f.member for f in pkgs[1].files if f.path.endswith("_dist_info.py") and f.member))
    assert b"AVAILABLE_TARGET_FAMILIES: list[str] = ['gfx110X-all']" in pinned
    metadata = dists[0].metadata.decode()
    assert f"Requires-Dist: rocm-sdk-libraries-gfx103X-dgpu=={gw.ROCM}\n" in metadata
    assert f'Requires-Dist: rocm-sdk-devel=={gw.ROCM}; extra == "devel"' in metadata
    assert "Requires-Dist: rocm==" not in metadata  # the sdist's self-reference is gone


def test_meta_package_family_selection(tmp_path: Path) -> None:
    sdist = gw.rocm_sdist(tmp_path)
    assert [d.gpu_family for d in rocm_meta_distributions(sdist, family="gfx110X")] == ["gfx110X-all"]
    assert [d.gpu_family for d in rocm_meta_distributions(sdist, family="gfx110X-dgpu")] == ["gfx110X-all"]  # alias
    with pytest.raises(BadInput, match="offers gfx103X-dgpu, gfx110X-all, not gfx1151"):
        rocm_meta_distributions(sdist, family="gfx1151")
    with pytest.raises(BadInput, match="is the tag of gfx103X-all, gfx103X-dgpu"):
        rocm_meta_distributions(None, version=gw.ROCM, family="gfx103X")
    with pytest.raises(BadInput, match="no GPU family"):
        rocm_meta_distributions(None, version=gw.ROCM)
    with pytest.raises(BadInput, match="has no extra profiler"):
        rocm_meta_distributions(sdist, extras=["profiler"])
    (devel, *_) = rocm_meta_distributions(sdist, family="gfx103X", extras=["devel"])
    (pkg,) = plan_packages(devel, ConversionOptions(gpu_family="gfx103X-dgpu", extras=NO_EXTRAS))
    assert (pkg.version, pkg.build) == (gw.ROCM, "py_devel_gfx103X_0")
    assert f"rocm-sdk-devel =={gw.ROCM} *gfx103X*" in pkg.depends


def test_meta_package_of_a_labelled_rocm_version(tmp_path: Path) -> None:
    (dist,) = rocm_meta_distributions(None, version="10.1.0a20260811+bkc.20260813", family="gfx1151", extras=["devel"])
    (pkg,) = plan_packages(dist, ConversionOptions(gpu_family="gfx1151", extras=NO_EXTRAS))
    assert (pkg.version, pkg.build) == ("10.1.0a20260811", "py_bkc.20260813.devel_gfx1151_0")
    torch = build_wheel(tmp_path, "torch", "2.9.1+rocm10.1.0a20260811.bkc.20260813", tag="cp312-cp312-linux_x86_64", requires_dist=["rocm[libraries]==10.1.0a20260811+bkc.20260813"])
    (t,) = plan_wheel(torch, ConversionOptions(gpu_family="gfx1151"))
    assert t.build == "py312_rocm10.1_gfx1151_20260811000"
    assert "rocm ==10.1.0a20260811 *bkc.20260813*gfx1151*" in t.depends  # matches the meta build above


def test_meta_package_from_options_only(tmp_path: Path) -> None:
    (dist,) = rocm_meta_distributions(None, version=gw.ROCM, family="gfx1151")
    (pkg,) = plan_packages(dist, ConversionOptions(gpu_family="gfx1151", extras=NO_EXTRAS))
    assert (pkg.build, pkg.depends) == ("py_gfx1151_0", ["python", f"rocm-sdk-core =={gw.ROCM} *gfx1151*", f"rocm-sdk-libraries-gfx1151 =={gw.ROCM}"])
    assert sorted(f.path for f in pkg.files) == [f"site-packages/rocm-{gw.ROCM}.dist-info/{n}" for n in ("INSTALLER", "METADATA", "RECORD")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a tarball", "not a readable .tar.gz"),
        ("truncated", "not a readable .tar.gz"),
        ("other-name", "only ROCm's meta sdist"),
        ("unsafe", "unsafe member name"),
    ],
)
def test_bad_sdists_are_refused(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / f"rocm-{gw.ROCM}.tar.gz"
    good = gw.rocm_sdist(tmp_path / "good").read_bytes()
    if content == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif content in ("other-name", "unsafe"):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w:gz") as tar:
            name = "../evil" if content == "unsafe" else f"rocm-{gw.ROCM}/PKG-INFO"
            data = b"Metadata-Version: 2.1\nName: numpy\nVersion: 1.0\n"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        path.write_bytes(raw.getvalue())
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    done = convert_rocm_meta(path, tmp_path / "out", ConversionOptions())
    assert done.error is not None and message in done.error.reason
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# -- output is reproducible and the CLI reports -------------------------------------------------


def test_conversions_are_reproducible(tmp_path: Path) -> None:
    wheel = gw.torch_rocm(tmp_path / "w", "gfx103X-dgpu")
    sdist = gw.rocm_sdist(tmp_path / "w")
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        out.mkdir()
        done = convert_wheel(wheel, out, ConversionOptions(gpu_family="gfx103X"))
        meta = convert_rocm_meta(sdist, out, ConversionOptions())
        assert done.ok and meta.ok
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.conda"))})
    assert digests[0] == digests[1] and len(digests[0]) == 4


def test_cli_reports_decisions_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheels = tmp_path / "v2" / "gfx103X-dgpu"
    wheel = gw.torch_rocm(wheels, "gfx103X-dgpu")
    gw.rocm_sdist(wheels)
    (wheels / "numpy-2.0.0.tar.gz").write_bytes(b"an unrelated sdist")
    out = tmp_path / "out"
    code = main(["convert", "--json", "--index-url", "https://rocm.nightlies.amd.com/v2/gfx103X-dgpu/", "-o", str(out), str(wheels)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc
    builds = sorted((i["name"], i["build"]) for i in doc["items"])
    assert builds == [("rocm", "py_gfx103X_0"), ("torch", f"py{gw.PY}_rocm7.11_gfx103X_20260104000"), ("torch-with-opt-einsum", f"py{gw.PY}_rocm7.11_gfx103X_20260104000")]
    assert any(w.startswith("skipped ") and "numpy-2.0.0.tar.gz: not a wheel" in w and "pip wheel --no-deps" in w for w in doc["warnings"])
    torch = next(i for i in doc["items"] if i["name"] == "torch")
    assert torch["track_features"] == "rocm"

    code = main(["convert", "-v", "-o", str(out), str(wheel)])
    text = capsys.readouterr()
    assert code == 0
    assert "rocm[libraries]==7.11.0a20260104" in text.out and "kept" in text.out
    assert "built per GPU family" in text.err  # warned: no family given this time

    code = main(["convert", "--rocm-meta", gw.ROCM, "--gpu-family", "gfx1151", "-o", str(out)])
    meta = out / "noarch" / f"rocm-{gw.ROCM}-py_gfx1151_0.conda"
    assert code == 0 and meta.exists()
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(_component(meta, "info"))) as raw:
        with tarfile.open(fileobj=raw, mode="r|") as tar:
            index = next(json.load(tar.extractfile(m)) for m in tar if m.name == "info/index.json")  # type: ignore[arg-type]
    assert index["depends"][-1] == f"rocm-sdk-libraries-gfx1151 =={gw.ROCM}"

    assert main(["convert", "--gpu-family", "gfx110X", "--index-url", "https://x/v2/gfx103X-dgpu/", str(wheel)]) == 2
    assert "contradicts" in capsys.readouterr().err
    assert main(["convert", "--gpu-family", "nvidia", str(wheel)]) == 2
    with pytest.raises(SystemExit):
        main(["convert", "--gpu-family", "gfx103X"])  # nothing to convert: a usage error


def _component(conda: Path, kind: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(conda) as zf:
        (name,) = [n for n in zf.namelist() if n.startswith(f"{kind}-")]
        return zf.read(name)
