"""``__amdgpu``: AMD GPU targets from the KFD topology and CONDA_OVERRIDE_AMDGPU (issue 18, multi-arch).

The KFD properties file shape is the amdgpu driver's (``/sys/class/kfd/kfd/topology/nodes/N/properties``:
one ``name value`` per line, ``gfx_target_version 0`` on CPU nodes).  Solves that pick device
packages through ``__amdgpu``, from TheRock's converted multi-arch wheels, are in
``tests/test_multiarch.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.gpu.amdgpu import build_string, parse_override, rattler_spec, target_name, targets_from_kfd, virtual_package

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
