"""Issue 15 item 6, through the CLI: ``--extras all|none|NAME,...`` chooses which of a wheel's
extras become ``<name>-with-<extra>`` packages (default: all; README "Extras")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.plan.types import ExtrasChoice
from bridge.recipes.config import parse_config
from bridge.recipes.model import Recipe
from tests.support.conda_env import build_base_channel, install
from tests.support.wheels import build_wheel

REQUIRES = [
    "filelock",
    'rich>=13; extra == "fancy"',
    'click; extra == "cli"',
    'pywin32; sys_platform == "win32" and extra == "windows"',  # splits the noarch package per OS when built
]


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "wheels", "demo", "1.0", files={"demo/__init__.py": ""}, requires_dist=REQUIRES, metadata_fields=[("Provides-Extra", e) for e in ("fancy", "cli", "windows")])


def converted(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], dict]:
    code = main(["convert", "--json", *argv])
    doc = json.loads(capsys.readouterr().out)
    return code, sorted(Path(i["output"]).name for i in doc["items"]), doc


def test_default_builds_every_extra(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, names, _ = converted(capsys, "-o", str(tmp_path / "out"), str(wheel))
    assert code == 0
    assert names == sorted(f"{n}-1.0-py_{os}_0.conda" for n in ("demo", "demo-with-cli", "demo-with-fancy", "demo-with-windows") for os in ("unix", "win"))


def test_none_builds_one_package_per_wheel_and_no_os_split(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, names, doc = converted(capsys, "--extras", "none", "-o", str(tmp_path / "out"), str(wheel))
    assert code == 0 and names == ["demo-1.0-py_0.conda"]  # only the windows extra needed the per-OS split
    assert sorted(doc["items"][0]["depends"]) == ["filelock", "python"]


def test_named_extras_only_and_normalised(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, names, doc = converted(capsys, "--extras", "Fancy,CLI", "-o", str(tmp_path / "out"), str(wheel))
    assert code == 0 and names == ["demo-1.0-py_0.conda", "demo-with-cli-1.0-py_0.conda", "demo-with-fancy-1.0-py_0.conda"]
    fancy = next(i for i in doc["items"] if i["name"] == "demo-with-fancy")
    assert sorted(fancy["depends"]) == ["demo ==1.0 py_0", "python", "rich >=13"]
    assert doc["warnings"] == []


def test_an_extra_no_wheel_declares_is_warned_about(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, names, doc = converted(capsys, "--extras", "fancy,fnacy", "-o", str(tmp_path / "out"), str(wheel))
    assert code == 0 and names == ["demo-1.0-py_0.conda", "demo-with-fancy-1.0-py_0.conda"]
    assert doc["warnings"] == ["--extras fnacy: no wheel given declares the extra 'fnacy'"]


@pytest.mark.parametrize("value", ["all,fancy", "none,cli", "fancy,", "-bad"])
def test_bad_values_are_usage_errors(value: str, wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["convert", "--extras", value, "-o", str(tmp_path / "out"), str(wheel)])
    assert exited.value.code == 2 and "argument --extras" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_inspect_shows_the_same_choice(wheel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "--json", "--extras", "cli", str(wheel)]) == 0
    assert sorted(i["name"] for i in json.loads(capsys.readouterr().out)["items"]) == ["demo", "demo-with-cli"]


def test_recipes_carry_the_choice(tmp_path: Path) -> None:
    config = parse_config(
        {"defaults": {"extras": "none"}, "sources": [{"name": "a", "index": "https://example.org/simple/", "packages": ["x"]}, {"name": "b", "index": "https://example.org/b/", "packages": ["y"], "extras": ["cli", "fancy"]}]},
        tmp_path / "sources.yaml",
    )
    assert [s.extras for s in config.sources] == ["none", "cli,fancy"]
    recipe = Recipe(name="y", version="1.0", variant="b", source="b", index="https://example.org/b/", files=[], extras="cli,fancy")
    again = Recipe.from_dict(recipe.to_dict(), tmp_path / "recipe.yaml")
    assert again.conversion_options(tmp_path).extras == ExtrasChoice(frozenset({"cli", "fancy"}))
    assert again.conversion_options(tmp_path, ExtrasChoice.parse("none")).extras.names == frozenset()  # recipes build --extras wins
    plain = Recipe(name="y", version="1.0", variant="b", source="b", index="https://example.org/b/", files=[])
    assert "extras" not in plain.to_dict()["conversion"]  # recipes written before --extras stay byte-identical
    with pytest.raises(Exception, match="extras"):
        parse_config({"sources": [{"name": "a", "index": "https://example.org/", "packages": ["x"], "extras": "all,x"}]}, tmp_path / "s.yaml")


@pytest.mark.e2e
def test_a_dependency_on_an_extra_installs_from_a_channel_converted_with_the_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Why the default is 'all': torch requires cuda-toolkit[cublas,...]; converted in another
    run, it needs cuda-toolkit-with-cublas to be in the channel already."""
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "toolkit", "13.0", files={"toolkit/__init__.py": ""}, requires_dist=['libblas-stub; extra == "blas"'], metadata_fields=[("Provides-Extra", "blas")])
    build_wheel(wheels, "libblas-stub", "1.0", files={"libblas_stub/__init__.py": ""})
    channel = tmp_path / "channel"
    assert main(["convert", "-q", "--channel", str(channel), str(wheels)]) == 0
    user = build_wheel(tmp_path / "later", "app", "1.0", files={"app/__init__.py": ""}, requires_dist=["toolkit[blas]==13.0"])
    assert main(["convert", "-q", "--channel", str(channel), str(user)]) == 0
    records = install([channel, build_base_channel(tmp_path / "base")], ["app"], tmp_path / "prefix")
    assert {r.name.normalized for r in records} >= {"app", "toolkit", "toolkit-with-blas", "libblas-stub"}
