"""PyPI ↔ conda mapping files written on publish, read back the way pixi and conda-lock read them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bridge.channel.publish import publish
from bridge.channel.pypi_map import CONDA_LOCK_MAP, PIXI_MAP, MappedPackage, conda_lock_map, pixi_map, read_conda_lock_map, read_pixi_map
from bridge.check.standin import build_conda_package
from bridge.core.errors import BadInput
from bridge.pipelines.convert import convert_wheel
from bridge.plan.types import ConversionOptions


def _convert(wheel: Path, out: Path, **options) -> list[Path]:
    done = convert_wheel(wheel, out, ConversionOptions(**options))
    assert done.ok, done.error
    return done.outputs


@pytest.fixture
def channel(tmp_path: Path, make_wheel) -> Path:
    """A channel with a renamed GPU-style package, a multi-target pure one and a non-wheel2conda one."""
    out = tmp_path / "out"
    gpu = make_wheel("Torch", "2.9.1+cu128", tag="cp312-cp312-manylinux_2_28_x86_64", files={"torch/__init__.py": ""})
    pure = make_wheel("nvidia_cuda_runtime_cu12", "12.8.90", files={"nvidia/cuda_runtime/__init__.py": ""})
    packages = _convert(gpu, out, name="torch-cuda") + _convert(pure, out)
    other = build_conda_package(tmp_path / "foreign" / "noarch", {"name": "zlib", "version": "1.3", "build": "0"})
    channel = tmp_path / "channel"
    publish(channel, [*packages, other])
    return channel


def _repodata_files(channel: Path) -> dict[str, dict]:
    files = {}
    for repodata in channel.glob("*/repodata.json"):
        data = json.loads(repodata.read_text())
        for key in ("packages", "packages.conda"):
            files.update({f"{repodata.parent.name}/{name}": rec for name, rec in data[key].items()})
    return files


def test_publish_writes_maps_matching_the_packages(channel: Path) -> None:
    pixi = read_pixi_map(channel / PIXI_MAP)
    assert pixi == {"nvidia-cuda-runtime-cu12": ["nvidia-cuda-runtime-cu12"], "torch-cuda": ["torch"]}
    assert "zlib" not in pixi  # not converted by us: no claim either way

    repodata = _repodata_files(channel)
    lock = yaml.safe_load((channel / CONDA_LOCK_MAP).read_text())  # conda-lock parses it as YAML
    assert set(lock) == {"nvidia-cuda-runtime-cu12", "torch"}
    torch = lock["torch"]
    assert (torch["pypi_name"], torch["conda_name"], torch["conda_forge"]) == ("torch", "torch-cuda", "torch-cuda")
    (entry,) = torch["packages"]
    record = repodata[entry["file"]]
    assert (record["name"], record["version"], record["sha256"]) == ("torch-cuda", entry["conda_version"], entry["sha256"])
    assert entry["pypi_version"] == "2.9.1+cu128" and entry["conda_version"] == "2.9.1"

    mapped = read_conda_lock_map(channel / CONDA_LOCK_MAP)
    assert sorted(p.file for p in mapped) == sorted(f for f, r in repodata.items() if r["name"] != "zlib")
    for p in mapped:
        assert repodata[p.file]["name"] == p.conda_name and pixi[p.conda_name] == [p.pypi_name]


def test_maps_follow_every_channel_change(channel: Path, make_wheel, tmp_path: Path) -> None:
    from bridge.channel.index import index_channel
    from bridge.channel.manage import yank

    before = {name: (channel / name).read_bytes() for name in (PIXI_MAP, CONDA_LOCK_MAP)}
    index_channel(channel)  # nothing changed: byte-identical maps
    assert {name: (channel / name).read_bytes() for name in before} == before

    extra = _convert(make_wheel("Demo.Pkg", "1.0", files={"demo_pkg/__init__.py": ""}), tmp_path / "out2")
    publish(channel, extra)
    assert read_pixi_map(channel / PIXI_MAP)["demo-pkg"] == ["demo-pkg"]

    yank(channel, [extra[0].name])  # hidden from solvers: no longer claimed for PyPI either
    assert "demo-pkg" not in read_pixi_map(channel / PIXI_MAP)

    (channel / CONDA_LOCK_MAP).write_text("{not json")  # damaged or deleted: the next index rewrites it
    (channel / PIXI_MAP).unlink()
    index_channel(channel)
    assert "torch" in json.loads((channel / CONDA_LOCK_MAP).read_text())
    assert (channel / PIXI_MAP).read_bytes() == before[PIXI_MAP]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "b"}', {"a": ["b"]}),
        ('{"airflow": ["airflow", "apache-airflow"], "x": null}', {"airflow": ["airflow", "apache-airflow"], "x": []}),
    ],
)
def test_read_pixi_map_forms(tmp_path: Path, text: str, expected: dict) -> None:
    (tmp_path / "m.json").write_text(text)
    assert read_pixi_map(tmp_path / "m.json") == expected


@pytest.mark.parametrize("text", ['["a"]', '{"a": 1}', "{"])
def test_read_pixi_map_rejects(tmp_path: Path, text: str) -> None:
    (tmp_path / "m.json").write_text(text)
    with pytest.raises(BadInput):
        read_pixi_map(tmp_path / "m.json")


def test_one_conda_name_for_two_pypi_names_and_back() -> None:
    rows = [
        MappedPackage("linux-64/a-1-0.conda", "1", "torch", "1", "torch", "1+cu1"),
        MappedPackage("linux-64/b-1-0.conda", "2", "torch", "1", "pytorch-triton", "1"),
        MappedPackage("linux-64/c-1-0.conda", "3", "torch-rocm", "1", "torch", "1+rocm7"),
        MappedPackage("linux-64/d-2-0.conda", "4", "torch-rocm", "2", "torch", "2+rocm7"),
    ]
    assert pixi_map(rows) == {"torch": ["pytorch-triton", "torch"], "torch-rocm": "torch"}
    lock = conda_lock_map(rows)
    assert lock["torch"]["conda_name"] == "torch-rocm" and lock["torch"]["conda_names"] == ["torch", "torch-rocm"]
    assert [p["pypi_version"] for p in lock["torch"]["packages"]] == ["1+cu1", "1+rocm7", "2+rocm7"]
