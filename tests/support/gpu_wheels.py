"""Test-made GPU wheel sets that mimic the real ones (names, versions, metadata, layout).

ROCm nightly set (TheRock, per-family era, ``shared/docs/gpu-wheels.md`` §1-§8):
``rocm-7.11.0a20260104.tar.gz`` (the selector sdist), ``rocm-sdk-core``,
``rocm-sdk-libraries-<family>`` (file names lower-cased, METADATA keeping ``gfx103X``), and
per family ``torch 2.9.1+rocm7.11.0a20260104`` requiring ``rocm[libraries]==…`` and
``triton==3.5.1+rocm7.11.0a20260104`` (Linux).  The fake code checks at import time that it
sits beside the right family's libraries, as TheRock's torch does through ``rocm_sdk``.

CUDA set (PyTorch index / PyPI, §11-§12): ``torch 2.9.1+cu124`` with ``nvidia-*-cu12``
dependencies behind Linux markers; ``torch 2.11.0`` depending on
``cuda-toolkit[cublas,cudart]==13.0.2`` (a ``py2.py3-none-any`` metapackage whose extras
name the components, copied in shape from the real 13.0.2 METADATA).
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

from bridge.check.client import HOST_SUBDIR
from bridge.check.standin import HOST_PY
from tests.support.wheels import build_wheel

ROCM = "7.11.0a20260104"
FAMILIES = ("gfx103X-dgpu", "gfx110X-all")
PY = HOST_PY.replace(".", "")
#: Platform tag of wheels made for the machine running the tests.
HOST_TAG = {"linux-64": "linux_x86_64", "linux-aarch64": "linux_aarch64"}.get(HOST_SUBDIR, "linux_x86_64")
MANYLINUX = HOST_TAG.replace("linux_", "manylinux_2_28_")
LINUX_ONLY = 'platform_system == "Linux"'
LINUX_X86 = 'platform_system == "Linux" and platform_machine == "x86_64"'


def index_dir(root: Path, family: str) -> Path:
    """Where a per-family index mirror would keep its files (``…/v2/<family>/``)."""
    return root / "v2" / family


# -- ROCm --------------------------------------------------------------------------------------
#
# Shapes from TheRock at 3077ce801 (the 7.11.0a20260104 nightly line):
# - ``_dist_info.py``: the template (tests/data/therock/_dist_info.py, verbatim) plus the lines
#   ``build_tools/_therock_utils/py_packaging.py`` appends: ``Parameters.__init__`` adds
#   ``__version__``, ``PY_PACKAGE_SUFFIX_NONCE``, ``DEFAULT_TARGET_FAMILY`` (sorted(families)[0])
#   and one ``AVAILABLE_TARGET_FAMILIES.append(...)`` per family; ``PopulatedDistPackage.__init__``
#   adds ``THIS_TARGET_FAMILY``/``THIS_PACKAGE_ENTRY`` to each wheel's copy
#   (``src/<pure_py_package_name>/_dist_info.py``).
# - Per-family CI builds every wheel per family, so a family index holds its own core and devel:
#   same name and version as the other families', different bytes (their ``_dist_info.py``, core's
#   ``share/therock/dist_info.json`` from ``base/aux-overlay/CMakeLists.txt`` with the family's
#   ``GPU_TARGETS``, which ``rocm-sdk targets`` prints; devel's links into the family's libraries).
# - devel: ``rocm_sdk_devel/_devel.tar`` (uncompressed by default) holding ``_rocm_sdk_devel/…``,
#   files already in a runtime wheel as relative links ``../../_rocm_sdk_core/<relpath>``
#   (``populate_devel_files``/``_populate_devel_file``), soname aliases as links.
# - core's platform files: ``lib/*.so.N`` on Linux, ``bin/*.dll`` on Windows.

THEROCK = Path(__file__).resolve().parent.parent / "data" / "therock"
#: GPU_TARGETS per family (cmake/therock_amdgpu_targets.cmake, FAMILY lists).
FAMILY_TARGETS = {
    "gfx103X-dgpu": "gfx1030;gfx1032",
    "gfx103X-all": "gfx1030;gfx1032",
    "gfx110X-all": "gfx1100;gfx1101;gfx1102;gfx1103",
    "gfx110X-dgpu": "gfx1100;gfx1101;gfx1102",
    "gfx94X-dcgpu": "gfx942",
    "gfx120X-all": "gfx1200;gfx1201",
    "gfx1151": "gfx1151",
}


def therock_dist_info(version: str, families: Sequence[str], logical_name: str | None = None, this_family: str | None = None) -> str:
    """``_dist_info.py`` exactly as py_packaging.py writes it (template + generated lines)."""
    text = (THEROCK / "_dist_info.py").read_text()
    text += f"__version__ = '{version}'\n"
    text += "PY_PACKAGE_SUFFIX_NONCE = ''\n"
    text += f"DEFAULT_TARGET_FAMILY = '{sorted(families)[0]}'\n"
    for family in families:
        text += f"AVAILABLE_TARGET_FAMILIES.append('{family}')\n"
    if logical_name is not None:
        text += f"THIS_TARGET_FAMILY = {this_family!r}\n"
        text += f"THIS_PACKAGE_ENTRY = ALL_PACKAGES[{logical_name!r}]\n"
    return text


ROCM_SDK_INIT = '''"""rocm_sdk stand-in (the real one dlopens the libraries): locate the installed family's packages."""

import importlib

from . import _dist_info
from ._dist_info import __version__


def initialize_process(**kwargs):
    family = _dist_info.determine_target_family()
    importlib.import_module(_dist_info.ALL_PACKAGES["core"].get_py_package_name())
    importlib.import_module(_dist_info.ALL_PACKAGES["libraries"].get_py_package_name(family))
    return family
'''


def rocm_sdist(out: Path, version: str = ROCM, families: Sequence[str] = FAMILIES, default: str | None = None) -> Path:
    """``rocm-<version>.tar.gz`` laid out as ``setup.py sdist`` writes it (PKG-INFO, src/, egg-info).

    ``_dist_info.py`` is TheRock's template plus py_packaging.py's lines; ``__main__.py`` and
    ``_devel.py`` are TheRock's.  PKG-INFO is what setup.py computed on the build machine
    (``DEFAULT_TARGET_FAMILY`` there), which is why nobody may trust it.
    """
    root = f"rocm-{version}"
    default = default or sorted(families)[0]
    pkg_info = (
        f"Metadata-Version: 2.1\nName: rocm\nVersion: {version}\nSummary: ROCm SDK meta package\n"
        f"Requires-Dist: rocm-sdk-core=={version}\n"
        f"Provides-Extra: libraries\nRequires-Dist: rocm-sdk-libraries-{default}=={version}; extra == \"libraries\"\n"
        f"Provides-Extra: devel\nRequires-Dist: rocm-sdk-devel=={version}; extra == \"devel\"\n"
    )
    dist_info = therock_dist_info(version, families)
    if default != sorted(families)[0]:
        dist_info += f"DEFAULT_TARGET_FAMILY = '{default}'\n"
    members: dict[str, str | bytes] = {
        f"{root}/PKG-INFO": pkg_info,
        f"{root}/setup.py": "raise SystemExit('never run by wheel2conda')\n",
        f"{root}/src/rocm_sdk/__init__.py": ROCM_SDK_INIT,
        f"{root}/src/rocm_sdk/__main__.py": (THEROCK / "__main__.py").read_text(),
        f"{root}/src/rocm_sdk/_devel.py": (THEROCK / "_devel.py").read_text(),
        f"{root}/src/rocm_sdk/_dist_info.py": dist_info,
        f"{root}/src/rocm.egg-info/PKG-INFO": pkg_info,
        f"{root}/src/rocm.egg-info/entry_points.txt": "[console_scripts]\nrocm-sdk = rocm_sdk.__main__:main\n",
        f"{root}/src/rocm_sdk/__pycache__/__init__.cpython-312.pyc": b"\x00junk",
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{root}.tar.gz"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(members):
            content = members[name]
            data = content if isinstance(content, bytes) else content.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1704067200, 0o644
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return path


def _windows(tag: str) -> bool:
    return tag.endswith("win_amd64")


def core_files(version: str, family: str | None, windows: bool = False) -> dict[str, str | bytes]:
    """Files of ``rocm-sdk-core`` as one family's CI job builds it."""
    families = [family] if family else list(FAMILIES)
    platform = {"_rocm_sdk_core/bin/amdhip64_7.dll": b"stand-in for amdhip64_7.dll"} if windows else {"_rocm_sdk_core/lib/libamdhip64.so.7": b"stand-in for libamdhip64.so.7"}
    targets = ";".join(FAMILY_TARGETS.get(f, f) for f in families)
    return {
        "rocm_sdk_core/__init__.py": "",
        "rocm_sdk_core/_dist_info.py": therock_dist_info(version, families, "core", None),
        "_rocm_sdk_core/__init__.py": "",
        "_rocm_sdk_core/share/therock/dist_info.json": f'{{"dist_amdgpu_targets":"{targets}"}}',
        **platform,
    }


def rocm_core(out: Path, version: str = ROCM, tag: str | None = None, family: str | None = None) -> Path:
    """``rocm-sdk-core`` from ``family``'s CI job (``None``: one build listing :data:`FAMILIES`)."""
    tag = tag or f"py3-none-{HOST_TAG}"
    return build_wheel(out, "rocm-sdk-core", version, tag=tag, root_is_purelib=True, files=core_files(version, family, _windows(tag)))


def devel_tar(family: str, windows: bool = False) -> bytes:
    """``_devel.tar`` of one family: TheRock's links into core and into the family's libraries."""
    libs = "_rocm_sdk_libraries_" + family.replace("-", "_")
    entries: list[tuple[str, bytes | str | None, int]] = [
        ("_rocm_sdk_devel", None, 0o755),
        ("_rocm_sdk_devel/__init__.py", b"", 0o644),
        ("_rocm_sdk_devel/include", None, 0o755),
        ("_rocm_sdk_devel/include/hip", None, 0o755),
        ("_rocm_sdk_devel/include/hip/hip_runtime.h", b"#pragma once\n", 0o644),
        ("_rocm_sdk_devel/share", None, 0o755),
        ("_rocm_sdk_devel/share/therock", None, 0o755),
        ("_rocm_sdk_devel/share/therock/dist_info.json", "../../../_rocm_sdk_core/share/therock/dist_info.json", 0o777),
    ]
    if windows:
        entries += [
            ("_rocm_sdk_devel/bin", None, 0o755),
            ("_rocm_sdk_devel/bin/amdhip64_7.dll", "../../_rocm_sdk_core/bin/amdhip64_7.dll", 0o777),
            ("_rocm_sdk_devel/bin/hipblas.dll", f"../../{libs}/bin/hipblas.dll", 0o777),
        ]
    else:
        entries += [
            ("_rocm_sdk_devel/lib", None, 0o755),
            ("_rocm_sdk_devel/lib/libamdhip64.so.7", "../../_rocm_sdk_core/lib/libamdhip64.so.7", 0o777),
            ("_rocm_sdk_devel/lib/libamdhip64.so", "libamdhip64.so.7", 0o777),  # soname alias
            ("_rocm_sdk_devel/lib/libhipblas.so.3", f"../../{libs}/lib/libhipblas.so.3", 0o777),
            ("_rocm_sdk_devel/lib/libhipblas.so", "libhipblas.so.3", 0o777),
        ]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, mode in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = 1704067200, mode
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return raw.getvalue()


def rocm_devel(out: Path, version: str = ROCM, tag: str | None = None, family: str = FAMILIES[0]) -> Path:
    """``rocm-sdk-devel`` from ``family``'s CI job: ``_dist_info.py`` and ``_devel.tar`` differ per family."""
    tag = tag or f"py3-none-{HOST_TAG}"
    return build_wheel(
        out,
        "rocm-sdk-devel",
        version,
        tag=tag,
        root_is_purelib=True,
        files={
            "rocm_sdk_devel/__init__.py": "",
            "rocm_sdk_devel/_dist_info.py": therock_dist_info(version, [family], "devel", None),
            "rocm_sdk_devel/_devel.tar": devel_tar(family, _windows(tag)),
        },
    )


def rocm_libraries(out: Path, family: str, version: str = ROCM, tag: str | None = None) -> Path:
    tag = tag or f"py3-none-{HOST_TAG}"
    package = "_rocm_sdk_libraries_" + family.replace("-", "_")
    lib = f"{package}/bin/hipblas.dll" if _windows(tag) else f"{package}/lib/libhipblas.so.3"
    return build_wheel(
        out,
        f"rocm-sdk-libraries-{family}",  # METADATA keeps gfx103X; the file name is lower-cased
        version,
        tag=tag,
        root_is_purelib=True,
        files={
            "rocm_sdk_libraries/__init__.py": "",
            "rocm_sdk_libraries/_dist_info.py": therock_dist_info(version, [family], "libraries", family),
            f"{package}/__init__.py": f"FAMILY = {family!r}\n",
            lib: f"stand-in for hipblas ({family})".encode(),
        },
    )


def torch_rocm(out: Path, family: str, version: str = "2.9.1", rocm: str = ROCM, tag: str | None = None) -> Path:
    """TheRock's torch for one family (the binary is family-specific; the metadata is not).

    Requirements as ``external-builds/pytorch/build_prod_wheels.py`` (TheRock 3077ce801) sets
    ``PYTORCH_EXTRA_INSTALL_REQUIREMENTS``: ``rocm[libraries]==V``, plus ``triton==…`` only where
    triton is built (Linux) — no marker, so a Windows wheel's metadata simply lacks it.
    """
    tag = tag or f"cp{PY}-cp{PY}-{HOST_TAG}"
    triton = [f"triton==3.5.1+rocm{rocm}"] if "linux" in tag else []
    return build_wheel(
        out,
        "torch",
        f"{version}+rocm{rocm}",
        tag=tag,
        files={
            "torch/__init__.py": (
                "import rocm_sdk\n"
                "FAMILY = rocm_sdk.initialize_process()\n"
                f"BUILT_FOR = {family!r}\n"
                "VARIANT = 'rocm ' + FAMILY\n"
            ),
            "torch/lib/libtorch_hip.so": f"stand-in for libtorch_hip.so ({family})".encode(),
        },
        requires_dist=[f"rocm[libraries]=={rocm}", *triton, "filelock", "opt-einsum>=3.3; extra == 'opt-einsum'"],
        metadata_fields=[("Provides-Extra", "opt-einsum")],
        requires_python=">=3.9",
    )


def triton_rocm(out: Path, rocm: str = ROCM) -> Path:
    """TheRock's triton (Linux only)."""
    return build_wheel(out, "triton", f"3.5.1+rocm{rocm}", tag=f"cp{PY}-cp{PY}-{HOST_TAG}", files={"triton/__init__.py": "BACKEND = 'hip'\n"})


# -- CUDA --------------------------------------------------------------------------------------


def _component_dir(name: str) -> str:
    """``nvidia/<component>`` of a cu12 wheel (``nvidia/cuda_runtime``), ``nvidia/cu13`` after."""
    if not name.endswith("-cu12"):
        return "nvidia/cu13"
    return "nvidia/" + name.removeprefix("nvidia-").removesuffix("-cu12").replace("-", "_")


def nvidia_component(out: Path, name: str, version: str, library: str) -> Path:
    """A ``nvidia-*`` wheel: ``py3-none-manylinux``, purelib, only the SONAME-named library."""
    lib = f"{_component_dir(name)}/lib/{library}"
    return build_wheel(out, name, version, tag=f"py3-none-{MANYLINUX}", root_is_purelib=True, files={lib: b"stand-in for " + library.encode()})


CU124_COMPONENTS = {
    "nvidia-cublas-cu12": ("12.4.5.8", "libcublas.so.12"),
    "nvidia-cuda-runtime-cu12": ("12.4.127", "libcudart.so.12"),
}


def torch_cuda(out: Path, version: str = "2.9.1") -> Path:
    checks = "".join(f"assert os.path.exists(os.path.join(_site, '{_component_dir(n)}/lib/{lib}'))\n" for n, (_, lib) in CU124_COMPONENTS.items())
    return build_wheel(
        out,
        "torch",
        f"{version}+cu124",
        tag=f"cp{PY}-cp{PY}-{MANYLINUX}",
        files={"torch/__init__.py": "import os\n_site = os.path.dirname(os.path.dirname(__file__))\n" + checks + "VARIANT = 'cuda 12.4'\n"},
        requires_dist=[*(f"{n}=={v}; {LINUX_X86}" for n, (v, _) in CU124_COMPONENTS.items()), "filelock"],
    )


def torch_cpu(out: Path, version: str = "2.9.1") -> Path:
    return build_wheel(out, "torch", f"{version}+cpu", tag=f"cp{PY}-cp{PY}-{MANYLINUX}", files={"torch/__init__.py": "VARIANT = 'cpu'\n"}, requires_dist=["filelock"])


CUDA_TOOLKIT_13 = {  # extra → (component, pin, marker) as in cuda_toolkit-13.0.2 METADATA
    "cublas": ("nvidia-cublas", "13.1.0.3.*", "sys_platform == 'linux' or sys_platform == 'win32'"),
    "cudart": ("nvidia-cuda-runtime", "13.0.96.*", "sys_platform == 'linux' or sys_platform == 'win32'"),
    "cufile": ("nvidia-cufile", "1.15.1.6.*", "sys_platform == 'linux'"),
}


def cuda_toolkit(out: Path, version: str = "13.0.2") -> Path:
    requires = []
    fields = [("Provides-Extra", "all")]
    for name, pin, marker in CUDA_TOOLKIT_13.values():
        requires.append(f"{name}=={pin}; ({marker}) and extra == 'all'")
    for extra, (name, pin, marker) in CUDA_TOOLKIT_13.items():
        fields.append(("Provides-Extra", extra))
        requires.append(f"{name}=={pin}; ({marker}) and extra == '{extra}'")
    return build_wheel(out, "cuda-toolkit", version, tag="py2.py3-none-any", requires_dist=requires, metadata_fields=fields, summary="CUDA Toolkit meta-package")


def torch_cuda13(out: Path, version: str = "2.11.0") -> Path:
    """PyPI torch from 2.11 on: unlabelled, CUDA 13 through cuda-toolkit extras."""
    return build_wheel(
        out,
        "torch",
        version,
        tag=f"cp{PY}-cp{PY}-{MANYLINUX}",
        files={
            "torch/__init__.py": (
                "import os\n_site = os.path.dirname(os.path.dirname(__file__))\n"
                "assert os.path.exists(os.path.join(_site, 'nvidia', 'cu13', 'lib', 'libcublas.so.13'))\n"
                "assert os.path.exists(os.path.join(_site, 'nvidia', 'cu13', 'lib', 'libcudart.so.13'))\n"
                "VARIANT = 'cuda 13'\n"
            )
        },
        requires_dist=[f"cuda-toolkit[cublas,cudart]==13.0.2; {LINUX_ONLY}", "filelock"],
    )


def filelock(out: Path) -> Path:
    return build_wheel(out, "filelock", "3.16.1", files={"filelock/__init__.py": "LOCK = True\n"}, requires_python=">=3.8")
