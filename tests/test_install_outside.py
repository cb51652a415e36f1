"""Installing wheel2conda outside the checkout, as the README says, without the network.

The wheel is built from a copy of the sources (``pip wheel --no-deps``, as the README does);
its dependencies come from this test environment through ``wheel2conda repack`` (wheels of
what is installed here) instead of ``pip download``.  Then:

* pip installs the built wheel into a fresh venv, and ``wheel2conda`` and
  ``python -m bridge`` run there;
* the tool converts its own wheel and its dependencies into a local channel, py-rattler
  installs ``wheel2conda`` from it into a fresh prefix (with the stand-in python), and
  ``wheel2conda`` converts a wheel there.

The same flow with real conda 26 and PyPI downloads is ``scripts/conda-self-install.sh``,
recorded in ``docs/conda.md``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bridge import __version__
from bridge.cli import main
from tests.support.conda_env import HOST_PY, build_base_channel, install, run_in_prefix
from tests.support.wheels import build_wheel

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def runtime_requirements(name: str) -> list[str]:
    """Every distribution ``name`` needs at run time here (markers evaluated, no extras), itself left out."""
    seen: dict[str, None] = {}
    todo = [name]
    while todo:
        dist = distribution(todo.pop())
        for text in dist.requires or []:
            req = Requirement(text)
            if (req.marker is None or req.marker.evaluate({"extra": ""})) and canonicalize_name(req.name) not in seen:
                seen[canonicalize_name(req.name)] = None
                todo.append(req.name)
    return sorted(seen)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wheel2conda's wheel (built from a copy of the sources) and a wheel of each of its dependencies."""
    work = tmp_path_factory.mktemp("outside")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "bridge", src / "bridge", ignore=shutil.ignore_patterns("__pycache__"))
    out = work / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out), str(src)]
    subprocess.run(build, check=True, cwd=work, capture_output=True)
    assert [p.name for p in out.iterdir()] == [f"wheel2conda-{__version__}-py3-none-any.whl"]
    assert main(["repack", "-q", "--python", sys.executable, "-o", str(out), *runtime_requirements("wheel2conda")]) == 0
    return out


def test_pip_installs_the_built_wheel_into_a_fresh_venv(wheels: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--find-links", str(wheels), "wheel2conda"]
    subprocess.run(pip, check=True, capture_output=True)
    for argv in ([str(venv / "bin" / "wheel2conda"), "--version"], [str(python), "-m", "bridge", "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, f"wheel2conda {__version__}\n"), done.stderr
    where = subprocess.run([str(python), "-c", "import bridge; print(bridge.__file__)"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert where.stdout.startswith(str(venv)), where.stdout


def test_the_tool_converts_itself_and_installs_from_its_channel(wheels: Path, tmp_path: Path) -> None:
    channel, pychan, prefix = tmp_path / "channel", tmp_path / "pychan", tmp_path / "env"
    assert main(["convert", "-q", "--zstd-level", "1", "--channel", str(channel), str(wheels)]) == 0
    build_base_channel(pychan)
    records = install([channel, pychan], ["wheel2conda", f"python {HOST_PY}.*"], prefix)
    assert {r.name.normalized for r in records} >= {"wheel2conda", "py-rattler", "zstandard", "pyyaml", "python"}
    for argv in (["wheel2conda", "--version"], ["python", "-m", "bridge", "--version"]):
        done = run_in_prefix(prefix, *argv, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, f"wheel2conda {__version__}\n"), done.stderr
    where = run_in_prefix(prefix, "python", "-c", "import bridge; print(bridge.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(prefix)), where.stdout + where.stderr
    wheel = build_wheel(tmp_path / "in", "demo", "1.0", files={"demo/__init__.py": ""})
    done = run_in_prefix(prefix, "wheel2conda", "convert", "-o", str(tmp_path / "out"), str(wheel), cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "out" / "noarch" / "demo-1.0-py_0.conda").is_file(), done.stderr


def test_no_doc_installs_the_pypi_name() -> None:
    """``wheel2conda`` on PyPI is an unrelated project: the docs install a path or a built wheel."""
    by_name = re.compile(r"\b(?:pip|pipx|uv pip)\s+install\s+(?:-\S+\s+)*[\"']?wheel2conda\b(?![-\w./])")
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            assert not by_name.search(line) or "unrelated" in line or "another project" in line, f"{doc.name}:{number}: {line}"
