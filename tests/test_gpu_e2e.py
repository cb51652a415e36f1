"""End to end: one channel with ROCm (two families), CUDA and CPU builds of torch 2.9.1.

Everything is converted through the CLI from test-made wheels that mimic the real sets
(``tests/support/gpu_wheels.py``), published into one local channel, then solved and installed
with py-rattler: the requested variant comes with its matching ROCm/CUDA packages, the
defaults are CPU without a driver and CUDA with one, ROCm only when asked for, and mixes
that would break a GPU stack do not solve.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rattler import MatchSpec

from bridge.channel.index import index_channel
from bridge.check.standin import build_conda_package
from bridge.cli import main
from tests.support import gpu_wheels as gw
from tests.support.conda_env import HOST_SUBDIR, SolveError, install, run_in_prefix, solve

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not HOST_SUBDIR.startswith("linux-"), reason="the GPU sets are Linux wheels run on this host"),
]


def convert(*argv: str) -> None:
    assert main(["convert", "-q", "--zstd-level", "1", *argv]) == 0


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory, base_channel: Path) -> tuple[Path, ...]:
    root = tmp_path_factory.mktemp("gpu")
    mirror = root / "mirror"
    channel = root / "channel"
    for family in gw.FAMILIES:  # as downloaded from .../v2/<family>/
        index = gw.index_dir(mirror, family)
        # each family's CI job builds its own sdist, core and devel (same names and version,
        # different bytes: TheRock per-family era), so a family index holds a complete stack
        gw.rocm_sdist(index, families=[family])
        gw.rocm_core(index, family=family)
        gw.rocm_devel(index, family=family)
        gw.rocm_libraries(index, family)
        gw.torch_rocm(index, family)
        gw.triton_rocm(index)
        gw.filelock(index)
        convert("--channel", str(channel), "--index-url", f"https://rocm.nightlies.amd.com/v2/{family}/", str(index))
    cuda = mirror / "whl" / "cu124"
    gw.torch_cuda(cuda)
    for name, (version, library) in gw.CU124_COMPONENTS.items():
        gw.nvidia_component(cuda, name, version, library)
    cpu = mirror / "whl" / "cpu"
    gw.torch_cpu(cpu)
    gw.filelock(cpu)
    convert("--channel", str(channel), str(cuda), str(cpu))

    cuda13 = root / "cuda13-channel"  # PyPI torch 2.11 (CUDA 13 via cuda-toolkit extras)
    pypi = mirror / "pypi"
    gw.torch_cuda13(pypi)
    gw.cuda_toolkit(pypi)
    for name, version, library in (("nvidia-cublas", "13.1.0.3", "libcublas.so.13"), ("nvidia-cuda-runtime", "13.0.96", "libcudart.so.13")):
        gw.nvidia_component(pypi, name, version, library)
    gw.filelock(pypi)
    convert("--channel", str(cuda13), str(pypi))

    extra = root / "cuda-version"  # conda-forge's cuda-version, as a stand-in
    for version in ("11.8", "12.4"):
        build_conda_package(
            extra / "noarch", {"name": "cuda-version", "version": version, "build": "0", "noarch": "generic", "constrains": [f"__cuda >={version.split('.')[0]}"]}
        )
    index_channel(extra)
    return base_channel, channel, cuda13, extra


def picked(records: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {r.name.normalized: str(r.build) for r in records}


def test_default_without_a_driver_is_cpu(channels: tuple[Path, ...]) -> None:
    base, channel, *_ = channels
    chosen = picked(solve([base, channel], ["torch"]))
    assert chosen["torch"] == f"py{gw.PY}_cpu_0"
    assert not any(n.startswith(("nvidia", "rocm")) for n in chosen)


def test_default_with_a_driver_is_cuda_and_runs(channels: tuple[Path, ...], prefix_factory) -> None:  # type: ignore[no-untyped-def]
    base, channel, *_ = channels
    prefix = prefix_factory()
    chosen = picked(install([base, channel], ["torch"], prefix, virtual_packages=["__cuda=12.4"]))
    assert chosen["torch"] == f"py{gw.PY}_cu124_100"
    assert {"nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12"} <= set(chosen)
    assert not any(n.startswith("rocm") for n in chosen)
    result = run_in_prefix(prefix, "python", "-c", "import torch; print(torch.VARIANT)")  # finds nvidia/*/lib/*.so.12
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cuda 12.4"


DANGLING = (
    "import pathlib, sysconfig\n"
    "site = pathlib.Path(sysconfig.get_paths()['purelib'])\n"
    "links = [p for p in (site / '_rocm_sdk_devel').rglob('*') if p.is_symlink()]\n"
    "print(len(links), sorted(str(p.relative_to(site)) for p in links if not p.exists()))\n"
)


@pytest.mark.parametrize(("tag", "family"), [("gfx103X", "gfx103X-dgpu"), ("gfx110X", "gfx110X-all")])
def test_rocm_variant_installs_with_its_stack_and_runs(channels: tuple[Path, ...], prefix_factory, tag: str, family: str) -> None:  # type: ignore[no-untyped-def]
    """Every family's core and devel sit in one channel; a family's torch gets that family's stack."""
    base, channel, *_ = channels
    prefix = prefix_factory()
    records = install([base, channel], [f"torch[version='2.9.*', build='*rocm7.11*{tag}*']", "rocm-sdk-devel"], prefix)
    chosen = picked(records)
    assert chosen["torch"] == f"py{gw.PY}_rocm7.11_{tag}_20260104000"
    assert chosen["rocm"] == f"py_{tag}_0"
    assert chosen[f"rocm-sdk-libraries-{family.lower()}"] == f"{tag}_0"
    assert chosen["triton"] == f"py{gw.PY}_rocm7.11_{tag}_20260104000"
    assert chosen["rocm-sdk-core"] == chosen["rocm-sdk-devel"] == f"{tag}_0"
    assert not [n for n in chosen if n.startswith("rocm-sdk-libraries-") and tag.lower() not in n]
    result = run_in_prefix(prefix, "python", "-c", "import torch; print(torch.VARIANT, torch.BUILT_FOR)")
    assert result.returncode == 0, result.stderr
    # (TheRock's _dist_info.py of 7.11.0a20260104 prints a warning when offload-arch is missing)
    assert result.stdout.splitlines()[-1].split() == ["rocm", family, family]
    targets = run_in_prefix(prefix, "rocm-sdk", "targets")  # TheRock's __main__: core's dist_info.json
    assert targets.returncode == 0, targets.stderr
    assert targets.stdout.strip() == gw.FAMILY_TARGETS[family]
    links = run_in_prefix(prefix, "python", "-c", DANGLING)  # devel links into core and the family's libraries
    assert links.returncode == 0, links.stderr
    assert links.stdout.split(" ", 1) == ["5", "[]\n"]
    root = run_in_prefix(prefix, "rocm-sdk", "path", "--root")  # the devel tree needs no expansion
    assert root.returncode == 0 and root.stdout.strip().endswith("_rocm_sdk_devel"), root.stderr


@pytest.mark.parametrize(
    "spec",
    [
        MatchSpec("torch=2.9.*=*rocm7.11*"),  # conda's form (rattler's lenient parser)
        "torch[build=*gfx110X*]",
        "torch 2.9.* *gfx110X*",
        "rocm[build=*gfx110X*]",
    ],
)
def test_selection_recipes(channels: tuple[Path, ...], spec: object) -> None:
    base, channel, *_ = channels
    chosen = picked(solve([base, channel], [spec]))  # type: ignore[list-item]
    assert chosen["rocm"].startswith("py_gfx1")
    if "torch" in chosen:
        assert "rocm7.11" in chosen["torch"]
        assert chosen["torch"].split("_")[2] == chosen["rocm"].split("_")[1]  # one family


@pytest.mark.parametrize(
    ("specs", "virtual"),
    [
        (["torch[build=*gfx103X*]", "rocm-sdk-libraries-gfx110x-all"], []),
        (["torch[build=*gfx103X*]", "rocm[build=*gfx110X*]"], []),
        (["torch[build=*gfx103X*]", "triton[build=*gfx110X*]"], []),
        (["torch[build=*gfx103X*]", "rocm-sdk-core[build=*gfx110X*]"], []),
        (["torch[build=*gfx103X*]", "rocm-sdk-devel[build=*gfx110X*]"], []),
        # no rocm in the request: core is in every stack, and each family's packages pin it
        (["rocm-sdk-core[build=*gfx103X*]", "rocm-sdk-libraries-gfx110x-all"], []),
        (["rocm-sdk-devel[build=*gfx110X*]", "rocm-sdk-libraries-gfx103x-dgpu"], []),
        (["triton[build=*gfx110X*]", "rocm-sdk-libraries-gfx103x-dgpu"], []),
        (["rocm-sdk-libraries-gfx110x-all", "rocm-sdk-libraries-gfx103x-dgpu"], []),
        (["torch[build=*cu124*]"], []),  # no driver
        (["torch[build=*cu124*]", "cuda-version 11.8.*"], ["__cuda=12.4"]),
    ],
)
def test_inconsistent_mixes_do_not_solve(channels: tuple[Path, ...], specs: list[str], virtual: list[str]) -> None:
    base, channel, _, extra = channels
    with pytest.raises(SolveError):
        solve([base, channel, extra], specs, virtual_packages=virtual)


def test_consistent_cuda_stack_with_cuda_version(channels: tuple[Path, ...]) -> None:
    base, channel, _, extra = channels
    chosen = picked(solve([base, channel, extra], ["torch", "cuda-version 12.*"], virtual_packages=["__cuda=12.4"]))
    assert chosen["torch"].endswith("_cu124_100")


def test_cuda_toolkit_extras_install_their_components(channels: tuple[Path, ...], prefix_factory) -> None:  # type: ignore[no-untyped-def]
    base, _, cuda13, _ = channels
    prefix = prefix_factory()
    chosen = picked(install([base, cuda13], ["torch"], prefix, virtual_packages=["__cuda=13.0"]))
    assert chosen["cuda-toolkit"] == "py_linux_0"
    assert {"cuda-toolkit-with-cublas", "cuda-toolkit-with-cudart", "nvidia-cublas", "nvidia-cuda-runtime"} <= set(chosen)
    assert "nvidia-cufile" not in chosen
    result = run_in_prefix(prefix, "python", "-c", "import torch; print(torch.VARIANT)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cuda 13"
