"""Extensions built for one framework build (``+cu124torch2.4``, ``+rocm6.2torch2.5``) pin its backend too.

A FlashInfer-like wheel ``0.2.3+cu124torch2.4`` must never be installed next to a CPU or a
ROCm torch: its torch dependency carries the build-string part our ``torch+cu124`` builds
have (``py311_cu124_100``).  Converted through the CLI, solved and installed with py-rattler.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rattler import MatchSpec

import tests.support.gpu_wheels as gw
from bridge.channel.index import index_channel
from bridge.check.standin import build_conda_package
from bridge.cli import main
from bridge.pipelines.inputs import open_distribution
from bridge.plan.types import ConversionOptions
from bridge.plan.wheel_to_conda import plan_packages
from bridge.translate.names import NameMap
from tests.support.conda_env import HOST_SUBDIR, SolveError, install, run_in_prefix, solve
from tests.support.wheels import build_wheel

pytestmark = pytest.mark.skipif(not HOST_SUBDIR.startswith("linux-"), reason="the CUDA set is Linux wheels run on this host")
CUDA = ["__cuda=12.4"]


def flashinfer(out: Path, label: str = "cu124torch2.4") -> Path:
    return build_wheel(out, "flashinfer-python", f"0.2.3+{label}", tag=f"cp38-abi3-{gw.HOST_TAG}", requires_dist=["torch", "ninja"],
                       files={"flashinfer/__init__.py": "import torch\nTORCH = torch.VARIANT\n"})


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory, base_channel: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pins")
    wheels = root / "wheels"
    flashinfer(wheels)
    gw.torch_cuda(wheels, "2.4.1")
    gw.torch_cpu(wheels, "2.4.1")
    for name, (version, library) in gw.CU124_COMPONENTS.items():
        gw.nvidia_component(wheels, name, version, library)
    gw.filelock(wheels)
    build_wheel(wheels, "ninja", "1.11.1", files={"ninja/__init__.py": ""})
    channel = root / "channel"
    assert main(["convert", "-q", "--zstd-level", "1", "--channel", str(channel), str(wheels)]) == 0
    # a ROCm torch 2.4 as our converter names it (py311_rocm6.2_0), installable anywhere
    build_conda_package(channel / HOST_SUBDIR, {"name": "torch", "version": "2.4.1", "build": f"py{gw.PY}_rocm6.2_0", "depends": [f"python {gw.HOST_PY}.*"]})
    index_channel(channel)
    return base_channel, channel


def picked(records: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {r.name.normalized: str(r.build) for r in records}


@pytest.mark.e2e
@pytest.mark.parametrize("torch", ["torch[build=*cpu*]", MatchSpec("torch=*=*cpu*"), "torch[build=*rocm*]"])
def test_cuda_extension_never_pairs_with_a_cpu_or_rocm_torch(channels: tuple[Path, Path], torch: object) -> None:
    assert picked(solve(list(channels), [torch], virtual_packages=CUDA))["torch"].split("_")[1] in ("cpu", "rocm6.2")  # each exists alone
    with pytest.raises(SolveError):
        solve(list(channels), ["flashinfer-python", torch], virtual_packages=CUDA)  # type: ignore[list-item]


@pytest.mark.e2e
def test_cuda_extension_installs_with_the_cuda_torch_and_runs(channels: tuple[Path, Path], prefix_factory) -> None:  # type: ignore[no-untyped-def]
    prefix = prefix_factory()
    chosen = picked(install(list(channels), ["flashinfer-python"], prefix, virtual_packages=CUDA))
    assert chosen["flashinfer-python"] == "py38_abi3_cu124_torch2.4_100"
    assert chosen["torch"] == f"py{gw.PY}_cu124_100"
    result = run_in_prefix(prefix, "python", "-c", "import flashinfer; print(flashinfer.TORCH)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cuda 12.4"
    with pytest.raises(SolveError):  # and without a driver it is not installable at all
        solve(list(channels), ["flashinfer-python"], default_virtuals=True)


@pytest.mark.parametrize(
    ("label", "names", "spec"),
    [
        ("cu124torch2.4", "pypi", "torch <2.5a0,>=2.4 *cu124*"),
        ("cu12torch2.4cxx11abiTRUE", "pypi", "torch <2.5a0,>=2.4 *cu12*"),  # flash-attn's newer labels name only the CUDA major
        ("rocm6.2torch2.5", "pypi", "torch <2.6a0,>=2.5 *rocm6.2*"),
        ("cu124torch2.4", "conda-forge", "pytorch <2.5a0,>=2.4 *cuda*"),  # conda-forge pytorch: cuda126_…, cpu_…
    ],
)
def test_framework_dependency_carries_the_backend(tmp_path: Path, label: str, names: str, spec: str) -> None:
    wheel = flashinfer(tmp_path, label)
    with open_distribution(wheel, hash_source=False) as dist:
        (pkg,) = plan_packages(dist, ConversionOptions(names=NameMap.create(names)))  # type: ignore[arg-type]
    assert spec in pkg.depends
