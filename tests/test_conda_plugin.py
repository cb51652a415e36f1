"""The conda plugin, against a stub of ``conda.plugins`` (no modern conda installs from PyPI).

What a real conda does with it (load the ``conda`` entry point, call ``conda_subcommands``,
run the action with the arguments after ``conda wheel2conda``) is reproduced here; running it
inside a real conda is not.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import bridge.conda_plugin
from tests.support.jsondoc import validate
from tests.support.wheels import build_wheel


@dataclass
class CondaSubcommand:  # the fields conda's type has (conda >= 23.3)
    name: str
    summary: str
    action: Callable
    configure_parser: Callable | None = None


@pytest.fixture
def with_conda(monkeypatch: pytest.MonkeyPatch):
    conda = types.ModuleType("conda")
    plugins = types.ModuleType("conda.plugins")
    plugins.hookimpl = lambda f: setattr(f, "conda_hookimpl", True) or f  # pluggy marks, then returns the function
    plugins.CondaSubcommand = CondaSubcommand
    conda.plugins = plugins
    monkeypatch.setitem(sys.modules, "conda", conda)
    monkeypatch.setitem(sys.modules, "conda.plugins", plugins)
    yield importlib.reload(bridge.conda_plugin)
    monkeypatch.undo()
    importlib.reload(bridge.conda_plugin)


def test_entry_point_is_declared() -> None:
    (ep,) = [e for e in entry_points(group="conda") if e.name == "wheel2conda"]
    assert ep.value == "bridge.conda_plugin" and ep.load() is bridge.conda_plugin


def test_without_conda_nothing_is_registered() -> None:
    if importlib.util.find_spec("conda") is not None:
        pytest.skip("a real conda is installed here")
    module = importlib.reload(bridge.conda_plugin)
    assert module.plugins is None and not hasattr(module, "conda_subcommands")


def test_subcommand_runs_the_cli(with_conda, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sub,) = list(with_conda.conda_subcommands())
    assert with_conda.conda_subcommands.conda_hookimpl
    assert sub.name == "wheel2conda" and sub.summary and sub.configure_parser is None
    wheel = build_wheel(tmp_path, "demo", "1.0", files={"demo/__init__.py": ""})
    assert sub.action(("inspect", "--json", str(wheel))) == 0  # conda passes the remaining argv
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert doc["items"][0]["filename"] == "noarch/demo-1.0-py_0.conda"
    assert sub.action(["convert", "-q", "-o", str(tmp_path / "out"), str(wheel)]) == 0
    assert (tmp_path / "out" / "noarch" / "demo-1.0-py_0.conda").is_file()


def test_exit_codes_are_returned_not_raised(with_conda, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert with_conda.run(["--help"]) == 0
    assert "usage: conda wheel2conda" in capsys.readouterr().out
    assert with_conda.run(["convert"]) == 2  # a usage error
    assert "conda wheel2conda convert: error:" in capsys.readouterr().err
    assert with_conda.run(["inspect", str(tmp_path / "missing.whl")]) == 2
    assert "wheel2conda: error:" in capsys.readouterr().err
