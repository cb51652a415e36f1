"""PEP 440 → conda versions and version specs (table-driven), checked against rattler's ordering."""

from __future__ import annotations

import pytest
from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import Version
from rattler import Version as CondaVersion
from rattler import VersionSpec

from bridge.translate.versions import conda_version, local_label, pep440_version, translate_specifier, translate_specifier_set


@pytest.mark.parametrize(
    ("pep440", "conda"),
    [
        ("2.9.1", "2.9.1"),
        ("2.9.1+rocm7.11.0a20260104", "2.9.1"),  # local label leaves the version
        ("2.5.1+cu121", "2.5.1"),
        ("7.11.0a20260104", "7.11.0a20260104"),
        ("1.0.dev1", "1.0dev1"),  # dot-less so dev < a < rc holds in conda
        ("2.12.0.dev20260407+cu128", "2.12.0dev20260407"),
        ("1.0a1.dev1", "1.0a1.dev1"),
        ("1.0.post1", "1.0.post1"),
        ("1.0.post1.dev1", "1.0.post1.dev1"),
        ("1.0RC1", "1.0rc1"),  # normalised
        ("1.0c1", "1.0rc1"),
        ("1!2.0", "1!2.0"),
        ("2.10.0a0+rocm7.11.0a20251209", "2.10.0a0"),
    ],
)
def test_conda_version(pep440: str, conda: str) -> None:
    assert conda_version(pep440) == conda


# Pairs in PEP 440 order (a < b): the conda versions must sort the same way in rattler.
ORDERED = [
    ("1.0.dev1", "1.0a1"),
    ("1.0a1.dev1", "1.0a1"),
    ("1.0a1", "1.0rc1"),
    ("1.0rc1", "1.0"),
    ("1.0", "1.0.post1"),
    ("1.0.post1.dev1", "1.0.post1"),
    ("1.0.post1", "1.0.1"),
    ("7.10.9", "7.11.0a20260104"),
    ("7.11.0a20260104", "7.11.0"),
    ("2.0", "1!1.0"),
]


@pytest.mark.parametrize(("low", "high"), ORDERED)
def test_conda_order_matches_pep440(low: str, high: str) -> None:
    assert Version(low) < Version(high)
    assert CondaVersion(conda_version(low)) < CondaVersion(conda_version(high))


@pytest.mark.parametrize(
    ("label_version", "local"),
    [("2.9.1+rocm7.11.0a20260104", "rocm7.11.0a20260104"), ("2.9.1", None), ("1.0+CU124", "cu124")],
)
def test_local_label(label_version: str, local: str | None) -> None:
    assert local_label(label_version) == local


@pytest.mark.parametrize(("conda", "local", "pep440"), [("1.0dev1", None, "1.0.dev1"), ("2.9.1", "cu124", "2.9.1+cu124")])
def test_pep440_version_back(conda: str, local: str | None, pep440: str) -> None:
    assert pep440_version(conda, local) == Version(pep440)


def test_pep440_version_refuses_conda_only_versions() -> None:
    with pytest.raises(ValueError, match="not a PEP 440 version"):
        pep440_version("1.0_custom-x")


@pytest.mark.parametrize(
    ("spec", "conda", "local", "noted"),
    [
        ("==1.0", "==1.0", None, False),
        ("==1.0.*", "1.0.*", None, False),
        ("!=1.0.*", "!=1.0.*", None, False),
        ("!=1.5", "!=1.5", None, False),
        ("!=1.5+cu121", "!=1.5", None, True),  # the local label cannot be excluded
        (">=1.26", ">=1.26", None, False),
        ("<=2.0", "<=2.0", None, False),
        ("<2", "<2a0", None, False),  # keeps 2.0rc1 out, as PEP 440 does
        ("<2.0.0", "<2a0", None, False),
        ("<2.5", "<2.5a0", None, False),
        ("<2.0rc1", "<2.0rc1", None, False),
        ("<1.0.dev3", "<1.0dev3", None, False),
        ("<1!2.0", "<1!2a0", None, False),
        (">1.0", ">1.0", None, True),  # conda admits 1.0.post1
        (">1.0.post1", ">1.0.post1", None, False),
        ("~=1.4.5", ">=1.4.5,1.4.*", None, False),
        ("~=1.4", ">=1.4,1.*", None, False),
        ("~=2.2.post3", ">=2.2.post3,2.*", None, False),
        ("===1.0", "==1.0", None, True),
        (">=1.0.dev0", ">=1.0dev0", None, False),
        ("==3.5.1+rocm7.11.0a20260104", "==3.5.1", "rocm7.11.0a20260104", False),
        ("==2.9.1+cu124", "==2.9.1", "cu124", False),
    ],
)
def test_translate_specifier(spec: str, conda: str, local: str | None, noted: bool) -> None:
    result = translate_specifier(Specifier(spec))
    assert result.version == conda
    assert result.local == local
    assert bool(result.notes) is noted
    VersionSpec(result.version)  # rattler parses it


@pytest.mark.parametrize(
    ("specs", "candidates"),
    [
        ("<2", ["1.9", "2.0rc1", "2.0.dev0", "2.0a1", "2.0", "1.99.post1"]),
        (">=1.4,<2.0", ["1.3", "1.4", "1.4.post1", "2.0a0", "2.0"]),
        ("~=1.4.5", ["1.4.4", "1.4.5", "1.4.9", "1.5.0"]),
        ("==1.0.*", ["0.9", "1.0", "1.0.5", "1.1"]),
        ("!=1.0", ["1.0", "1.0.1"]),
    ],
)
def test_translated_sets_admit_what_pep440_admits(specs: str, candidates: list[str]) -> None:
    pep = SpecifierSet(specs)
    conda = VersionSpec(translate_specifier_set(pep).version)
    for candidate in candidates:
        expected = pep.contains(candidate, prereleases=True)
        assert conda.matches(CondaVersion(conda_version(candidate))) is expected, candidate


def test_specifier_set_is_ordered_and_carries_pin() -> None:
    result = translate_specifier_set(SpecifierSet("<2.5,>=2.4"))
    assert result.version == "<2.5a0,>=2.4"
    assert translate_specifier_set(SpecifierSet(">=2.4,<2.5")).version == result.version
    assert translate_specifier_set(SpecifierSet("==13.0.2")).pinned == "13.0.2"
    assert translate_specifier_set(SpecifierSet("")).version == ""
