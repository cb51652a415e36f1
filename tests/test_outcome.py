"""One outcome type and one reporter for convert, to-wheel, repack and recipes build (issue 16, item 4).

Every pipeline of those commands returns :class:`bridge.pipelines.outcome.Outcome` with its own
typed detail; their CLI modules report through :mod:`bridge.cli.report` and print no error line
and decide no exit status of their own.
"""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import pytest

import tests.support.gpu_wheels as gw
from bridge.cli.output import Output
from bridge.cli.report import Reporter, report
from bridge.core.errors import EXIT_OK, EXIT_PARTIAL, BadInput, Conflict
from bridge.pipelines.convert import ConvertDetail, convert_all, convert_rocm_meta, convert_wheel
from bridge.pipelines.outcome import Outcome
from bridge.pipelines.repack import RepackDetail, repack
from bridge.pipelines.to_wheel import WheelDetail, convert_to_wheel, fold_extras, to_wheel
from bridge.plan.types import ConversionOptions
from bridge.recipes.build import BuildDetail, build
from bridge.recipes.config import load_config
from bridge.recipes.http import Http
from bridge.recipes.regenerate import regenerate
from bridge.sources.installed import EnvironmentLayout
from tests.support.conda_env import HOST_PY
from tests.support.wheels import build_wheel

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "bridge" / "cli"
COMMANDS = ("convert.py", "towheel.py", "repack.py", "recipes.py")


def test_every_pipeline_returns_the_one_outcome_type(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    pure = build_wheel(wheels, "purepkg", "1.0", files={"purepkg/__init__.py": "X = 1\n"})
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")

    def check(outcome: object, detail: type, ok: bool) -> None:
        assert type(outcome) is Outcome, type(outcome)
        assert isinstance(outcome, Outcome) and type(outcome.detail) is detail and outcome.ok is ok, outcome

    converted = convert_wheel(pure, tmp_path / "out", ConversionOptions())
    check(converted, ConvertDetail, True)
    assert converted.input == pure and converted.outputs and len(converted.detail.packages) == len(converted.outputs)
    for outcome, ok in zip(convert_all([pure, bad], tmp_path / "all", ConversionOptions()), (True, False)):
        check(outcome, ConvertDetail, ok)
    check(convert_rocm_meta(gw.rocm_sdist(tmp_path / "sdist"), tmp_path / "meta", ConversionOptions()), ConvertDetail, True)
    check(convert_rocm_meta(None, tmp_path / "meta", ConversionOptions(), version=gw.ROCM), ConvertDetail, False)  # no sdist: no GPU family

    wheel = to_wheel(converted.outputs[0], tmp_path / "wheels-back")
    check(wheel, WheelDetail, True)
    assert wheel.outputs[0].name == pure.name and wheel.detail.tags == ["py3-none-any"]
    refused = convert_to_wheel(bad, tmp_path / "wheels-back")
    check(refused, WheelDetail, False)
    assert isinstance(refused.error, BadInput) and not refused.outputs
    fold_extras([wheel, refused])  # nothing to fold: unchanged
    assert wheel.detail.folded_into is None and refused.detail.folded_into is None

    site = tmp_path / "env" / "lib" / f"python{HOST_PY}" / "site-packages"
    with zipfile.ZipFile(pure) as zf:
        zf.extractall(site)
    repacked, missing = repack(["purepkg", "nosuch"], EnvironmentLayout.from_site_packages(site), tmp_path / "repacked")
    check(repacked, RepackDetail, True)
    check(missing, RepackDetail, False)
    assert repacked.label == "purepkg" and repacked.outputs[0].name == pure.name and repacked.detail.dist is not None

    config = tmp_path / "recipes" / "sources.yaml"
    config.parent.mkdir()
    config.write_text(f"sources:\n  - name: local\n    index: {wheels}\n    versions: {{policy: release, keep: 1}}\n    packages: [purepkg]\n")
    assert not regenerate(load_config(config), Http()).errors
    channel = tmp_path / "channel"
    (built,) = build(config.parent, channel, Http(), cache_dir=tmp_path / "cache")
    check(built, BuildDetail, True)
    assert built.input == "purepkg/local/1.0" and built.detail.status == "built"
    assert [p.relative_to(channel).as_posix() for p in built.outputs] == ["noarch/purepkg-1.0-py_0.conda"] and all(p.is_file() for p in built.outputs)
    (unchanged,) = build(config.parent, channel, Http(), cache_dir=tmp_path / "cache")
    check(unchanged, BuildDetail, True)
    assert unchanged.detail.status == "unchanged" and unchanged.outputs == built.outputs


def test_the_old_outcome_types_are_gone() -> None:
    import bridge.pipelines.convert
    import bridge.pipelines.repack
    import bridge.pipelines.to_wheel
    import bridge.recipes.build

    for module, name in (
        (bridge.pipelines.convert, "Converted"),
        (bridge.pipelines.to_wheel, "WheelResult"),
        (bridge.pipelines.repack, "Repacked"),
        (bridge.recipes.build, "BuildItem"),
        (bridge.recipes.build, "BuildReport"),
    ):
        assert not hasattr(module, name), f"{module.__name__}.{name}"


def _calls(tree: ast.AST, name: str) -> list[int]:
    """Lines that call ``name(...)`` or ``<anything>.name(...)``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)
    ]


@pytest.mark.parametrize("module", COMMANDS)
def test_the_commands_report_through_the_one_reporter(module: str) -> None:
    """Each command module imports ``cli.report``, defines no ``report`` of its own and decides no exit
    status itself; only ``recipes regenerate`` (no outcomes) prints its own error lines."""
    tree = ast.parse((CLI / module).read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module == "report"]
    assert imports and {a.name for n in imports for a in n.names} & {"Reporter", "report"}, module
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert "report" not in functions, f"{module} defines its own report()"
    assert not _calls(tree, "exit_code_for"), f"{module} decides its exit status itself"
    checked = [f for name, f in functions.items() if name != "run_regenerate"]
    assert not [line for f in checked for line in _calls(f, "fail")], f"{module} prints its own error lines"


def test_the_reporter_prints_lines_then_the_error_and_decides_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    def render(out: Output, outcome: Outcome[str]) -> list[dict[str, str]]:
        out.info(f"{outcome.label}: {outcome.detail}")
        return [] if outcome.error is not None else [{"input": outcome.label}]

    ok = Outcome("a", "fine")
    bad = Outcome(Path("/x/b.whl"), "broken", error=BadInput("/x/b.whl", "not a zip"))
    skipped = Outcome("c", "skipped", error=Conflict("c", "failed before"))

    out = Output("convert")
    assert report(out, [ok, bad], render) == EXIT_PARTIAL
    captured = capsys.readouterr()
    assert captured.out == "a: fine\nb.whl: broken\n"
    assert captured.err == "wheel2conda: error: /x/b.whl: not a zip\n"
    assert out.items == [{"input": "a"}] and [e["kind"] for e in out.errors] == ["BadInput"]

    assert report(Output("convert", quiet=True), [bad], render) == BadInput.exit_code  # all failed: their own code
    assert report(Output("convert"), [ok], render) == EXIT_OK
    assert report(Output("convert"), [], render) == EXIT_OK

    reporter = Reporter(Output("recipes build", json=True), render, failure=lambda o: None if o.detail == "skipped" else o.error)
    reporter(ok)
    reporter(skipped)
    assert reporter.exit_code() == EXIT_OK and not reporter.out.errors  # reported, not failed
