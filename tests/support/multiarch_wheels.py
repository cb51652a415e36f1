"""TheRock's multi-arch (kpack-split) wheel set, ROCm 7.13+, as its ``whl-multi-arch/`` index serves it.

One flat index for every GPU: generic host packages plus one device package per GPU target.
Where each shape comes from (read, not remembered):

- ``rocm-<R>.tar.gz`` (the selector sdist), ``rocm-sdk-core``, ``rocm-sdk-libraries`` (generic, no
  family suffix), ``rocm-sdk-devel`` and ``rocm-sdk-device-<target>``:
  ROCm/TheRock 89553ce3746eda74ade42557470d25e37c91b6f0, ``build_tools/build_python_packages.py``
  (``_run_kpack_split``: one libraries wheel with ``target_family=None``, one device wheel per base
  target, a generic sdist and devel), ``build_tools/_therock_utils/py_packaging.py``
  (``Parameters.__init__`` with ``kpack_split``: the ``ALL_PACKAGES["libraries"].dist_package_template
  = "rocm-sdk-libraries"`` line, ``DEFAULT_TARGET_FAMILY = sorted(...)[0]``, one
  ``AVAILABLE_TARGET_FAMILIES.append(...)`` per *target*; ``PopulatedDistPackage.__init__``:
  ``THIS_TARGET_FAMILY``/``THIS_PACKAGE_ENTRY``, ``LIBRARIES_PY_PACKAGE_NAME`` for device;
  ``populate_device_files``: device files overlay ``_rocm_sdk_libraries/`` with a
  ``.devel_links/<target>.json`` manifest), ``build_tools/packaging/python/templates/rocm-sdk-device/setup.py``
  (name ``rocm-sdk-device-<target>``, the only package is the platform dir
  ``_rocm_sdk_libraries``, ``install_requires=["rocm-sdk-libraries==<R>"]``) and the template
  ``templates/rocm/src/rocm_sdk/_dist_info.py`` (``tests/data/therock/multiarch/_dist_info.py``,
  verbatim: ``PackageEntry("device", "rocm-sdk-device-{target_family}")``,
  ``build_per_target_extras`` → extras ``device-<target>`` and ``device-all``).
- host ``torch`` and ``amd-torch-device-<bundle>``: ROCm/rocm-systems
  7d605fca43de8be3e8423ccfe60a9328d8b5698e ``shared/kpack/python/rocm_kpack/wheel_splitter.py``
  (``_rewrite_host_metadata``: ``Requires-Dist: rocm-bootstrap``, per target ``Provides-Extra:
  device-<target>`` requiring the device wheel of every bundle of its packaging chain present
  (target, sub-family, family: ``amd-torch-device-gfx1100`` and the AOTriton family bundle
  ``amd-torch-device-gfx11``), ``device-all``; ``_create_device_wheel``/``generate_device_metadata``:
  the host's tags, ``Root-Is-Purelib: false``, ``torch/.kpack/torch_<arch>.kpack``,
  ``Requires-Dist: torch == <V>`` plus ``--device-requires-dist``), invoked as in TheRock
  ``.github/workflows/multi_arch_build_portable_linux_pytorch_wheels.yml`` (``--device-package-prefix
  amd-torch-device --overlay-root torch/ --device-requires-dist "rocm-sdk-device-@GFXARCH@ == <R>"``).
  Bundle keys from ``python/rocm-bootstrap/python/rocm_bootstrap/targets.py`` (gfx1100 → gfx110x → gfx11).
- What users see (TheRock#5289): ``pip install torch`` → host only; ``torch[device-gfx1100]`` → host
  + gfx1100 + gfx11; ``torch[device-all]`` → every device wheel.

One deviation: the splitter expands ``@GFXARCH@`` with the bundle key, so the family bundle
``amd-torch-device-gfx11`` would require ``rocm-sdk-device-gfx11``, which no index carries (ROCm
device wheels exist per target only); here it requires only ``torch``.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path

from tests.support.gpu_wheels import HOST_TAG, PY, ROCM_SDK_INIT, THEROCK
from tests.support.wheels import build_wheel

ROCM = "7.13.0a20260501"
TORCH = f"2.11.0+rocm{ROCM}"
TARGETS = ("gfx1100", "gfx942")
#: rocm_bootstrap packaging chain of each target, as far as the split torch has bundles
#: (AOTriton images are keyed per family for gfx11: ``amd-gfx11xx`` → ``gfx11``; gfx942 per chip).
TORCH_CHAIN = {"gfx1100": ("gfx1100", "gfx11"), "gfx942": ("gfx942",)}
TEMPLATE = THEROCK / "multiarch" / "_dist_info.py"


def dist_info(logical_name: str | None, this_target: str | None = None, targets: Sequence[str] = TARGETS, version: str = ROCM) -> str:
    """``_dist_info.py`` as py_packaging.py writes it in kpack-split mode (``logical_name=None``: the Parameters-level text)."""
    text = TEMPLATE.read_text()
    text += f"__version__ = {version!r}\n"
    text += f"PY_PACKAGE_SUFFIX_NONCE = {''!r}\n"
    text += 'ALL_PACKAGES["libraries"].dist_package_template = "rocm-sdk-libraries"\n'
    text += f"DEFAULT_TARGET_FAMILY = {sorted(targets)[0]!r}\n"
    for target in targets:
        text += f"AVAILABLE_TARGET_FAMILIES.append({target!r})\n"
    if logical_name is not None:
        text += f"THIS_TARGET_FAMILY = {this_target!r}\n"
        text += f"THIS_PACKAGE_ENTRY = ALL_PACKAGES[{logical_name!r}]\n"
    if logical_name == "device":
        text += f"LIBRARIES_PY_PACKAGE_NAME = {'_rocm_sdk_libraries'!r}\n"
    return text


def _tag(tag: str | None) -> str:
    return tag or f"py3-none-{HOST_TAG}"


def rocm_sdist(out: Path, targets: Sequence[str] = TARGETS, version: str = ROCM) -> Path:
    """The generic ``rocm`` sdist; PKG-INFO as setup.py computed it on a GPU-less build machine."""
    root = f"rocm-{version}"
    default = sorted(targets)[0]
    lines = [
        "Metadata-Version: 2.1",
        "Name: rocm",
        f"Version: {version}",
        "Summary: ROCm SDK meta package",
        f"Requires-Dist: rocm-sdk-core=={version}",
        "Provides-Extra: libraries",
        f'Requires-Dist: rocm-sdk-libraries=={version}; extra == "libraries"',
        "Provides-Extra: devel",
        f'Requires-Dist: rocm-sdk-devel=={version}; extra == "devel"',
        "Provides-Extra: device",
        f'Requires-Dist: rocm-sdk-device-{default}=={version}; extra == "device"',
    ]
    for target in sorted(targets):
        lines += [f"Provides-Extra: device-{target}", f'Requires-Dist: rocm-sdk-device-{target}=={version}; extra == "device-{target}"']
    lines.append("Provides-Extra: device-all")
    lines += [f'Requires-Dist: rocm-sdk-device-{t}=={version}; extra == "device-all"' for t in sorted(targets)]
    pkg_info = "\n".join(lines) + "\n"
    members: dict[str, str] = {
        f"{root}/PKG-INFO": pkg_info,
        f"{root}/setup.py": "raise SystemExit('never run by wheel2conda')\n",
        f"{root}/src/rocm_sdk/__init__.py": ROCM_SDK_INIT,
        f"{root}/src/rocm_sdk/__main__.py": (THEROCK / "__main__.py").read_text(),
        f"{root}/src/rocm_sdk/_devel.py": (THEROCK / "_devel.py").read_text(),
        f"{root}/src/rocm_sdk/_dist_info.py": dist_info("meta", None, targets, version),
        f"{root}/src/rocm.egg-info/PKG-INFO": pkg_info,
        f"{root}/src/rocm.egg-info/entry_points.txt": "[console_scripts]\nrocm-sdk = rocm_sdk.__main__:main\n",
    }
    out.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(members):
            data = members[name].encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1704067200, 0o644
            tar.addfile(info, io.BytesIO(data))
    path = out / f"{root}.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return path


def rocm_core(out: Path, targets: Sequence[str] = TARGETS, version: str = ROCM, tag: str | None = None) -> Path:
    return build_wheel(
        out, "rocm-sdk-core", version, tag=_tag(tag), root_is_purelib=True,
        files={
            "rocm_sdk_core/__init__.py": "",
            "rocm_sdk_core/_dist_info.py": dist_info("core", None, targets, version),
            "_rocm_sdk_core/__init__.py": "",
            "_rocm_sdk_core/share/therock/dist_info.json": json.dumps({"dist_amdgpu_targets": ";".join(targets)}),
            "_rocm_sdk_core/lib/libamdhip64.so.7": b"stand-in for libamdhip64.so.7 (kpack loader)",
        },
    )


def rocm_libraries(out: Path, targets: Sequence[str] = TARGETS, version: str = ROCM, tag: str | None = None) -> Path:
    """The arch-neutral libraries wheel: host code with kpack references, no device code."""
    return build_wheel(
        out, "rocm-sdk-libraries", version, tag=_tag(tag), root_is_purelib=True,
        files={
            "rocm_sdk_libraries/__init__.py": "",
            "rocm_sdk_libraries/_dist_info.py": dist_info("libraries", None, targets, version),
            "_rocm_sdk_libraries/__init__.py": "",
            "_rocm_sdk_libraries/lib/libhipblas.so.3": b"stand-in for libhipblas.so.3 (.rocm_kpack_ref)",
        },
    )


def rocm_device(out: Path, target: str, version: str = ROCM, tag: str | None = None) -> Path:
    """``rocm-sdk-device-<target>``: .kpack archives and kernel databases overlaying ``_rocm_sdk_libraries/``."""
    kpack = f"blas_lib_{target}.kpack"
    links = {"version": version, "links": [
        {"relpath": f".kpack/{kpack}", "target": f"../../_rocm_sdk_libraries/.kpack/{kpack}"},
        {"relpath": f"lib/rocblas/library/TensileLibrary_lazy_{target}.dat", "target": f"../../../../_rocm_sdk_libraries/lib/rocblas/library/TensileLibrary_lazy_{target}.dat"},
    ]}
    return build_wheel(
        out, f"rocm-sdk-device-{target}", version, tag=_tag(tag), root_is_purelib=True,
        requires_dist=[f"rocm-sdk-libraries=={version}"],
        files={
            "_rocm_sdk_libraries/__init__.py": "",  # setup.py's packages=[platform dir]: its touched __init__.py
            f"_rocm_sdk_libraries/.kpack/{kpack}": f"KPAK stand-in ({target})".encode(),
            f"_rocm_sdk_libraries/.devel_links/{target}.json": json.dumps(links, indent=2),
            f"_rocm_sdk_libraries/lib/rocblas/library/TensileLibrary_lazy_{target}.dat": f"tensile {target}".encode(),
        },
    )


def rocm_devel(out: Path, targets: Sequence[str] = TARGETS, version: str = ROCM, tag: str | None = None) -> Path:
    return build_wheel(
        out, "rocm-sdk-devel", version, tag=_tag(tag), root_is_purelib=True,
        files={"rocm_sdk_devel/__init__.py": "", "rocm_sdk_devel/_dist_info.py": dist_info("devel", None, targets, version)},
    )


def rocm_bootstrap(out: Path, version: str = "1.0.0") -> Path:
    """The GPU-detection package the split torch requires (``Requires-Dist: rocm-bootstrap``)."""
    return build_wheel(out, "rocm-bootstrap", version, files={"rocm_bootstrap/__init__.py": "def detect():\n    return []\n"})


TORCH_INIT = """import os
import rocm_sdk

rocm_sdk.initialize_process()
_here = os.path.dirname(__file__)
_libs = os.path.join(os.path.dirname(_here), "_rocm_sdk_libraries", ".kpack")
KPACKS = sorted(os.listdir(os.path.join(_here, ".kpack"))) if os.path.isdir(os.path.join(_here, ".kpack")) else []
ROCM_KPACKS = sorted(os.listdir(_libs)) if os.path.isdir(_libs) else []
VARIANT = "rocm multi-arch"
"""


def torch_host(out: Path, targets: Sequence[str] = TARGETS, version: str = TORCH, rocm: str = ROCM, tag: str | None = None) -> Path:
    """The split host ``torch``: kpack references only, device wheels through ``device-*`` extras."""
    tag = tag or f"cp{PY}-cp{PY}-{HOST_TAG}"
    fields: list[tuple[str, str]] = []
    requires = [f"rocm[libraries]=={rocm}", "filelock", "rocm-bootstrap"]
    bundles: set[str] = set()
    for target in sorted(targets):
        fields.append(("Provides-Extra", f"device-{target}"))
        for bundle in TORCH_CHAIN[target]:
            bundles.add(bundle)
            requires.append(f'amd-torch-device-{bundle} == {version}; extra == "device-{target}"')
    fields.append(("Provides-Extra", "device-all"))
    requires += [f'amd-torch-device-{b} == {version}; extra == "device-all"' for b in sorted(bundles)]
    return build_wheel(
        out, "torch", version, tag=tag, files={"torch/__init__.py": TORCH_INIT, "torch/lib/libtorch_hip.so": b"stand-in (.rocm_kpack_ref)"},
        requires_dist=requires, metadata_fields=fields, requires_python=">=3.10",
    )


def torch_device(out: Path, bundle: str, version: str = TORCH, rocm: str = ROCM, tag: str | None = None) -> Path:
    """``amd-torch-device-<bundle>`` as the splitter writes it (host tags, platlib)."""
    tag = tag or f"cp{PY}-cp{PY}-{HOST_TAG}"
    requires = [f"torch == {version}"]
    if bundle in TARGETS:  # see the module docstring: no rocm-sdk-device-<family> exists
        requires.append(f"rocm-sdk-device-{bundle} == {rocm}")
    files: dict[str, str | bytes] = {f"torch/.kpack/torch_{bundle}.kpack": f"KPAK stand-in (torch {bundle})".encode()}
    if bundle == "gfx11":
        files = {"torch/lib/aotriton.images/amd-gfx11xx/attn_fwd.aks2": b"aotriton gfx11"}
    return build_wheel(
        out, f"amd-torch-device-{bundle}", version, tag=tag, root_is_purelib=False, files=files, requires_dist=requires,
        summary=f"AMD device kernels ({bundle}) for torch", extra_dist_info={"top_level.txt": "torch\n"},
    )


def multiarch_index(out: Path, targets: Sequence[str] = TARGETS) -> list[Path]:
    """Every file of one night of ``whl-multi-arch/`` (flat, as the real index is), written into ``out``."""
    from tests.support.gpu_wheels import filelock

    files = [rocm_sdist(out, targets), rocm_core(out, targets), rocm_libraries(out, targets), rocm_devel(out, targets)]
    files += [rocm_device(out, t) for t in targets]
    files += [rocm_bootstrap(out), torch_host(out, targets), filelock(out)]
    files += [torch_device(out, b) for b in sorted({b for t in targets for b in TORCH_CHAIN[t]})]
    return files
