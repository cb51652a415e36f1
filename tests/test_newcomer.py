"""A new user's first hour, offline (issue 15 item 9): from a fresh clone, install the tool into a
fresh environment outside the checkout, run the README's quick start (the demo: build wheels,
convert, publish, install with a real client, run) and its "what the commands read" chain, and
check the user guide from the clone.

"A fresh clone" is the files git would hand out: tracked and not-ignored files of this checkout
(``git ls-files --cached --others --exclude-standard``), so a file the docs need but git does
not carry fails here.  The network is never reached: the fresh environment borrows the
dependencies of the test environment (a ``.pth`` to a folder of links to them, leaving out this
checkout's own editable install), and pip builds the clone with ``--no-build-isolation``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.wheels import build_wheel

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


def fresh_clone(dest: Path) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        source = ROOT / rel
        if source.is_file():  # a deleted-but-tracked file is not in a clone of the working tree either
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    return dest


def fresh_environment(dest: Path) -> Path:
    """A new venv whose only packages are the test environment's dependencies (no wheel2conda)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    deps = dest.parent / "deps"
    deps.mkdir()
    ours = sysconfig.get_paths()["purelib"]
    for entry in Path(ours).iterdir():
        if entry.name.startswith(("__editable__", "wheel2conda")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    python = dest / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "borrowed-deps.pth").write_text(f"{deps}\n")
    return dest


def run(argv: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environ.update(env or {})
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"$ {' '.join(map(str, argv))}\n{done.stdout}\n{done.stderr}"
    return done


def test_a_newcomer_installs_from_a_fresh_clone_and_follows_the_readme_and_the_guide(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path / "wheel2conda")
    venv = fresh_environment(tmp_path / "env")
    python, tool = venv / "bin" / "python", venv / "bin" / "wheel2conda"
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()

    # install outside the checkout, as the README says (pip install .), and use it from elsewhere
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", clone], cwd=tmp_path, env={"PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    shutil.rmtree(clone / "build", ignore_errors=True)
    where = run([python, "-c", "import bridge; print(bridge.__file__)"], cwd=elsewhere).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not a checkout
    assert run([tool, "--version"], cwd=elsewhere).stdout.startswith("wheel2conda ")

    # the quick start: make demo's script, run by the installed tool's interpreter
    demo = run([python, clone / "examples" / "demo.py"], cwd=clone, env={"WHEEL2CONDA_DEMO_WORK": str(tmp_path / "demo"), "WHEEL2CONDA_DEMO_CHANNEL": str(tmp_path / "channel")})
    assert "demo OK" in demo.stdout and "tinyattn 0.4.0+cu124: the cu124 build" in demo.stdout

    # README "What the commands read": each command takes what the last one wrote
    wheels = elsewhere / "wheels"
    build_wheel(wheels, "black", "25.1.0", files={"black/__init__.py": ""}, requires_dist=['aiohttp>=3.10; extra == "d"'], metadata_fields=[("Provides-Extra", "d")])
    build_wheel(wheels, "rich", "14.0.0", files={"rich/__init__.py": ""})
    out = run([tool, "convert", "-o", "out", "--extras", "none", "wheels"], cwd=elsewhere).stdout
    assert out.splitlines()[0] == "wheels: 2 wheels"
    out = run([tool, "publish", "out", "--channel", "channel"], cwd=elsewhere).stdout
    assert out.splitlines() == ["out: 2 conda packages (noarch 2)", "added     noarch/black-25.1.0-py_0.conda", "added     noarch/rich-14.0.0-py_0.conda"]
    out = run([tool, "to-wheel", "-o", "back", "channel"], cwd=elsewhere).stdout
    assert sorted(p.name for p in (elsewhere / "back").iterdir()) == ["black-25.1.0-py3-none-any.whl", "rich-14.0.0-py3-none-any.whl"]
    failed = subprocess.run([str(tool), "verify", "out"], cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert failed.returncode == 1 and "add --standin-python (offline: this interpreter stands in) or -c conda-forge" in failed.stderr
    assert "PASS noarch/rich-14.0.0-py_0.conda" in run([tool, "verify", "out", "--standin-python"], cwd=elsewhere).stdout  # the advice works

    # the user guide, checked from the clone (tests/test_guide.py checks it from this checkout)
    guide = run([python, "-m", "tests.support.guide"], cwd=clone)
    assert "problem" not in guide.stdout.lower(), guide.stdout
