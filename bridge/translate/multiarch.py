"""ROCm multi-arch packages (TheRock kpack split, ROCm 7.13+): device packages and their selectors.  Pure functions.

TheRock's ``whl-multi-arch/`` index holds generic host packages (``rocm``, ``rocm-sdk-core``,
``rocm-sdk-libraries``, ``rocm-sdk-devel``, ``torch``) and per-target device packages
(``rocm-sdk-device-gfx1100``, ``amd-torch-device-gfx1100``, the family bundle
``amd-torch-device-gfx11``).  pip picks device code through the host's extras
(``torch[device-gfx1100]``, ``rocm[device-all]``); a plain ``pip install torch`` is host only.

conda has no extras at install time, so each host ``H`` with ``device-<target>`` extras gets a
*selector* package ``H-device``: one build per target (``py311_rocm7.13_gfx1100_…``) depending on
what that extra pulls in, an ``all`` build (``device-all``) and a ``none`` build (host only);
``H`` depends on ``H-device``.  The ``rocm`` meta package's selector, ``rocm-device``, is the
*architecture mutex*: its target builds depend on ``__amdgpu`` (the virtual package of
:mod:`bridge.gpu.amdgpu`) with their target and rank above ``none`` (build number), and every
other selector's build depends on the ``rocm-device`` build of its target.  So:

* conda with our plugin, or any client given ``__amdgpu``: the machine's target;
* no AMD GPU, no ``__amdgpu``: ``none`` (host code only, as ``pip install torch`` there, and as
  conda's CPU fallback when ``__cuda`` is missing);
* clients without the plugin (pixi, rattler) choose explicitly the way TheRock's "legacy pip"
  tier does: name the device package (``amd-torch-device-gfx1100``; ROCm's own comes with it),
  or the ``all`` build (``rocm-device[build=*all*]``), or pass ``__amdgpu`` as a virtual package.

Device packages themselves stay plain, additive packages (TheRock: "device wheels are
additive"): their names are not GPU families, and their build strings carry no target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from packaging.utils import canonicalize_name

from ..core.data import load

#: Selector builds besides the targets: every device package, and none.
ALL = "all"
NONE = "none"


@dataclass(frozen=True)
class DevicePackage:
    """A device package's name, read: ``amd-torch-device-gfx12-0`` → prefix ``amd-torch-device``, bundle ``gfx12-0``."""

    prefix: str
    bundle: str


@dataclass(frozen=True)
class SelectorTerms:
    """What a selector build adds besides the extra's own requirements."""

    depends: tuple[str, ...] = ()
    build_number_offset: int = 0


@cache
def _config() -> Mapping[str, Any]:
    return load("gpu")["rocm"]["multi_arch"]


def device_package(name: str) -> DevicePackage | None:
    """The device package ``name`` denotes (any spelling), or None."""
    m = re.match(_config()["device_name"], str(canonicalize_name(name)))
    return DevicePackage(m.group("prefix"), m.group("bundle")) if m else None


def device_extra_target(extra: str) -> str | None:
    """``device-gfx1100`` → ``gfx1100``, ``device-all`` → ``all``; None for any other extra (``device``, ``opt-einsum``)."""
    m = re.match(_config()["device_extra"], str(canonicalize_name(extra)))
    return m.group("target") if m else None


def device_targets(extras: Iterable[str]) -> list[str]:
    """The targets a host's extras select device code for (``all`` last), in order."""
    found = {t for t in (device_extra_target(e) for e in extras) if t is not None}
    return sorted(found - {ALL}) + ([ALL] if ALL in found else [])


def is_multi_arch_host(extras: Iterable[str]) -> bool:
    """Whether a distribution with these extras is a multi-arch host (has per-target device extras)."""
    return any(t not in (None, ALL) for t in map(device_extra_target, extras))


def selector_name(host: str) -> str:
    """``torch`` → ``torch-device``."""
    return f"{canonicalize_name(host)}{_config()['selector_suffix']}"


def mutex_name(mutex: str) -> str:
    """The architecture mutex: the selector of ROCm's meta package ``mutex`` (``rocm-device``)."""
    return selector_name(mutex)


def virtual_package() -> str:
    return str(_config()["virtual_package"])


def selector_terms(host: str, target: str, mutex: str) -> SelectorTerms:
    """What ``host``'s selector build for ``target`` (a gfx target, ``all`` or ``none``) adds.

    ``mutex`` is the PyPI name of ROCm's meta package (``rocm``), whose selector is the mutex.
    Target builds rank highest (build number +2) and need ``__amdgpu`` with their target, so a
    solver takes the machine's target when the virtual package is there; ``none`` (+1) is the
    fallback without it; ``all`` (+0) only comes when asked for.  Only ``depends`` is used:
    conda 26.7.1's classic solver does not apply ``constrains`` to virtual packages (docs/gpu.md).
    """
    offset = {NONE: 1, ALL: 0}.get(target, 2)
    if str(canonicalize_name(host)) != str(canonicalize_name(mutex)):
        return SelectorTerms(depends=(f"{mutex_name(mutex)} * *{target}*",), build_number_offset=offset)
    if target in (NONE, ALL):
        return SelectorTerms(build_number_offset=offset)
    return SelectorTerms(depends=(f"{virtual_package()} * *{target}*",), build_number_offset=offset)


def per_target_extras(logical_name: str, template: str, targets: Iterable[str], version: str) -> dict[str, list[str]]:
    """TheRock's ``build_per_target_extras`` for one target-specific package entry, read statically.

    ``rocm-sdk-device-{target_family}`` with targets gfx1100, gfx942 → ``device-gfx1100``,
    ``device-gfx942`` and ``device-all`` (``templates/rocm/src/rocm_sdk/_dist_info.py`` at TheRock
    89553ce: xnack suffixes stripped, nothing for a single target).  Platform markers
    (``LINUX_TARGET_FAMILIES``/``WINDOWS_TARGET_FAMILIES``) are not applied.
    """
    bases = sorted({t.split(":")[0] for t in targets})
    if len(bases) <= 1:
        return {}
    result = {f"{logical_name}-{t}": [f"{template.replace('{target_family}', t)}=={version}"] for t in bases}
    result[f"{logical_name}-{ALL}"] = [r for t in bases for r in result[f"{logical_name}-{t}"]]
    return result
