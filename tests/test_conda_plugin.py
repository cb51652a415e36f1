"""The conda plugin, held to conda 26's real plugin API.

``tests/data/conda_plugin_api.json`` records, from conda's source (github.com/conda/conda
26.7.1, read with :mod:`ast` by ``scripts/conda_plugin_api.py``), what ``conda.plugins`` and
``conda.plugins.types`` export, the keyword arguments of each plugin type and the hook names.
These tests fail if ``bridge/conda_plugin.py`` uses anything else, imports more than
``conda.plugins.hookimpl`` when conda loads it, or lets a hook raise into conda.  The hooks and
the subcommand then run against modules made from that record.  Running inside a real conda
26.7.1 (``conda create``, ``conda install``, ``conda wheel2conda``) is recorded in
``docs/conda.md``; it needs conda's source, which the test suite does not fetch.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import types
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import bridge.conda_plugin
from tests.support.jsondoc import validate
from tests.support.wheels import build_wheel

ROOT = Path(__file__).resolve().parents[1]
API = json.loads((ROOT / "tests" / "data" / "conda_plugin_api.json").read_text())
PLUGIN = ROOT / "bridge" / "conda_plugin.py"
TREE = ast.parse(PLUGIN.read_text())


def _conda_imports(nodes: list[ast.stmt]) -> Iterator[tuple[str, str]]:
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.ImportFrom) and sub.module and sub.module.split(".")[0] == "conda":
                yield from ((sub.module, alias.name) for alias in sub.names)
            elif isinstance(sub, ast.Import):
                yield from ((alias.name, "") for alias in sub.names if alias.name.split(".")[0] == "conda")


def _load_time(nodes: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run when the module is imported (function bodies do not)."""
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            yield from _load_time(getattr(node, field, []))


def test_the_record_is_conda_26() -> None:
    assert API["source"] == "https://github.com/conda/conda" and API["version"].startswith("26.") and len(API["commit"]) == 40
    assert API["modules"]["conda.plugins"] == {"hookimpl": None}  # conda 26: the types are not re-exported here
    assert {"CondaSubcommand", "CondaVirtualPackage"} <= set(API["modules"]["conda.plugins.types"])
    assert {"conda_subcommands", "conda_virtual_packages"} <= set(API["hooks"])


def test_plugin_uses_only_names_conda_26_has() -> None:
    for module, name in _conda_imports(TREE.body):
        assert module in API["modules"], f"bridge/conda_plugin.py imports {module}, which conda 26's plugin API does not offer"
        assert name in API["modules"][module], f"{module} has no {name} in conda {API['version']}"


def test_loading_imports_only_hookimpl() -> None:
    """At load time: the standard library and ``conda.plugins.hookimpl``; no wheel2conda module, no plugin type."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for node in _load_time(TREE.body):
        if isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] == "conda":
                assert (node.module, [a.name for a in node.names]) == ("conda.plugins", ["hookimpl"])
            else:
                assert node.level == 0 and node.module.split(".")[0] in stdlib, ast.unparse(node)
        elif isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in stdlib for a in node.names), ast.unparse(node)


def _hook_functions() -> list[ast.FunctionDef]:
    return [f for f in TREE.body if isinstance(f, ast.FunctionDef) and any(ast.unparse(d) == "hookimpl" for d in f.decorator_list)]


def test_every_hook_is_a_conda_26_hook_and_guarded() -> None:
    hooks = _hook_functions()
    assert [f.name for f in hooks] == [f.name for f in hooks if f.name in API["hooks"]], "a hook name conda 26 does not define (pluggy refuses the plugin)"
    assert "conda_subcommands" in {f.name for f in hooks}
    for f in hooks:  # the whole body is `yield from _guarded(builder)`: nothing can raise into conda
        assert [ast.unparse(s) for s in f.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))] == [f"yield from _guarded({f.body[-1].value.value.args[0].id})"], f.name


def test_plugin_types_get_only_their_conda_26_arguments() -> None:
    imported = {name for module, name in _conda_imports(TREE.body) if module == "conda.plugins.types"}
    calls = [n for n in ast.walk(TREE) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in imported]
    assert calls
    for call in calls:
        allowed = API["modules"]["conda.plugins.types"][call.func.id]
        assert not call.args, f"{call.func.id}: conda 26 takes keyword arguments"
        assert {k.arg for k in call.keywords} <= set(allowed), f"{call.func.id}({', '.join(k.arg for k in call.keywords)}): conda 26 takes {allowed}"


# -- the hooks, run against modules made from the record ----------------------------------------


def _plugin_type(name: str, arguments: list[str]) -> type:
    def __init__(self, **kwargs: object) -> None:
        unknown = set(kwargs) - set(arguments)
        if unknown:
            raise TypeError(f"{name}() got unexpected keyword arguments {sorted(unknown)}")
        self.__dict__.update(dict.fromkeys(arguments), **kwargs)

    return type(name, (), {"__init__": __init__})


@pytest.fixture
def conda26(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """``conda``, ``conda.plugins`` and ``conda.plugins.types`` with exactly the recorded names."""
    conda = types.ModuleType("conda")
    plugins = types.ModuleType("conda.plugins")
    plugins.hookimpl = lambda f: setattr(f, "conda_impl", {}) or f  # pluggy's marker sets an attribute, returns the function
    plugin_types = types.ModuleType("conda.plugins.types")
    for name, arguments in API["modules"]["conda.plugins.types"].items():
        if arguments is not None:
            setattr(plugin_types, name, _plugin_type(name, arguments))
    conda.plugins, plugins.types = plugins, plugin_types
    for module in (conda, plugins, plugin_types):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    yield importlib.reload(bridge.conda_plugin)
    monkeypatch.undo()
    importlib.reload(bridge.conda_plugin)


def test_entry_point_is_declared() -> None:
    (ep,) = [e for e in entry_points(group="conda") if e.name == "wheel2conda"]
    assert ep.value == "bridge.conda_plugin" and ep.load() is bridge.conda_plugin


def test_every_hook_is_marked_for_conda(conda26) -> None:
    for f in _hook_functions():
        assert getattr(conda26, f.name).conda_impl == {}


def test_subcommand_runs_the_cli(conda26, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sub,) = list(conda26.conda_subcommands())
    assert sub.name == "wheel2conda" and sub.summary and sub.configure_parser is None
    wheel = build_wheel(tmp_path, "demo", "1.0", files={"demo/__init__.py": ""})
    assert sub.action(("inspect", "--json", str(wheel))) == 0  # conda 26 passes the remaining argv as a tuple
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert doc["items"][0]["filename"] == "noarch/demo-1.0-py_0.conda"
    assert sub.action(("convert", "-q", "-o", str(tmp_path / "out"), str(wheel))) == 0
    assert (tmp_path / "out" / "noarch" / "demo-1.0-py_0.conda").is_file()


def test_exit_codes_are_returned_not_raised(conda26, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert conda26.run(("--help",)) == 0
    assert "usage: conda wheel2conda" in capsys.readouterr().out
    assert conda26.run(()) == 0  # bare `conda wheel2conda`: the help
    assert "usage: conda wheel2conda" in capsys.readouterr().out
    assert conda26.run(("convert", "--chanel", "x")) == 2
    err = capsys.readouterr().err
    assert "usage: conda wheel2conda convert" in err and "did you mean --channel?" in err
    assert conda26.run(("inspect", str(tmp_path / "missing.whl"))) == 2
    assert "wheel2conda: error:" in capsys.readouterr().err


def test_a_hook_that_cannot_build_yields_nothing(conda26, monkeypatch: pytest.MonkeyPatch) -> None:
    """A conda whose types changed: conda runs on without the subcommand instead of dying."""
    monkeypatch.delattr(sys.modules["conda.plugins.types"], "CondaSubcommand")
    assert list(conda26.conda_subcommands()) == []
    monkeypatch.setattr(sys.modules["conda.plugins.types"], "CondaSubcommand", _plugin_type("CondaSubcommand", ["name"]), raising=False)
    assert list(conda26.conda_subcommands()) == []  # summary/action refused: TypeError caught


def test_a_broken_install_is_reported_when_the_subcommand_runs(conda26, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "bridge.cli", None)  # `from .cli import main` raises ImportError
    assert conda26.run(("--version",)) == 1
    assert "conda wheel2conda: error: cannot load wheel2conda (ModuleNotFoundError" in capsys.readouterr().err


def test_without_conda_the_module_loads_and_registers_nothing_for_anyone() -> None:
    code = "import sys; sys.modules['conda'] = None; import bridge.conda_plugin as p; print(sorted(m for m in sys.modules if m.startswith(('bridge', 'conda'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "['bridge', 'bridge.conda_plugin', 'conda']"


def test_conda_loading_the_plugin_imports_nothing_else(tmp_path: Path) -> None:
    """With a ``conda.plugins`` on the path, loading the plugin imports no plugin type and no wheel2conda module."""
    (tmp_path / "conda" / "plugins").mkdir(parents=True)
    (tmp_path / "conda" / "__init__.py").write_text("")
    (tmp_path / "conda" / "plugins" / "__init__.py").write_text("def hookimpl(f):\n    return f\n")
    code = "import sys, bridge.conda_plugin; print(sorted(m for m in sys.modules if m.startswith(('bridge', 'conda', 'rattler', 'yaml'))))"
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout
    assert out.strip() == "['bridge', 'bridge.conda_plugin', 'conda', 'conda.plugins']"
