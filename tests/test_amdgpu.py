"""``__amdgpu``: AMD GPU targets from the KFD topology, CONDA_OVERRIDE_AMDGPU, and a solve that
picks per-architecture device packages through it (issue 18, multi-arch).

The KFD properties file shape is the amdgpu driver's (``/sys/class/kfd/kfd/topology/nodes/N/properties``:
one ``name value`` per line, ``gfx_target_version 0`` on CPU nodes).  The multi-arch channel here
is hand-built in the shape of TheRock's kpack split (``rocm-sdk-libraries`` host package,
``rocm-sdk-device-<gfx>`` per architecture overlaying it, ``build_tools/_therock_utils/py_packaging.py``
at 89553ce) plus the selector this project proposes (``docs/gpu.md``, "Multi-arch"); converting
TheRock's multi-arch wheels into it is not implemented yet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.channel.index import index_channel
from bridge.gpu.amdgpu import build_string, parse_override, rattler_spec, target_name, targets_from_kfd, virtual_package
from bridge.check.standin import build_conda_package
from tests.support.conda_env import SolveError, solve

CPU_NODE = "cpu_cores_count 16\nsimd_count 0\ngfx_target_version 0\n"


def gpu_node(version: int) -> str:
    return f"cpu_cores_count 0\nsimd_count 192\nmem_banks_count 1\ngfx_target_version {version}\nvendor_id 4098\n"


@pytest.mark.parametrize(
    ("value", "name"),
    [(110000, "gfx1100"), (110001, "gfx1101"), (100300, "gfx1030"), (90010, "gfx90a"), (90402, "gfx942"), (110501, "gfx1151"), (120001, "gfx1201"), (0, None), (91600, None)],
)
def test_target_names(value: int, name: str | None) -> None:
    assert target_name(value) == name


def test_targets_from_a_kfd_topology(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    for n, text in enumerate([CPU_NODE, gpu_node(110000), gpu_node(90402), gpu_node(110000)]):
        (nodes / str(n)).mkdir(parents=True)
        (nodes / str(n) / "properties").write_text(text)
    (nodes / "9").mkdir()  # a node without properties is skipped
    assert targets_from_kfd(nodes) == ["gfx1100", "gfx942"]
    assert virtual_package({}, nodes) == ("__amdgpu", "1", "gfx1100_gfx942")
    assert targets_from_kfd(tmp_path / "absent") == [] and virtual_package({}, tmp_path / "absent") is None


def test_override(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    assert rattler_spec({"CONDA_OVERRIDE_AMDGPU": "gfx1100"}, absent) == "__amdgpu=1=gfx1100"
    assert rattler_spec({"CONDA_OVERRIDE_AMDGPU": "gfx942,gfx1100"}, absent) == "__amdgpu=1=gfx1100_gfx942"
    assert virtual_package({"CONDA_OVERRIDE_AMDGPU": ""}, absent) is None  # empty: no AMD GPU
    assert build_string(parse_override("GFX90A")) == "gfx90a"
    with pytest.raises(ValueError, match="not a gfx target"):
        parse_override("rdna3")


@pytest.fixture(scope="module")
def multiarch_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    channel = tmp_path_factory.mktemp("multiarch") / "channel"
    noarch, linux = channel / "noarch", channel / "linux-64"
    v = "7.13.0a20260501"
    build_conda_package(linux, {"name": "rocm-sdk-core", "version": v, "build": "0"}, {"lib/python3.11/site-packages/_rocm_sdk_core/__init__.py": ""})
    build_conda_package(linux, {"name": "rocm-sdk-libraries", "version": v, "build": "0", "depends": [f"rocm-sdk-core =={v}"]}, {"lib/python3.11/site-packages/_rocm_sdk_libraries/__init__.py": ""})
    for target in ("gfx1100", "gfx942"):
        build_conda_package(
            linux, {"name": f"rocm-sdk-device-{target}", "version": v, "build": "0", "depends": [f"rocm-sdk-libraries =={v}"]},
            {f"lib/python3.11/site-packages/_rocm_sdk_libraries/{target}.kpack": target},
        )
        # the selector: one build per architecture, installable where __amdgpu names it
        build_conda_package(noarch, {"name": "rocm-device", "version": v, "build": f"{target}_0", "noarch": "generic",
                                     "depends": [f"__amdgpu * *{target}*", f"rocm-sdk-device-{target} =={v}"]}, {})
    build_conda_package(linux, {"name": "torch", "version": "2.11.0", "build": "rocm7.13_0", "depends": [f"rocm-sdk-libraries =={v}", f"rocm-device =={v}"]},
                        {"lib/python3.11/site-packages/torch/__init__.py": ""})
    index_channel(channel)
    return channel


@pytest.mark.parametrize(("override", "device"), [("gfx1100", "rocm-sdk-device-gfx1100"), ("gfx942", "rocm-sdk-device-gfx942")])
def test_plain_torch_gets_the_machines_device_packages(multiarch_channel: Path, override: str, device: str) -> None:
    vp = rattler_spec({"CONDA_OVERRIDE_AMDGPU": override})
    assert vp is not None
    names = {r.name.normalized for r in solve([multiarch_channel], ["torch"], virtual_packages=[vp])}
    assert {"torch", "rocm-sdk-core", "rocm-sdk-libraries", "rocm-device", device} <= names
    assert not [n for n in names if n.startswith("rocm-sdk-device-") and n != device]


def test_no_amdgpu_no_device_packages(multiarch_channel: Path) -> None:
    with pytest.raises(SolveError):
        solve([multiarch_channel], ["torch"])
