"""Per-Python regions of multi-Python packages (bridge.translate.regions), table-driven."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from bridge.translate.regions import PythonRegion, Run
from bridge.translate.specs import python_split
from bridge.translate.tags import PlatformTarget, PythonTarget, Target

NOARCH = Target(PythonTarget("any", (3, 0), "none", "py"), PlatformTarget("noarch"))
CEP20_LINUX = Target(PythonTarget("any", (3, 0), "none", "py"), PlatformTarget("linux-64", ("__glibc >=2.17",)))
ABI3_37 = Target(PythonTarget("abi3", (3, 7), "abi3", "cp"), PlatformTarget("linux-64", ("__glibc >=2.17",)))
EXACT_311 = Target(PythonTarget("exact", (3, 11), "cp311", "cp"), PlatformTarget("linux-64"))
TARGETS = {"noarch": NOARCH, "cep20": CEP20_LINUX, "abi3": ABI3_37, "exact": EXACT_311}


def regions(requirements: list[str], target: str = "noarch", requires_python: str | None = ">=3.8") -> list[tuple[str, str, int, str]]:
    """``(specifier, implementation, rank, tag)`` per region, oldest first."""
    found = python_split([Requirement(r) for r in requirements], TARGETS[target], SpecifierSet(requires_python) if requires_python else None)
    return [(r.specifier, r.implementation, r.rank, r.tag) for r in found]


UNSPLIT = [("", "", 0, "")]


@pytest.mark.parametrize(
    ("requirements", "target", "requires_python", "expected"),
    [
        # no Python markers at all, or only ones the target decides: one build, as before
        (["foo>=1"], "noarch", ">=3.8", UNSPLIT),
        (["colorama; sys_platform == 'win32'"], "noarch", ">=3.8", UNSPLIT),
        (["tomli; python_version < '3.11'"], "exact", None, UNSPLIT),
        (["cffi; implementation_name == 'cpython'"], "abi3", None, UNSPLIT),  # abi3 is CPython only
        # <, <=, >, >=
        (["tomli; python_version < '3.11'"], "noarch", ">=3.8", [("<3.11", "", 0, "lt3.11"), (">=3.11", "", 1, "ge3.11")]),
        (["tomli; python_version <= '3.10'"], "noarch", ">=3.8", [("<3.11", "", 0, "lt3.11"), (">=3.11", "", 1, "ge3.11")]),
        (["x; python_version > '3.9'"], "noarch", ">=3.8", [("<3.10", "", 0, "lt3.10"), (">=3.10", "", 1, "ge3.10")]),
        (
            ["numpy<2.0; python_version < '3.9'", "numpy>=2; python_version >= '3.9'"],
            "abi3",
            ">=3.7",
            [("<3.9", "", 0, "lt3.9"), (">=3.9", "", 1, "ge3.9")],
        ),
        # == with a wildcard and != leave two pieces that get the same dependencies: one region
        (
            ["x; python_version == '3.9.*'"],
            "noarch",
            ">=3.8",
            [(">=3.9,<3.10", "", 0, "ge3.9lt3.10"), ("<3.9 or >=3.10", "", 1, "lt3.9orge3.10")],
        ),
        (
            ["x; python_version != '3.10'"],
            "noarch",
            ">=3.8",
            [(">=3.10,<3.11", "", 0, "ge3.10lt3.11"), ("<3.10 or >=3.11", "", 1, "lt3.10orge3.11")],
        ),
        (["x; python_version in '3.8 3.9'"], "noarch", ">=3.8", [("<3.10", "", 0, "lt3.10"), (">=3.10", "", 1, "ge3.10")]),
        # python_full_version cuts inside a minor version
        (["x; python_full_version < '3.9.2'"], "noarch", ">=3.8", [("<3.9.2", "", 0, "lt3.9.2"), (">=3.9.2", "", 1, "ge3.9.2")]),
        (["x; python_full_version <= '3.9.2'"], "noarch", ">=3.8", [("<3.9.3", "", 0, "lt3.9.3"), (">=3.9.3", "", 1, "ge3.9.3")]),
        # and / or
        (
            ["x; python_version >= '3.9' and python_version < '3.12'"],
            "noarch",
            ">=3.8",
            [(">=3.9,<3.12", "", 0, "ge3.9lt3.12"), ("<3.9 or >=3.12", "", 1, "lt3.9orge3.12")],
        ),
        (
            ["x; python_version < '3.9' or python_version >= '3.12'"],
            "noarch",
            ">=3.8",
            [(">=3.9,<3.12", "", 0, "ge3.9lt3.12"), ("<3.9 or >=3.12", "", 1, "lt3.9orge3.12")],
        ),
        # three regions; equal neighbours merge
        (
            ["a; python_version < '3.10'", "b; python_version < '3.10'", "c; python_version < '3.12'"],
            "noarch",
            ">=3.8",
            [("<3.10", "", 0, "lt3.10"), (">=3.10,<3.12", "", 1, "ge3.10lt3.12"), (">=3.12", "", 2, "ge3.12")],
        ),
        # Requires-Python bounds the range: its own cuts are no regions, pieces it excludes are bridged
        (["x; python_version < '3.10'"], "noarch", ">=3.8,<3.13", [("<3.10", "", 0, "lt3.10"), (">=3.10", "", 1, "ge3.10")]),
        (["x; python_version < '3.10'"], "noarch", ">=3.8,!=3.10.*", [("<3.10", "", 0, "lt3.10"), (">=3.11", "", 1, "ge3.11")]),
        (["x; python_version == '3.9.*'"], "noarch", ">=3.8,!=3.10.*", [(">=3.9,<3.10", "", 0, "ge3.9lt3.10"), ("<3.9 or >=3.11", "", 1, "lt3.9orge3.11")]),
        # markers about Pythons no conda channel serves any more (below 3.8) split nothing
        (["x; python_version < '3.6'"], "noarch", None, UNSPLIT),
        (["x; python_version < '3.11'"], "cep20", None, [("<3.11", "", 0, "lt3.11"), (">=3.11", "", 1, "ge3.11")]),
        # the implementation, where the tags leave it open (CPython preferred: ranked above PyPy)
        (["cffi; implementation_name == 'cpython'"], "noarch", ">=3.8", [("", "pypy", 0, "pp"), ("", "cpython", 1, "cp")]),
        (["cffi; platform_python_implementation != 'PyPy'"], "noarch", ">=3.8", [("", "pypy", 0, "pp"), ("", "cpython", 1, "cp")]),
        (
            ["x; implementation_name == 'pypy' and python_version < '3.10'"],
            "noarch",
            ">=3.8",
            [("<3.10", "pypy", 0, "pp_lt3.10"), (">=3.10", "pypy", 1, "pp_ge3.10"), ("", "cpython", 2, "cp")],
        ),
    ],
)
def test_python_regions(requirements: list[str], target: str, requires_python: str | None, expected: list[tuple[str, str, int, str]]) -> None:
    assert regions(requirements, target, requires_python) == expected


def test_an_extra_refines_the_regions_of_its_own_package_only() -> None:
    reqs = [Requirement("tomli; python_version < '3.11'"), Requirement("rich; extra == 'fancy' and python_version >= '3.12'")]
    assert [r.tag for r in python_split(reqs, NOARCH, SpecifierSet(">=3.8"))] == ["lt3.11", "ge3.11"]
    fancy = python_split(reqs, NOARCH, SpecifierSet(">=3.8"), extra="fancy")
    assert [r.tag for r in fancy] == ["lt3.11", "ge3.11lt3.12", "ge3.12"]
    assert python_split(reqs, NOARCH, SpecifierSet(">=3.8"), extra="other") == python_split(reqs, NOARCH, SpecifierSet(">=3.8"))
    old, new = python_split(reqs, NOARCH, SpecifierSet(">=3.8"))
    assert [old.covers(r) for r in fancy] == [True, False, False] and [new.covers(r) for r in fancy] == [False, True, True]


def test_regions_say_why_and_are_stable() -> None:
    reqs = [Requirement("tomli; python_version < '3.11'"), Requirement("foo>=1"), Requirement("exceptiongroup; python_version < '3.11'")]
    first = python_split(reqs, NOARCH, SpecifierSet(">=3.8"))
    assert first == python_split(list(reqs), NOARCH, SpecifierSet(">=3.8"))
    assert first[0].reason == 'tomli; python_version < "3.11"; exceptiongroup; python_version < "3.11"'
    assert first[0].describe() == "Python <3.11" and first[1].describe() == "Python >=3.11"


@pytest.mark.parametrize(
    ("runs", "base", "expected"),
    [
        ((Run((), (3, 9, 0)),), ">=3.7", ">=3.7,<3.9a0"),
        ((Run((3, 9, 0), ()),), ">=3.7", ">=3.9"),  # the floor a region bound replaces is dropped
        ((Run((3, 9, 0), ()),), "", ">=3.9"),
        ((Run((3, 9, 0), ()),), ">=3.8,<3.13a0", "<3.13a0,>=3.9"),
        ((Run((), (3, 10, 0)), Run((3, 11, 0), ())), ">=3.8", ">=3.8,<3.10a0|>=3.11"),
        ((), ">=3.8", ">=3.8"),
    ],
)
def test_python_spec(runs: tuple[Run, ...], base: str, expected: str) -> None:
    from bridge.translate.versions import translate_specifier_set

    region = PythonRegion(runs)
    assert region.python_spec(base, lambda text: translate_specifier_set(SpecifierSet(text)).version) == expected
