"""ROCm multi-arch (kpack split) packages end to end: TheRock's ``whl-multi-arch/`` wheel set
(``tests/support/multiarch_wheels.py``) converted into one channel, installed with py-rattler, and
solved by real conda with our plugin where that conda is present (``/work/wt/conda-real``).

The scheme (``bridge/translate/multiarch.py``, docs/gpu.md "Multi-arch"): host packages once, device
packages once per target, selectors ``rocm-device``/``torch-device`` chosen by ``__amdgpu``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.translate.multiarch import device_extra_target, device_package, per_target_extras, selector_terms
from bridge.translate.variants import family_from_name
from tests.support import multiarch_wheels as mw
from tests.support.conda_env import HOST_SUBDIR, SolveError, install, run_in_prefix, solve
from tests.support.index_server import IndexServer, write_simple_index

pytestmark = pytest.mark.skipif(not HOST_SUBDIR.startswith("linux-"), reason="the multi-arch set is Linux wheels run on this host")

GFX1100 = "__amdgpu=1=gfx1100"
GFX942 = "__amdgpu=1=gfx942"


def test_device_packages_are_targets_not_families() -> None:
    assert family_from_name("rocm-sdk-device-gfx942") is None  # was read as family gfx942
    assert family_from_name("amd-torch-device-gfx11") is None
    assert str(family_from_name("rocm-sdk-libraries-gfx110X-all")) == "gfx110X-all"  # per-family names still are
    assert device_package("amd_torch_device_gfx12_0") == device_package("amd-torch-device-gfx12-0")
    assert device_package("rocm-sdk-device-gfx1100") is not None and device_package("rocm-sdk-devel") is None
    assert [device_extra_target(e) for e in ("device-gfx1100", "device-gfx90a", "device-all", "device", "devel")] == ["gfx1100", "gfx90a", "all", None, None]
    # TheRock's build_per_target_extras, read statically (xnack variants merged; one target: none)
    extras = per_target_extras("device", "rocm-sdk-device-{target_family}", ["gfx942:xnack+", "gfx942", "gfx1100"], "7.13")
    assert extras == {
        "device-gfx1100": ["rocm-sdk-device-gfx1100==7.13"],
        "device-gfx942": ["rocm-sdk-device-gfx942==7.13"],
        "device-all": ["rocm-sdk-device-gfx1100==7.13", "rocm-sdk-device-gfx942==7.13"],
    }
    assert per_target_extras("device", "rocm-sdk-device-{target_family}", ["gfx942"], "7.13") == {}
    assert selector_terms("rocm", "gfx1100", "rocm").depends == ("__amdgpu * *gfx1100*",)
    assert selector_terms("torch", "gfx1100", "rocm").depends == ("rocm-device * *gfx1100*",)
    ranks = {t: selector_terms("rocm", t, "rocm").build_number_offset for t in ("gfx942", "none", "all")}
    assert ranks["gfx942"] > ranks["none"] > ranks["all"]


def convert(*argv: str) -> None:
    assert main(["convert", "-q", "--zstd-level", "1", *argv]) == 0


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One night of ``whl-multi-arch/``, served over loopback and mirrored as pip would, converted."""
    root = tmp_path_factory.mktemp("multiarch")
    files = mw.multiarch_index(root / "build")
    index = write_simple_index(root / "whl-multi-arch", files)
    mirror = root / "mirror"
    mirror.mkdir()
    with IndexServer(root) as server:  # the flat index: one page per project, files beside them
        import urllib.request

        for f in files:
            with urllib.request.urlopen(f"{server.url}/whl-multi-arch/{f.name}") as response:
                (mirror / f.name).write_bytes(response.read())
    assert sorted(p.name for p in mirror.iterdir()) == sorted(f.name for f in files) and index.is_dir()
    out = root / "channel"
    convert("--channel", str(out), str(mirror))
    return out


def names(records: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {r.name.normalized: str(r.build) for r in records}


def test_host_once_device_per_target_no_family(channel: Path) -> None:
    built = sorted(p.name for p in channel.glob("*/*.conda"))
    stems = [n.removesuffix(".conda") for n in built]
    assert f"rocm-sdk-device-gfx1100-{mw.ROCM}-0" in stems and f"rocm-sdk-device-gfx942-{mw.ROCM}-0" in stems
    assert f"rocm-sdk-libraries-{mw.ROCM}-0" in stems and f"rocm-sdk-core-{mw.ROCM}-0" in stems and f"rocm-{mw.ROCM}-py_0" in stems
    assert [s for s in stems if s.startswith("torch-2.11.0-")] == [f"torch-2.11.0-py{mw.PY}_rocm7.13_20260501000"]
    assert sorted(s for s in stems if s.startswith("rocm-device-")) == sorted(
        f"rocm-device-{mw.ROCM}-py_{b}" for b in ("gfx1100_2", "gfx942_2", "none_1", "all_0")
    )
    assert len([s for s in stems if s.startswith("torch-device-")]) == 4
    assert not [s for s in stems if "-with-device" in s]  # device extras are selectors, not <name>-with-<extra>


@pytest.mark.parametrize(("gpu", "target", "torch_bundles"), [(GFX1100, "gfx1100", ["gfx11", "gfx1100"]), (GFX942, "gfx942", ["gfx942"])])
def test_amdgpu_picks_the_machines_device_packages(channel: Path, base_channel: Path, gpu: str, target: str, torch_bundles: list[str]) -> None:
    chosen = names(solve([base_channel, channel], ["torch"], virtual_packages=[gpu]))
    assert chosen["rocm-device"] == f"py_{target}_2"
    assert sorted(n for n in chosen if "-device-" in n) == sorted([f"rocm-sdk-device-{target}", *(f"amd-torch-device-{b}" for b in torch_bundles)])
    assert {"torch", "rocm", "rocm-sdk-core", "rocm-sdk-libraries", "torch-device"} <= set(chosen)


def test_two_gpus_get_one_of_their_targets(channel: Path, base_channel: Path) -> None:
    chosen = names(solve([base_channel, channel], ["torch"], virtual_packages=["__amdgpu=1=gfx1100_gfx942"]))
    assert chosen["rocm-device"] in ("py_gfx1100_2", "py_gfx942_2")


def test_no_gpu_is_host_only_and_runs(channel: Path, base_channel: Path, prefix_factory) -> None:  # type: ignore[no-untyped-def]
    """Without __amdgpu (and without a spec) torch installs host code only, as `pip install torch` there."""
    prefix = prefix_factory()
    chosen = names(install([base_channel, channel], ["torch"], prefix))
    assert chosen["rocm-device"] == "py_none_1" and chosen["torch-device"].startswith(f"py{mw.PY}_rocm7.13_none_")
    assert not [n for n in chosen if "-device-" in n]
    result = run_in_prefix(prefix, "python", "-c", "import torch; print(torch.KPACKS, torch.ROCM_KPACKS)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[] []"


def test_amdgpu_install_runs_with_its_kpacks(channel: Path, base_channel: Path, prefix_factory) -> None:  # type: ignore[no-untyped-def]
    prefix = prefix_factory()
    install([base_channel, channel], ["torch"], prefix, virtual_packages=[GFX1100])
    result = run_in_prefix(prefix, "python", "-c", "import torch; print(torch.KPACKS, torch.ROCM_KPACKS)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['torch_gfx1100.kpack'] ['blas_lib_gfx1100.kpack']"


@pytest.mark.parametrize(
    ("specs", "devices"),
    [
        (["torch", "amd-torch-device-gfx942"], ["amd-torch-device-gfx942", "rocm-sdk-device-gfx942"]),  # TheRock's "legacy pip" tier
        (["torch", "torch-device[build=*all*]"], ["amd-torch-device-gfx11", "amd-torch-device-gfx1100", "amd-torch-device-gfx942", "rocm-sdk-device-gfx1100", "rocm-sdk-device-gfx942"]),
        (["rocm"], []),
        (["rocm", "rocm-device[build=*all*]"], ["rocm-sdk-device-gfx1100", "rocm-sdk-device-gfx942"]),
    ],
)
def test_explicit_choice_without_the_virtual_package(channel: Path, base_channel: Path, specs: list[str], devices: list[str]) -> None:
    """pixi/rattler without the plugin: name the device package, or the ``all`` build."""
    chosen = names(solve([base_channel, channel], specs))
    assert sorted(n for n in chosen if "-device-" in n) == devices


def test_a_target_build_needs_its_gpu(channel: Path, base_channel: Path) -> None:
    with pytest.raises(SolveError):
        solve([base_channel, channel], ["torch", "rocm-device[build=*gfx942*]"], virtual_packages=[GFX1100])
    assert names(solve([base_channel, channel], ["torch", "rocm-device[build=*gfx942*]"], virtual_packages=[GFX942]))["rocm-device"] == "py_gfx942_2"


def test_a_dependency_on_a_device_extra_follows_the_selector(channel: Path, tmp_path: Path) -> None:
    """``vllm`` requiring ``torch[device-gfx1100]`` (ROCm/vllm#1008) depends on torch's selector build for gfx1100."""
    from tests.support.wheels import build_wheel

    wheel = build_wheel(tmp_path / "in", "vllm", "0.9.0", files={"vllm/__init__.py": ""}, requires_dist=["torch[device-gfx1100]==2.11.0"])
    convert("-o", str(tmp_path / "out"), str(wheel))
    from bridge.channel.records import read_index_json

    (pkg,) = (tmp_path / "out").glob("*/vllm-*.conda")
    assert "torch-device ==2.11.0 *gfx1100*" in read_index_json(pkg)["depends"]


CONDA_REAL = Path("/work/wt/conda-real")


@pytest.mark.skipif(not (CONDA_REAL / "env.sh").is_file(), reason="no real conda here (/work/wt/conda-real)")
def test_real_conda_with_the_plugin_picks_the_override(channel: Path, tmp_path: Path) -> None:
    """conda 26.7.1 with wheel2conda's plugin (this checkout, through PYTHONPATH): ``CONDA_OVERRIDE_AMDGPU`` chooses."""
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo)}
    script = (
        f". {CONDA_REAL}/env.sh && cd {tmp_path} && "
        f"conda create --dry-run -p {tmp_path}/env -c file://{channel} -c file://{CONDA_REAL}/pychan python=3.11 torch"
    )
    shown = {}
    for override in ("gfx1100", "gfx942", ""):
        result = subprocess.run(["bash", "-c", script], env={**env, "CONDA_OVERRIDE_AMDGPU": override}, capture_output=True, text=True, timeout=300)
        assert "DryRunExit" in result.stdout + result.stderr, result.stdout + result.stderr
        planned = [line.split()[-1].split("::")[-1] for line in result.stdout.splitlines() if "::" in line]
        shown[override] = [p for p in planned if p.startswith(("rocm-device-", "rocm-sdk-device-", "amd-torch-device-"))]
    assert shown["gfx1100"] == [
        "amd-torch-device-gfx11-2.11.0-py311_rocm7.13_20260501000",
        "amd-torch-device-gfx1100-2.11.0-py311_rocm7.13_20260501000",
        f"rocm-device-{mw.ROCM}-py_gfx1100_2",
        f"rocm-sdk-device-gfx1100-{mw.ROCM}-0",
    ]
    assert shown["gfx942"] == ["amd-torch-device-gfx942-2.11.0-py311_rocm7.13_20260501000", f"rocm-device-{mw.ROCM}-py_gfx942_2", f"rocm-sdk-device-gfx942-{mw.ROCM}-0"]
    assert shown[""] == [f"rocm-device-{mw.ROCM}-py_none_1"]


@pytest.mark.e2e
def test_recipes_over_the_multi_arch_index_make_the_same_packages(channel: Path, base_channel: Path, tmp_path: Path) -> None:
    """``recipes regenerate`` + ``build`` over the loopback ``whl-multi-arch/`` index: the same host, device and selector packages as ``convert``."""
    files = mw.multiarch_index(tmp_path / "build")
    write_simple_index(tmp_path / "www" / "whl-multi-arch", files)
    recipes, built = tmp_path / "recipes", tmp_path / "channel"
    recipes.mkdir()
    wheels = ["rocm-sdk-core", "rocm-sdk-libraries", "rocm-sdk-device-*", "rocm-sdk-devel", "torch", "amd-torch-device-*", "rocm-bootstrap", "filelock"]
    with IndexServer(tmp_path / "www") as server:
        (recipes / "sources.yaml").write_text(
            "sources:\n  - name: rocm-multi-arch\n"
            f"    index: {server.url}/whl-multi-arch/\n    platforms: [{HOST_SUBDIR}]\n    versions: {{policy: any, keep: 1}}\n    packages:\n"
            '      - name: rocm\n        meta: {requires: ["rocm-sdk-core=={version}", "rocm-sdk-libraries=={version}"]}\n'
            + "".join(f'      - "{w}"\n' for w in wheels)
        )
        assert main(["recipes", "regenerate", "-q", "--config", str(recipes / "sources.yaml"), "--retries", "0", "--timeout", "5"]) == 0
        assert main(["recipes", "build", "-q", "--recipes", str(recipes), "--channel", str(built), "--cache", str(tmp_path / "cache"), "--retries", "0", "--timeout", "5"]) == 0
    assert sorted(p.relative_to(built).as_posix() for p in built.glob("*/*.conda")) == sorted(p.relative_to(channel).as_posix() for p in channel.glob("*/*.conda"))
    chosen = names(solve([base_channel, built], ["torch"], virtual_packages=[GFX1100]))
    assert chosen["rocm-device"] == "py_gfx1100_2" and "amd-torch-device-gfx1100" in chosen and "rocm-sdk-device-gfx942" not in chosen
