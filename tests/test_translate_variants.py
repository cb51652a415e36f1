"""Local labels, GPU families and what a variant adds (table-driven)."""

from __future__ import annotations

import re

import pytest

from bridge.translate.buildstring import build_string
from bridge.translate.variants import (
    FamilyError,
    aliases,
    build_glob_for_local,
    canonical_family_name,
    choose_family,
    cuda_major,
    family_from_name,
    family_from_url,
    known_families,
    parse_local,
    resolve_family,
    variant_for,
)


@pytest.mark.parametrize(
    ("label", "backend", "parts"),
    [
        ("rocm7.11.0a20260104", "rocm", ("rocm7.11",)),
        ("rocm7.10.0", "rocm", ("rocm7.10",)),
        ("rocm7.9.0rc1", "rocm", ("rocm7.9",)),
        ("rocm6.4", "rocm", ("rocm6.4",)),
        ("devrocm7.10.0.dev0.efed3c", "rocm", ("devrocm7.10",)),  # "+devrocm7.10.0.dev0-efed3c" normalised
        ("rocm10.1.0a20260811.bkc.20260813", "rocm", ("rocm10.1",)),
        ("cu124", "cuda", ("cu124",)),
        ("cu128", "cuda", ("cu128",)),
        ("cu124torch2.4", "cuda", ("cu124", "torch2.4")),
        ("cu12torch2.4cxx11abitrue", "cuda", ("cu12", "torch2.4", "cxx11abiTRUE")),
        ("cu123torch2.4cxx11abifalse", "cuda", ("cu123", "torch2.4", "cxx11abiFALSE")),
        ("0f1e2d3.cu124torch2.4", "cuda", ("cu124", "torch2.4")),
        ("cpu", "cpu", ("cpu",)),
        ("xpu", "xpu", ("xpu",)),
        ("hip6.2", "hip", ("hip6.2",)),
        ("g1234abc.local", None, ("g1234abc.local",)),
    ],
)
def test_parse_local(label: str, backend: str | None, parts: tuple[str, ...]) -> None:
    parsed = parse_local(label)
    assert (parsed.backend, parsed.build_parts) == (backend, parts)
    assert all(re.fullmatch(r"[a-zA-Z0-9_.+]+", p) for p in parts)


@pytest.mark.parametrize(
    ("local", "glob"),
    [
        ("rocm7.11.0a20260104", "*rocm7.11*"),
        ("cu124torch2.4", "*cu124*torch2.4*"),
        ("efed3c", "*efed3c*"),
    ],
)
def test_build_glob_for_local(local: str, glob: str) -> None:
    assert build_glob_for_local(local) == glob


@pytest.mark.parametrize(("digits", "major"), [("124", 12), ("118", 11), ("130", 13), ("12", 12), ("11", 11), ("92", 9), ("102", 10)])
def test_cuda_major(digits: str, major: int) -> None:
    assert cuda_major(digits) == major


@pytest.mark.parametrize(
    ("text", "tag", "name"),
    [
        ("gfx103X", "gfx103X", None),
        ("GFX103x", "gfx103X", None),
        ("gfx103X-dgpu", "gfx103X", "gfx103X-dgpu"),
        ("gfx103x-dgpu", "gfx103X", "gfx103X-dgpu"),
        ("gfx103X-all", "gfx103X", "gfx103X-all"),
        ("gfx110X-dgpu", "gfx110X", "gfx110X-dgpu"),
        ("gfx110X-all", "gfx110X", "gfx110X-all"),
        ("gfx103X-igpu", "gfx103igpu", "gfx103X-igpu"),
        ("gfx1151", "gfx1151", "gfx1151"),
        ("gfx94X-dcgpu", "gfx94X", "gfx94X-dcgpu"),
        ("gfx125X-all", "gfx125X", "gfx125X-all"),  # unknown but well-formed
    ],
)
def test_resolve_family(text: str, tag: str, name: str | None) -> None:
    family = resolve_family(text)
    assert (family.tag, family.name) == (tag, name)


def test_unknown_family_is_flagged_and_malformed_refused() -> None:
    assert resolve_family("gfx125X-all").known is False
    for bad in ("gfx103X-dgpu-extra", "nvidia", "gfx 103X", ""):
        with pytest.raises(FamilyError, match="not a GPU family"):
            resolve_family(bad)


def test_family_data_is_consistent() -> None:
    families = known_families()
    tags = set(families.values())
    for a in tags:  # a "*tag*" glob never matches another family's builds
        assert not [b for b in tags if a != b and a in b], a
    for old, new in aliases().items():  # renamed families keep their tag
        assert families[old] == families[new]
    for name in families:
        assert canonical_family_name(name) == name


@pytest.mark.parametrize(
    ("dist", "family"),
    [
        ("rocm-sdk-libraries-gfx103X-dgpu", "gfx103X-dgpu"),
        ("rocm_sdk_libraries_gfx103x_dgpu", None),  # a wheel file stem is not a project name
        ("rocm-sdk-libraries-gfx103x-dgpu", "gfx103X-dgpu"),
        ("rocm-sdk-libraries-gfx1151", "gfx1151"),
        ("rocm-sdk-device-gfx942", None),  # multi-arch device package: a GPU target, not a family
        ("rocm-sdk-core", None),
        ("torch", None),
    ],
)
def test_family_from_name(dist: str, family: str | None) -> None:
    found = family_from_name(dist)
    assert (found.name if found else None) == family


@pytest.mark.parametrize(
    ("url", "family"),
    [
        ("https://rocm.nightlies.amd.com/v2-staging/gfx103X-dgpu/", "gfx103X-dgpu"),
        ("https://rocm.nightlies.amd.com/v2/gfx110X-all/torch/", "gfx110X-all"),
        ("https://repo.amd.com/rocm/whl/gfx1151/", "gfx1151"),
        ("/srv/mirror/v2/gfx94X-dcgpu", "gfx94X-dcgpu"),
        ("https://download.pytorch.org/whl/cu128/", None),
        ("https://rocm.nightlies.amd.com/whl-multi-arch/", None),
    ],
)
def test_family_from_url(url: str, family: str | None) -> None:
    found = family_from_url(url)
    assert (found.name if found else None) == family


def test_choose_family() -> None:
    assert choose_family("gfx103X", None) == "gfx103X"
    assert choose_family(None, "https://x/v2/gfx103X-dgpu/") == "gfx103X-dgpu"
    assert choose_family("gfx103X-all", "https://x/v2/gfx103X-dgpu/") == "gfx103X-all"  # aliases agree
    assert choose_family(None, None) is None
    with pytest.raises(FamilyError, match="contradicts"):
        choose_family("gfx110X", "https://x/v2/gfx103X-dgpu/")


@pytest.mark.parametrize(
    ("local", "name", "family", "parts", "depends", "constrains", "requires", "pins", "features", "offset"),
    [
        # the mission's torch: ROCm label + family
        ("rocm7.11.0a20260104", "torch", "gfx103X", ("rocm7.11", "gfx103X"), (), (), (), ("rocm==7.11.0a20260104", "rocm-sdk-core"), "rocm", 0),
        ("rocm6.4", "torch", None, ("rocm6.4",), (), (), (), ("rocm==6.4.*",), "rocm", 0),
        ("devrocm7.10.0.dev0.efed3c", "torch", "gfx1151", ("devrocm7.10", "gfx1151"), (), (), (), ("rocm==7.10.0.dev0+efed3c", "rocm-sdk-core"), "rocm", 0),
        ("rocm10.1.0a20260811.bkc.20260813", "torch", None, ("rocm10.1",), (), (), (), ("rocm==10.1.0a20260811+bkc.20260813",), "rocm", 0),
        ("cu124", "torch", None, ("cu124",), ("__cuda >=12",), ("cuda-version 12.*",), (), (), None, 100),
        ("cu124torch2.4", "flashinfer", None, ("cu124", "torch2.4"), ("__cuda >=12",), ("cuda-version 12.*",), ("torch>=2.4,<2.5",), (), None, 100),
        ("cu12torch2.4cxx11abitrue", "flash-attn", None, ("cu12", "torch2.4", "cxx11abiTRUE"), ("__cuda >=12",), ("cuda-version 12.*",), ("torch>=2.4,<2.5",), (), None, 100),
        ("cu130", "torch", None, ("cu130",), ("__cuda >=13",), ("cuda-version 13.*",), (), (), None, 100),
        ("cpu", "torch", None, ("cpu",), (), (), (), (), None, 0),
        ("xpu", "torch", None, ("xpu",), (), (), (), (), "xpu", 0),
        # family-specific by name: the family joins the build, the rocm meta package is pinned
        # (and rocm-sdk-core, which every ROCm stack holds once)
        (None, "rocm-sdk-libraries-gfx103X-dgpu", None, ("gfx103X",), (), (), (), ("rocm", "rocm-sdk-core"), None, 0),
        (None, "rocm-sdk-libraries-gfx103X-dgpu", "gfx103X-all", ("gfx103X",), (), (), (), ("rocm", "rocm-sdk-core"), None, 0),
        # the meta package is the mutex itself
        (None, "rocm", "gfx110X-all", ("gfx110X",), (), (), (), ("rocm-sdk-core",), None, 0),
        # core and devel are per family when converted for one (each family's CI job builds its own)
        (None, "rocm-sdk-core", "gfx103X", ("gfx103X",), (), (), (), ("rocm",), None, 0),
        (None, "rocm-sdk-core", None, (), (), (), (), (), None, 0),
        # family-neutral packages ignore the family
        (None, "filelock", "gfx103X", (), (), (), (), (), None, 0),
        ("cu124", "torch", "gfx103X", ("cu124",), ("__cuda >=12",), ("cuda-version 12.*",), (), (), None, 100),
        (None, "filelock", None, (), (), (), (), (), None, 0),
    ],
)
def test_variant_for(local, name, family, parts, depends, constrains, requires, pins, features, offset) -> None:  # type: ignore[no-untyped-def]
    v = variant_for(local, name=name, family=family)
    assert v.build_parts == parts
    assert (v.depends, v.constrains, v.requires, v.pins) == (depends, constrains, requires, pins)
    assert (v.track_features, v.build_number_offset) == (features, offset)
    assert v.label == local


def test_family_requirements_from_gpu_yaml() -> None:
    v = variant_for(None, name="rocm-sdk-libraries-gfx110X-all", version="7.11.0a20260104")
    assert v.requires == ("rocm-sdk-core==7.11.0a20260104",)
    assert variant_for(None, name="rocm-sdk-devel", family="gfx110X", version="7.11.0a20260104").requires == ("rocm==7.11.0a20260104",)
    assert variant_for(None, name="rocm-sdk-devel", version="7.11.0a20260104").requires == ()  # no family: plain


def test_variant_notes_an_unused_family_and_refuses_a_contradiction() -> None:
    assert "not applied" in variant_for(None, name="filelock", family="gfx103X").notes[0]
    with pytest.raises(FamilyError, match="gfx110X-all"):
        variant_for(None, name="rocm-sdk-libraries-gfx110X-all", family="gfx103X")


@pytest.mark.parametrize(
    ("python", "local", "family", "number", "build"),
    [
        ("py312", "rocm7.11.0a20260104", "gfx103X", 0, "py312_rocm7.11_gfx103X_0"),  # the mission's example
        ("py312", "cu124", None, 100, "py312_cu124_100"),
        ("py38_abi3", "cu124torch2.4", None, 100, "py38_abi3_cu124_torch2.4_100"),
        ("py311", "cu12torch2.4cxx11abitrue", None, 100, "py311_cu12_torch2.4_cxx11abiTRUE_100"),
        ("", None, "gfx103X-dgpu", 0, "0"),  # py3-none-<platform>, family-neutral name
        ("py", "cpu", None, 3, "py_cpu_3"),
        ("py313t", "rocm10.1.0a20260811.bkc.20260813", "gfx1151", 0, "py313t_rocm10.1_gfx1151_0"),
    ],
)
def test_build_strings(python: str, local: str | None, family: str | None, number: int, build: str) -> None:
    v = variant_for(local, name="torch", family=family)
    text = build_string([python, *v.build_parts], number)
    assert text == build
    assert "-" not in text and re.fullmatch(r"[a-zA-Z0-9_.+]+", text)
