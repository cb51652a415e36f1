"""``__amdgpu``: the AMD GPU architectures (gfx targets) of this machine, for conda's solver.

ROCm 7.13+ multi-arch packages (TheRock ``docs/rfcs/RFC0008-Multi-Arch-Packaging.md``) split
GPU code per architecture (``rocm-sdk-device-gfx1100``, ``amd-torch-device-gfx11``), chosen by
pip extras (``torch[device-gfx1100]``).  conda has no extras at install time; it picks hardware
variants through virtual packages, as it does for CUDA with ``__cuda``
(``conda/plugins/virtual_packages/cuda.py``).  This module provides the same for AMD GPUs:

    __amdgpu  version 1  build gfx1030_gfx1100   (the distinct gfx targets, sorted, "_"-joined)

A package built for one architecture depends on ``__amdgpu * *gfx1100*``.

Detection needs no ROCm installed: the amdgpu kernel driver's KFD topology lists every GPU
node with its ``gfx_target_version`` (``/sys/class/kfd/kfd/topology/nodes/*/properties``; a CPU
node says 0).  The number is ``major*10000 + minor*100 + stepping`` with minor and stepping
printed in hex in the target name (ROCm's ``rocminfo``/``hsa_agent_get_info`` naming):
``110000`` → ``gfx1100``, ``90010`` → ``gfx90a``, ``90402`` → ``gfx942``, ``110501`` → ``gfx1151``.

``CONDA_OVERRIDE_AMDGPU`` replaces the detected build string (``gfx1100`` or ``gfx1100_gfx942``;
conda applies it itself through ``override_entity="build"``; an empty value removes
``__amdgpu``), for machines without a GPU (CI, build hosts) and for testing.  Clients without
this plugin (pixi, rattler) are given the same virtual package explicitly, or select the
architecture by spec (``docs/gpu.md``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

NAME = "amdgpu"  # conda adds the "__"
VERSION = "1"
OVERRIDE_VARIABLE = "CONDA_OVERRIDE_AMDGPU"
KFD_NODES = Path("/sys/class/kfd/kfd/topology/nodes")
_TARGET = re.compile(r"^gfx[0-9]+[0-9a-f]{2}$")


def target_name(gfx_target_version: int) -> str | None:
    """``gfx1100`` for ``110000``; None for 0 (a CPU node) or a value that names no target."""
    if gfx_target_version <= 0:
        return None
    major, rest = divmod(gfx_target_version, 10000)
    minor, stepping = divmod(rest, 100)
    if major <= 0 or minor > 15 or stepping > 15:
        return None
    return f"gfx{major}{minor:x}{stepping:x}"


def targets_from_kfd(nodes: Path = KFD_NODES) -> list[str]:
    """The distinct gfx targets of the GPU nodes in a KFD topology folder (sorted); [] without one."""
    found: set[str] = set()
    try:
        node_dirs = sorted(nodes.iterdir())
    except OSError:
        return []
    for node in node_dirs:
        try:
            text = (node / "properties").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "gfx_target_version" and value.strip().isdigit():
                name = target_name(int(value))
                if name:
                    found.add(name)
    return sorted(found)


def build_string(targets: Iterable[str]) -> str | None:
    """``gfx1030_gfx1100`` for the targets (None when there are none)."""
    names = sorted({t.strip().lower() for t in targets if t.strip()})
    return "_".join(names) if names else None


def parse_override(value: str) -> list[str]:
    """Targets named in ``CONDA_OVERRIDE_AMDGPU`` (``gfx1100``, ``gfx1100_gfx942``, ``gfx1100,gfx942``)."""
    names = [t for t in re.split(r"[\s,_;]+", value.strip().lower()) if t]
    bad = [t for t in names if not _TARGET.match(t)]
    if bad:
        raise ValueError(f"{OVERRIDE_VARIABLE}={value!r}: {', '.join(bad)} is not a gfx target (e.g. gfx1100, gfx942, gfx90a)")
    return names


def detected_build(nodes: Path = KFD_NODES) -> str | None:
    """The ``__amdgpu`` build string of this machine, from the KFD topology (None: no AMD GPU)."""
    return build_string(targets_from_kfd(nodes))


def virtual_package(environ: dict[str, str] | None = None, nodes: Path = KFD_NODES) -> tuple[str, str, str] | None:
    """``(name, version, build)`` of ``__amdgpu`` for clients that take virtual packages as data
    (py-rattler's ``virtual_packages=``), honouring ``CONDA_OVERRIDE_AMDGPU``; None: no AMD GPU."""
    env = os.environ if environ is None else environ
    if OVERRIDE_VARIABLE in env:
        build = build_string(parse_override(env[OVERRIDE_VARIABLE]))
    else:
        build = detected_build(nodes)
    return (f"__{NAME}", VERSION, build) if build else None


def rattler_spec(environ: dict[str, str] | None = None, nodes: Path = KFD_NODES) -> str | None:
    """``__amdgpu=1=gfx1100`` (py-rattler's virtual-package form), or None."""
    found = virtual_package(environ, nodes)
    return "=".join(found) if found else None
