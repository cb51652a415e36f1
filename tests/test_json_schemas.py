"""Every command's ``--json`` document follows its shipped JSON Schema (``docs/json.md``)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

import tests.support.gpu_wheels as gw
from bridge.cli import build_parser, main
from bridge.cli.output import SCHEMA_DIR, schema_file
from tests.support.conda_env import HOST_PY, build_conda_package
from tests.support.jsondoc import run_json, validate
from tests.support.wheels import build_wheel

PY = HOST_PY.replace(".", "")


def command_names() -> list[str]:
    """Every runnable command as the envelope names it (``channel list``, ``recipes build``)."""
    names = []
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        verbs = [a for a in parser._actions if a.dest in ("verb", "action")]
        names += [f"{name} {verb}" for verb in verbs[0].choices] if verbs else [name]
    return names


def test_every_command_has_a_valid_schema() -> None:
    for path in SCHEMA_DIR.glob("*.schema.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))
    missing = [c for c in command_names() if not schema_file(c).is_file()]
    assert not missing
    documented = (Path(__file__).parents[1] / "docs" / "json.md").read_text()
    assert all(f"`{c}`" in documented for c in command_names())


def test_schemas_reject_what_they_do_not_describe() -> None:
    doc = {"command": "to-wheel", "schema_version": 1, "ok": True, "exit_code": 0, "items": [], "errors": [], "warnings": []}
    validate(doc)
    for broken in ({**doc, "exit_code": 3}, {**doc, "surprise": 1}, {**doc, "items": [{"source": "x"}]}, {**doc, "errors": [{"reason": "r"}]}):
        with pytest.raises(ValidationError):
            validate(broken)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Wheels of every kind, their conda packages and a channel holding them."""
    root = tmp_path_factory.mktemp("json")
    wheels = root / "wheels"
    kinds = {
        "pure": build_wheel(wheels, "purepkg", "1.0", files={"purepkg/__init__.py": "def main():\n    return 0\n"}, entry_points={"console_scripts": {"pp": "purepkg:main"}}),
        "binary": build_wheel(wheels, "binpkg", "1.0", tag=f"cp{PY}-cp{PY}-manylinux_2_17_x86_64", files={"binpkg/__init__.py": ""}, entry_points={"console_scripts": {"bp": "binpkg:main"}}),
        "abi3": build_wheel(wheels, "abipkg", "1.0", tag="cp39-abi3-manylinux_2_17_x86_64", files={"abipkg/__init__.py": ""}),
        "platform": build_wheel(wheels, "platpkg", "1.0", tag="py3-none-win_amd64", files={"platpkg/__init__.py": ""}),
        "rocm": gw.torch_rocm(wheels, "gfx103X-dgpu", tag="cp312-cp312-win_amd64"),
        "cuda": gw.torch_cuda(wheels),
        "extras": gw.cuda_toolkit(wheels),
        "sdist": gw.rocm_sdist(wheels),
    }
    out = root / "out"
    assert main(["convert", "-q", "--gpu-family", "gfx103X", "-o", str(out), str(kinds["pure"]), str(kinds["binary"]), str(kinds["rocm"])]) == 0
    assert main(["convert", "-q", "--format", "tar.bz2", "-o", str(out), str(kinds["pure"])]) == 0
    kinds["conda"] = out / "noarch" / "purepkg-1.0-py_0.conda"
    kinds["tar.bz2"] = out / "noarch" / "purepkg-1.0-py_0.tar.bz2"
    kinds["foreign"] = build_conda_package(
        root / "foreign" / "linux-64",
        {"name": "gpulib", "version": "1.0", "build": "h0_0"},
        {"lib/libgpu.so.1": b"\x7fELF", "etc/gpulib.conf": "prefix=/opt/placeholder_placeholder\n"},
        symlinks={"lib/libgpu.so": "libgpu.so.1"},
        placeholders={"etc/gpulib.conf": "/opt/placeholder_placeholder"},
    )
    channel = root / "channel"
    assert main(["publish", "-q", "--channel", str(channel), str(out / "noarch"), str(out / "win-64")]) == 0
    return {**kinds, "root": root, "wheels": wheels, "out": out, "channel": channel}


@pytest.mark.parametrize("kind", ["pure", "binary", "abi3", "platform", "rocm", "cuda", "extras", "sdist", "conda", "tar.bz2", "foreign"])
def test_inspect_every_fixture_kind(world: dict[str, Path], capsys: pytest.CaptureFixture[str], kind: str) -> None:
    code, doc = run_json(capsys, "inspect", "--gpu-family", "gfx103X-dgpu", str(world[kind]))
    assert code == 0 and doc["items"]
    expected = "package" if kind in ("conda", "tar.bz2", "foreign") else "plan"
    assert {i["kind"] for i in doc["items"]} == {expected}


def test_convert_publish_index_and_channel_verbs(world: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    channel = tmp_path / "channel"
    pure = str(world["pure"])
    code, doc = run_json(capsys, "convert", "--channel", str(channel), pure, str(world["binary"]))
    assert code == 0 and {i["name"] for i in doc["items"]} == {"purepkg", "binpkg"}
    assert {p["status"] for p in doc["published"]} == {"added"}  # publishing is reported apart from the packages
    code, doc = run_json(capsys, "convert", "--dry-run", "--channel", str(channel), pure)
    assert code == 0 and doc["dry_run"] and doc["items"][0]["channel_status"] == "present"
    code, doc = run_json(capsys, "publish", "--channel", str(channel), str(world["tar.bz2"]))
    assert code == 0 and doc["items"][0]["status"] == "added"
    code, doc = run_json(capsys, "index", str(channel))
    assert code == 0 and {i["subdir"] for i in doc["items"]} >= {"noarch", "linux-64"}
    code, doc = run_json(capsys, "channel", "list", str(channel))
    assert code == 0 and len(doc["items"]) == 3
    code, doc = run_json(capsys, "channel", "search", str(channel), "binpkg")
    assert code == 0 and [i["name"] for i in doc["items"]] == ["binpkg"]
    code, doc = run_json(capsys, "channel", "yank", str(channel), "binpkg")
    assert code == 0 and doc["items"][0]["yanked"]
    code, doc = run_json(capsys, "channel", "unyank", str(channel), "binpkg")
    assert code == 0 and not doc["items"][0]["yanked"]
    code, doc = run_json(capsys, "channel", "verify", str(channel))
    assert code == 0 and doc["summary"]["checked"] == 3
    code, doc = run_json(capsys, "channel", "remove", str(channel), "binpkg")
    assert code == 0 and doc["items"][0]["removed"]
    code, doc = run_json(capsys, "libs", str(channel))
    assert code == 0 and doc["items"] == []


def test_to_wheel_and_repack(world: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "to-wheel", "-o", str(tmp_path / "wheels"), str(world["conda"]))
    assert code == 0 and doc["items"][0]["tags"] == ["py3-none-any"]
    site = tmp_path / "env" / "lib" / f"python{HOST_PY}" / "site-packages"
    with zipfile.ZipFile(world["pure"]) as zf:
        zf.extractall(site)  # a pure wheel unpacks into site-packages as installed
    code, doc = run_json(capsys, "repack", "purepkg", "--path", str(site), "-o", str(tmp_path / "repacked"))
    assert code == 0 and doc["items"][0]["outputs"][0].endswith("purepkg-1.0-py3-none-any.whl")


def test_recipes_regenerate_and_build(world: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "recipes" / "sources.yaml"
    config.parent.mkdir()
    config.write_text(f"sources:\n  - name: local\n    index: {world['wheels']}\n    versions: {{policy: release, keep: 1}}\n    packages: [purepkg]\n")
    code, doc = run_json(capsys, "recipes", "regenerate", "--config", str(config))
    assert code == 0 and doc["summary"]["added"] == 1
    args = ("recipes", "build", "--recipes", str(config.parent), "--channel", str(tmp_path / "channel"), "--cache", str(tmp_path / "cache"))
    code, doc = run_json(capsys, *args)
    assert code == 0 and doc["items"][0]["status"] == "built" and doc["summary"]["built"] == 1


def test_errors_and_usage_errors_are_documents(world: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    code, doc = run_json(capsys, "convert", "-o", str(tmp_path), str(bad), str(world["pure"]))
    assert code == 1 and doc["errors"][0]["kind"] == "BadInput" and len(doc["items"]) == 1
    code, doc = run_json(capsys, "to-wheel", str(bad))
    assert code == 2 and doc["errors"][0]["path"] == str(bad)
    code, doc = run_json(capsys, "convert")
    assert code == 2 and doc["errors"][0]["kind"] == "UsageError"
    code, doc = run_json(capsys, "channel", "list", str(tmp_path / "nothing"))
    assert code == 2 and doc["errors"][0]["hint"]
    code, doc = run_json(capsys, "recipes", "build", "--recipes", str(tmp_path / "none"), "--channel", str(tmp_path / "c"), "--cache", str(tmp_path / "cache"))
    assert code in (0, 2)


def test_flags_work_before_and_after_the_command(world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--json", "inspect", str(world["pure"])], ["inspect", "--json", str(world["pure"])]):
        assert main(argv) == 0
        validate(json.loads(capsys.readouterr().out))
    assert main(["channel", "--json", "list", str(world["channel"])]) == 0  # group level, then the verb
    assert json.loads(capsys.readouterr().out)["command"] == "channel list"
    assert main(["-q", "inspect", str(world["pure"])]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.e2e
def test_verify(world: dict[str, Path], base_channel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "verify", str(world["conda"]), "-c", str(base_channel))
    assert code == 0 and doc["items"][0]["ok"]
    code, doc = run_json(capsys, "publish", "--verify", "-c", str(base_channel), "--channel", str(world["root"] / "verified"), str(world["conda"]))
    assert code == 0 and doc["verified"][0]["ok"] and doc["items"][0]["status"] == "added"
