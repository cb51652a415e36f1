"""``verify`` tells the truth: a failure means the package is broken for its users.

Extras packages whose dependencies the channels lack are "not installable here" (a warning),
modules and entry points that need an optional extra are reported as needing it (and checked
when the extra's package is installed), vendored ``.dist-info`` folders are not the package's,
and specs are read the way conda reads them (``name=version=build``, brackets).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.check.standin import build_conda_package
from bridge.check.verify import VerifyOptions, extras_base, normalize_specs, verify_packages
from bridge.cli import main
from bridge.pipelines.convert import convert_wheel
from bridge.plan.types import ConversionOptions
from tests.support.jsondoc import validate
from tests.support.wheels import build_wheel


def _convert(wheel: Path, out: Path) -> dict[str, Path]:
    done = convert_wheel(wheel, out, ConversionOptions())
    assert done.ok, done.error
    return {p.name.rsplit("-", 2)[0]: p for p in done.outputs}


@pytest.fixture
def blacky(tmp_path: Path) -> dict[str, Path]:
    """black's shape: ``blackd = blackd:patched_main [d]``, and the blackd module needs the extra's aiohttp."""
    wheel = build_wheel(
        tmp_path / "w",
        "blacky",
        "24.10.0",
        files={
            "blacky/__init__.py": "def main():\n    print('blacky')\n",
            "blackyd/__init__.py": "import aiohttpy\ndef main():\n    print('blackyd', aiohttpy.OK)\n",
        },
        entry_points={"console_scripts": {"blacky": "blacky:main", "blackyd": "blackyd:main [d]"}},
        requires_dist=['aiohttpy>=3; extra == "d"'],
        metadata_fields=[("Provides-Extra", "d")],
    )
    dep = build_wheel(tmp_path / "w", "aiohttpy", "3.10.0", files={"aiohttpy/__init__.py": "OK = 1\n"})
    return _convert(wheel, tmp_path / "c") | _convert(dep, tmp_path / "c")


def test_extras_base_and_specs() -> None:
    assert extras_base("rich-with-jupyter", "13.9.4", "py_0", ["python >=3.8", "rich ==13.9.4 py_0", "ipywidgets >=7.5.1,<9"]) == ("rich", "jupyter")
    assert extras_base("rich-with-jupyter", "13.9.4", "py_0", ["rich >=13"]) is None  # not ours: no exact pin on the base
    assert extras_base("rich", "13.9.4", "py_0", []) is None
    assert normalize_specs(["torch=*=*gfx103X*", "torch[build=*gfx103X*]", "torch 2.9.1 *cu12*", "torch=2.9"]) == [
        "torch * *gfx103X*", 'torch[build="*gfx103X*"]', "torch ==2.9.1 *cu12*", "torch 2.9.*"
    ]


@pytest.mark.e2e
def test_entry_point_and_module_that_need_an_extra_are_not_failures(blacky: dict[str, Path], base_channel: Path) -> None:
    (base,) = verify_packages([blacky["blacky"]], VerifyOptions(extra_channels=(base_channel,)))
    assert base.ok and base.status == "pass", base.problems()
    eps = {e.name: e for e in base.entry_points}
    assert (eps["blacky"].how, eps["blacky"].ok) == ("help", True)
    assert (eps["blackyd"].how, eps["blackyd"].needs_extra) == ("needs-extra", "d")
    imports = {i.module: i for i in base.imports}
    assert imports["blacky"].ok and imports["blacky"].needs_extra is None
    assert imports["blackyd"].ok and imports["blackyd"].needs_extra == "d" and "No module named 'aiohttpy'" in (imports["blackyd"].error or "")


@pytest.mark.e2e
def test_the_extras_package_checks_what_needs_the_extra(blacky: dict[str, Path], base_channel: Path) -> None:
    reports = verify_packages([blacky["blacky"], blacky["blacky-with-d"], blacky["aiohttpy"]], VerifyOptions(extra_channels=(base_channel,)))
    extra = reports[1]
    assert (extra.extra_of, extra.extra, extra.status) == ("blacky", "d", "pass"), extra.problems()
    eps = {e.name: e for e in extra.entry_points}
    assert (eps["blackyd"].how, eps["blackyd"].ok, eps["blackyd"].needs_extra) == ("help", True, None)
    assert {i.module: (i.ok, i.needs_extra) for i in extra.imports} == {"blacky": (True, None), "blackyd": (True, None)}


@pytest.mark.e2e
def test_extras_package_with_absent_dependencies_is_not_installable_here(blacky: dict[str, Path], base_channel: Path) -> None:
    base, extra = verify_packages([blacky["blacky"], blacky["blacky-with-d"]], VerifyOptions(extra_channels=(base_channel,)))
    assert base.status == "pass"
    assert extra.status == "not-installable" and extra.ok and extra.not_installable == "missing aiohttpy >=3"
    assert extra.error is None and any("not installable here: missing aiohttpy >=3" in w for w in extra.warnings)


@pytest.mark.e2e
def test_a_module_that_is_really_broken_still_fails(tmp_path: Path, base_channel: Path) -> None:
    wheel = build_wheel(
        tmp_path / "w",
        "halfy",
        "1.0",
        files={"halfy/__init__.py": "import nowhere_at_all\n"},
        requires_dist=['aiohttpy; extra == "d"'],
        metadata_fields=[("Provides-Extra", "d")],
    )
    (report,) = verify_packages([_convert(wheel, tmp_path / "c")["halfy"]], VerifyOptions(extra_channels=(base_channel,)))
    assert report.status == "fail" and "import halfy: ModuleNotFoundError: No module named 'nowhere_at_all'" in report.problems()


@pytest.mark.e2e
def test_convert_verify_publishes_when_only_an_extra_is_not_installable(tmp_path: Path, base_channel: Path, capsys) -> None:
    wheel = build_wheel(
        tmp_path / "w",
        "richy",
        "13.9.4",
        files={"richy/__init__.py": "X = 1\n"},
        requires_dist=['ipywidgetsy>=7.5.1; extra == "jupyter"'],
        metadata_fields=[("Provides-Extra", "jupyter")],
    )
    channel = tmp_path / "channel"
    code = main(["convert", str(wheel), "--channel", str(channel), "--verify", "-c", str(base_channel)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "WARN noarch/richy-with-jupyter-13.9.4-py_0.conda" in captured.out
    assert "not installable here: missing ipywidgetsy >=7.5.1" in captured.out
    assert (channel / "noarch" / "richy-13.9.4-py_0.conda").is_file()
    assert main(["verify", "--json", str(channel), "-c", str(base_channel)]) == 0  # the channel as published
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert {i["name"]: i["status"] for i in doc["items"]} == {"richy": "pass", "richy-with-jupyter": "not-installable"}


@pytest.mark.e2e
def test_vendored_dist_info_entry_points_are_not_the_packages(tmp_path: Path, base_channel: Path) -> None:
    """setuptools vendors wheel: setuptools/_vendor/wheel-0.45.1.dist-info/entry_points.txt names a 'wheel' script."""
    wheel = build_wheel(
        tmp_path / "w",
        "setuptoolsy",
        "75.0",
        files={
            "setuptoolsy/__init__.py": "",
            "setuptoolsy/_vendor/wheel/__init__.py": "",
            "setuptoolsy/_vendor/wheel-0.45.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: wheel\nVersion: 0.45.1\n",
            "setuptoolsy/_vendor/wheel-0.45.1.dist-info/entry_points.txt": "[console_scripts]\nwheel = wheel.cli:main\n",
        },
        entry_points={"distutils.commands": {"build": "setuptoolsy:build"}},
    )
    (report,) = verify_packages([_convert(wheel, tmp_path / "c")["setuptoolsy"]], VerifyOptions(extra_channels=(base_channel,)))
    assert report.status == "pass", report.problems()
    assert report.entry_points == []


@pytest.mark.e2e
@pytest.mark.parametrize("spec", ["torchy=*=*gfx103X*", "torchy[build=*gfx103X*]", "torchy=2.9.1=py*", "torchy 2.9.1 *gfx103X*"])
def test_verify_channel_takes_conda_specs(tmp_path: Path, base_channel: Path, spec: str, capsys) -> None:
    channel = tmp_path / "channel"
    for build in ("py_gfx103X_0", "py_gfx110X_0"):
        build_conda_package(
            channel / "noarch",
            {"name": "torchy", "version": "2.9.1", "build": build, "noarch": "python", "depends": ["python"]},
            {"site-packages/torchy/__init__.py": "X = 1\n"},
            link_json={"noarch": {"type": "python"}, "package_metadata_version": 1},
        )
    assert main(["index", "-q", str(channel)]) == 0
    capsys.readouterr()
    assert main(["verify", "--json", str(channel), spec, "-c", str(base_channel)]) == 0
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    (item,) = doc["items"]
    assert (item["name"], item["build"], item["status"]) == ("torchy", "py_gfx103X_0" if "gfx" in spec else item["build"], "pass")
