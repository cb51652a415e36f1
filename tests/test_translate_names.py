"""The name map: both modes, both directions, extras, version templates and user overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.core.data import load
from bridge.translate.names import NameMap, NameMapError, extras_package, parse_overrides


@pytest.mark.parametrize(
    ("mode", "pypi", "conda", "with_specs"),
    [
        ("pypi", "torch", "torch", ()),
        ("pypi", "Typing_Extensions", "typing-extensions", ()),
        ("pypi", "nvidia-cublas-cu12", "nvidia-cublas-cu12", ()),
        ("pypi", "rocm-sdk-libraries-gfx103X-dgpu", "rocm-sdk-libraries-gfx103x-dgpu", ()),
        ("conda-forge", "torch", "pytorch", ()),
        ("conda-forge", "typing_extensions", "typing_extensions", ()),
        ("conda-forge", "nvidia-cublas-cu12", "libcublas", ("cuda-version 12.*",)),
        ("conda-forge", "nvidia-cublas", "libcublas", ("cuda-version >=13",)),
        ("conda-forge", "nvidia-cuda-runtime-cu12", "cuda-cudart", ("cuda-version 12.*",)),
        ("conda-forge", "nvidia-cudnn-cu12", "cudnn", ("cuda-version 12.*",)),
        ("conda-forge", "nvidia-nccl-cu13", "nccl", ("cuda-version 13.*",)),
        ("conda-forge", "cupy-cuda12x", "cupy", ("cuda-version 12.*",)),
        ("conda-forge", "numpy", "numpy", ()),
    ],
)
def test_to_conda(mode: str, pypi: str, conda: str, with_specs: tuple[str, ...]) -> None:
    mapped = NameMap.create(mode).to_conda(pypi)  # type: ignore[arg-type]
    assert (mapped.name, mapped.with_specs) == (conda, with_specs)


@pytest.mark.parametrize(
    ("mode", "conda", "specs", "pypi"),
    [
        ("conda-forge", "pytorch", (), "torch"),
        ("conda-forge", "libcublas", ("cuda-version 12.*",), "nvidia-cublas-cu12"),
        ("conda-forge", "libcublas", ("cuda-version  >=13",), "nvidia-cublas"),
        ("conda-forge", "libcublas", (), "nvidia-cublas-cu12"),  # first in file order
        ("conda-forge", "numpy", (), "numpy"),
        ("pypi", "torch", (), "torch"),
        ("pypi", "rocm", (), "rocm"),
    ],
)
def test_to_pypi(mode: str, conda: str, specs: tuple[str, ...], pypi: str) -> None:
    assert NameMap.create(mode).to_pypi(conda, specs) == pypi  # type: ignore[arg-type]


def test_round_trip_every_conda_forge_entry() -> None:
    names = NameMap.create("conda-forge")
    for pypi in load("names")["conda-forge"]:
        mapped = names.to_conda(pypi)
        assert names.to_pypi(mapped.name, mapped.with_specs) == pypi


@pytest.mark.parametrize(
    ("mode", "pypi", "extra", "version", "build", "specs"),
    [
        ("pypi", "cuda-toolkit", "cublas", "==13.0.2", None, ["cuda-toolkit-with-cublas ==13.0.2"]),
        ("pypi", "torch", "Opt_Einsum", "==2.9.1", "*cu124*", ["torch-with-opt-einsum ==2.9.1 *cu124*"]),
        ("pypi", "requests", "socks", "", None, ["requests-with-socks"]),
        ("pypi", "rocm", "libraries", "==7.11.0a20260104", "*gfx103X*", []),
        ("pypi", "rocm", "devel", "==7.11.0a20260104", "*gfx103X*", ["rocm-sdk-devel ==7.11.0a20260104"]),
        ("conda-forge", "cuda-toolkit", "cublas", "13.0.*", None, ["libcublas"]),
        ("conda-forge", "torch", "opt-einsum", "", None, ["pytorch-with-opt-einsum"]),
    ],
)
def test_extra_specs(mode: str, pypi: str, extra: str, version: str, build: str | None, specs: list[str]) -> None:
    assert NameMap.create(mode).extra_specs(pypi, extra, version, build) == specs  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "pypi", "spec", "pinned", "result"),
    [
        ("conda-forge", "cuda-toolkit", "==13.0.2", "13.0.2", "13.0.*"),
        ("conda-forge", "cuda-toolkit", ">=12", None, ""),
        ("pypi", "cuda-toolkit", "==13.0.2", "13.0.2", "==13.0.2"),
        ("conda-forge", "torch", ">=2.4", None, ">=2.4"),
    ],
)
def test_dependency_version(mode: str, pypi: str, spec: str, pinned: str | None, result: str) -> None:
    assert NameMap.create(mode).dependency_version(pypi, spec, pinned) == result  # type: ignore[arg-type]


def test_extras_package_name() -> None:
    assert extras_package("torch", "Opt_Einsum") == "torch-with-opt-einsum"


def test_overrides_file_flat_and_sectioned(tmp_path: Path) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text("torch: my-torch\nfoo-bar: {name: foo, with: ['bar >=1']}\n")
    names = NameMap.create("conda-forge", flat)
    assert names.to_conda("torch").name == "my-torch"
    assert names.to_conda("foo_bar").with_specs == ("bar >=1",)
    assert names.to_conda("nvidia-cublas-cu12").name == "libcublas"  # built-in entries stay

    sectioned = tmp_path / "sections.yaml"
    sectioned.write_text("common: {a: aa}\npypi: {b: bb}\nconda-forge: {b: cc}\n")
    assert NameMap.create("pypi", sectioned).to_conda("b").name == "bb"
    assert NameMap.create("conda-forge", sectioned).to_conda("b").name == "cc"
    assert NameMap.create("pypi", sectioned).to_conda("a").name == "aa"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1, 2], "must be a mapping"),
        ({"torch": "PyTorch"}, "not a valid conda package name"),
        ({"torch": {"with": ["x"]}}, "mapping with 'name'"),
        ({"torch": {"name": "t", "colour": "red"}}, "unknown key"),
        ({"torch": {"name": "t", "with": [3]}}, "list of MatchSpecs"),
        ({"common": {}, "conda_forge": {}}, "unknown section"),
    ],
)
def test_overrides_are_validated(document: object, message: str) -> None:
    with pytest.raises(NameMapError, match=message):
        parse_overrides(document, "pypi")


def test_overrides_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("torch: [unclosed\n")
    with pytest.raises(NameMapError, match="not valid YAML"):
        NameMap.create("pypi", bad)
    with pytest.raises(NameMapError, match="cannot read"):
        NameMap.create("pypi", tmp_path / "missing.yaml")
