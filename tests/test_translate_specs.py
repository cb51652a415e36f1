"""PEP 508 → MatchSpec: markers per target, extras, local pins, GPU families (table-driven)."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from bridge.translate.names import NameMap
from bridge.translate.specs import DependencyContext, MarkerContext, decide, os_split, translate_requirement
from bridge.translate.tags import PlatformTarget, PythonTarget, Target
from bridge.translate.variants import resolve_family

LINUX_312 = Target(PythonTarget("exact", (3, 12), "cp312", "cp"), PlatformTarget("linux-64", ("__glibc >=2.28",)))
WIN_312 = Target(PythonTarget("exact", (3, 12), "cp312", "cp"), PlatformTarget("win-64"))
OSX_ARM_312 = Target(PythonTarget("exact", (3, 12), "cp312", "cp"), PlatformTarget("osx-arm64"))
NOARCH = Target(PythonTarget("any", (3, 0), "none", "py"), PlatformTarget("noarch"))
NOARCH_WIN = Target(NOARCH.python, PlatformTarget("noarch", ("__win",)))
NOARCH_UNIX = Target(NOARCH.python, PlatformTarget("noarch", ("__unix",)))
NOARCH_LINUX = Target(NOARCH.python, PlatformTarget("noarch", ("__linux",)))
CEP20_LINUX = Target(PythonTarget("any", (3, 0), "none", "py"), PlatformTarget("linux-64"))
ABI3_LINUX = Target(PythonTarget("abi3", (3, 9), "abi3", "cp"), PlatformTarget("linux-64"))

TARGETS = {
    "linux": LINUX_312,
    "win": WIN_312,
    "osx-arm": OSX_ARM_312,
    "noarch": NOARCH,
    "noarch-win": NOARCH_WIN,
    "noarch-unix": NOARCH_UNIX,
    "noarch-linux": NOARCH_LINUX,
    "cep20-linux": CEP20_LINUX,
    "abi3-linux": ABI3_LINUX,
}


def context(target: str, requires_python: str | None = None, mode: str = "pypi", family: str | None = None) -> DependencyContext:
    rp = SpecifierSet(requires_python) if requires_python else None
    return DependencyContext(
        MarkerContext.for_target(TARGETS[target], rp),
        NameMap.create(mode),  # type: ignore[arg-type]
        resolve_family(family) if family else None,
    )


@pytest.mark.parametrize(
    ("marker", "target", "holds", "assumed"),
    [
        ('platform_system == "Linux" and platform_machine == "x86_64"', "linux", True, False),
        ('platform_system == "Linux" and platform_machine == "x86_64"', "win", False, False),
        ('sys_platform == "win32"', "win", True, False),
        ('platform_machine == "AMD64"', "win", True, False),  # Windows says AMD64, not x86_64
        ('platform_machine == "arm64"', "osx-arm", True, False),
        ('python_version < "3.11"', "linux", False, False),
        ('python_version >= "3.12"', "linux", True, False),
        ('implementation_name == "cpython"', "linux", True, False),
        ('platform_python_implementation == "PyPy"', "noarch", False, False),  # never the host's value
        ('sys_platform == "win32"', "noarch-win", True, False),
        ('sys_platform == "win32"', "noarch-unix", False, False),
        ('sys_platform == "darwin"', "noarch-linux", False, False),
        ('python_version < "3.11"', "noarch", True, True),  # lowest supported Python decides
        ('python_version >= "3.13"', "noarch", False, True),
        ('python_version < "3.11"', "abi3-linux", True, True),
        ('python_version < "3.11"', "cep20-linux", True, True),
        ('platform_machine == "x86_64"', "noarch-linux", True, True),  # kept where undecidable
        ('platform_machine == "x86_64"', "cep20-linux", True, False),
    ],
)
def test_decide(marker: str, target: str, holds: bool, assumed: bool) -> None:
    outcome = decide(Marker(marker), context(target).markers)
    assert outcome.holds is holds
    assert bool(outcome.assumption) is assumed


def test_lowest_python_follows_requires_python() -> None:
    ctx = context("noarch", requires_python=">=3.11").markers
    assert ctx.pythons[0] == "3.11"
    outcome = decide(Marker('python_version < "3.12"'), ctx)
    assert outcome.holds and "3.11" in outcome.assumption


@pytest.mark.parametrize(
    ("requirements", "split"),
    [
        (["colorama; sys_platform == 'win32'"], ("__unix", "__win")),
        (["pywin32; platform_system == 'Windows'", "uvloop; sys_platform != 'win32'"], ("__unix", "__win")),
        (["appnope; sys_platform == 'darwin'"], ("__linux", "__osx", "__win")),
        (["tomli; python_version < '3.11'"], ()),  # Python markers never split
        (["numpy"], ()),
        (["triton; platform_machine == 'x86_64'"], ("__unix", "__win")),  # Windows says AMD64: none there
        (["triton; platform_machine == 'x86_64' and sys_platform == 'linux'"], ("__linux", "__osx", "__win")),
    ],
)
def test_os_split(requirements: list[str], split: tuple[str, ...]) -> None:
    reqs = [Requirement(r) for r in requirements]
    assert os_split(reqs, context("noarch").markers) == split


def test_os_split_considers_extras_and_needs_open_platforms() -> None:
    reqs = [Requirement("nvidia-cufile==1.15.1.6.*; (sys_platform == 'linux') and extra == 'cufile'")]
    assert os_split(reqs, context("noarch").markers, extras=False) == ()  # only the extra pulls it in
    assert os_split(reqs, context("noarch").markers) == ("__linux", "__osx", "__win")
    assert os_split(reqs, context("linux").markers) == ()


@pytest.mark.parametrize(
    ("requirement", "target", "action", "specs"),
    [
        ("numpy>=1.26", "linux", "kept", ["numpy >=1.26"]),
        ("Typing_Extensions>=4.10", "linux", "kept", ["typing-extensions >=4.10"]),
        ("numpy<2", "linux", "kept", ["numpy <2a0"]),
        ("numpy~=1.26.0", "linux", "kept", ["numpy >=1.26.0,1.26.*"]),
        ("numpy!=1.26.1,>=1.25", "linux", "kept", ["numpy !=1.26.1,>=1.25"]),
        ("numpy==2.*", "linux", "kept", ["numpy 2.*"]),
        ("setuptools===70.0", "linux", "kept", ["setuptools ==70.0"]),
        ("pkg>=1.0.dev0", "linux", "kept", ["pkg >=1.0dev0"]),
        ("pkg==1.0.post2", "linux", "kept", ["pkg ==1.0.post2"]),
        # local-label pins select the variant build
        ("triton==3.5.1+rocm7.11.0a20260104", "linux", "kept", ["triton ==3.5.1 *rocm7.11*"]),
        ("torch==2.4.1+cu124", "linux", "kept", ["torch ==2.4.1 *cu124*"]),
        # markers
        ('nvidia-cublas-cu12==12.8.4.1; platform_system == "Linux" and platform_machine == "x86_64"', "linux", "kept", ["nvidia-cublas-cu12 ==12.8.4.1"]),
        ('nvidia-cublas-cu12==12.8.4.1; platform_system == "Linux" and platform_machine == "x86_64"', "win", "excluded", []),
        ('triton==3.5.1+rocm7.11.0a20260104; platform_system == "Linux"', "win", "excluded", []),
        ("colorama; sys_platform == 'win32'", "noarch-win", "kept", ["colorama"]),
        ("colorama; sys_platform == 'win32'", "noarch-unix", "excluded", []),
        # extras of the package itself
        ("opt-einsum>=3.3; extra == 'opt-einsum'", "linux", "extra", ["opt-einsum >=3.3"]),
        ("pysocks; extra == 'socks' and sys_platform == 'win32'", "linux", "excluded", []),
        # extras of dependencies
        ("cuda-toolkit[cublas,cudart]==13.0.2", "linux", "kept", ["cuda-toolkit ==13.0.2", "cuda-toolkit-with-cublas ==13.0.2", "cuda-toolkit-with-cudart ==13.0.2"]),
        ("torch[opt-einsum]==2.9.1+cu124", "linux", "kept", ["torch ==2.9.1 *cu124*", "torch-with-opt-einsum ==2.9.1 *cu124*"]),
        ("rocm[libraries,devel]==7.11.0a20260104", "linux", "kept", ["rocm ==7.11.0a20260104", "rocm-sdk-devel ==7.11.0a20260104"]),
    ],
)
def test_translate_requirement(requirement: str, target: str, action: str, specs: list[str]) -> None:
    decision = translate_requirement(Requirement(requirement), context(target))
    assert decision.action == action
    assert decision.specs == tuple(specs)


def test_family_follows_into_per_family_dependencies() -> None:
    decision = translate_requirement(Requirement("rocm[libraries]==7.11.0a20260104"), context("linux", family="gfx103X"))
    assert decision.specs == ("rocm ==7.11.0a20260104 *gfx103X*",)
    assert not decision.report
    unbound = translate_requirement(Requirement("rocm[libraries]==7.11.0a20260104"), context("linux"))
    assert unbound.specs == ("rocm ==7.11.0a20260104",)
    assert unbound.report and "--gpu-family" in unbound.reason
    libs = translate_requirement(Requirement("rocm-sdk-libraries-gfx103X-dgpu==7.11.0a20260104"), context("linux", family="gfx103X"))
    assert libs.specs == ("rocm-sdk-libraries-gfx103x-dgpu ==7.11.0a20260104",)  # the name says it already


@pytest.mark.parametrize(
    ("requirement", "specs"),
    [
        ("torch>=2.4", ["pytorch >=2.4"]),
        ("nvidia-cublas-cu12==12.8.4.1", ["libcublas ==12.8.4.1", "cuda-version 12.*"]),
        ("cuda-toolkit[cublas,cudart]==13.0.2", ["cuda-version 13.0.*", "libcublas", "cuda-cudart"]),
        ("torch[opt-einsum]", ["pytorch", "pytorch-with-opt-einsum"]),
    ],
)
def test_conda_forge_names(requirement: str, specs: list[str]) -> None:
    assert translate_requirement(Requirement(requirement), context("linux", mode="conda-forge")).specs == tuple(specs)


def test_extra_lists_every_extra_that_pulls_it() -> None:
    req = Requirement("nvidia-cublas==13.1.0.3.*; (sys_platform == 'linux' or sys_platform == 'win32') and (extra == 'all' or extra == 'cublas')")
    decision = translate_requirement(req, context("noarch-linux"))
    assert decision.action == "extra"
    assert decision.extras == ("all", "cublas")
    assert decision.specs == ("nvidia-cublas 13.1.0.3.*",)
    assert translate_requirement(req, context("noarch-win")).action == "extra"
    assert translate_requirement(Requirement("nvidia-cufile; sys_platform == 'linux' and extra == 'cufile'"), context("noarch-win")).action == "excluded"


@pytest.mark.parametrize(
    ("requirement", "target", "action", "reported"),
    [
        ("tomli; python_version < '3.11'", "noarch", "kept", True),
        ("numpy>=2; python_version >= '3.13'", "noarch", "excluded", True),
        ("triton; platform_machine == 'x86_64'", "noarch-linux", "kept", True),
        ("colorama; sys_platform == 'win32'", "noarch-win", "kept", False),
        ("pkg @ https://example.org/pkg-1.0-py3-none-any.whl", "linux", "kept", True),
        ("pkg===weird", "linux", "kept", True),
    ],
)
def test_assumptions_are_reported(requirement: str, target: str, action: str, reported: bool) -> None:
    decision = translate_requirement(Requirement(requirement), context(target))
    assert decision.action == action
    assert decision.report is reported
    if reported:
        assert decision.reason
